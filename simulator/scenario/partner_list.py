"""Today's channel from the vendor's own partner list (``channel.partner_list``).

A CSV, Parquet or Excel file with one row per current partner:

| column | meaning |
|---|---|
| ``partner_id`` | the partner's key (unique) |
| ``segment`` | one of ``market.segments`` |
| ``state`` | ``signed``, ``active``, ``collaborating`` or ``dormant`` |
| ``run_rate`` | monthly revenue now (>= 0; what a dormant partner earns when it comes back) |
| ``months_since_signing`` | for signed partners: months of the activation window already used |
| ``revenue_t12m`` | optional: revenue of the last 12 months, so trailing figures start from the real history |
| ``tier`` | optional: the partner's program tier |

Column names are matched case-insensitively and text is trimmed; unknown columns are ignored. The list
is read once, when the scenario is loaded, into columns of plain values, so a scenario carries its
partners with it (to worker processes and Dask workers too) and its fingerprint changes when they do.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import ScenarioError

REQUIRED = ("partner_id", "segment", "state", "run_rate")
OPTIONAL = ("months_since_signing", "revenue_t12m", "tier")
LIST_STATES = ("signed", "active", "collaborating", "dormant")
MAX_ROWS = 5_000_000
MAX_FILE_BYTES = 500_000_000
KEY = "channel.partner_list"
PROSPECT_KEY = "market.prospect_list"
PROSPECT_REQUIRED = ("prospect_id", "segment", "fit_score")


def read_partner_list(path: str | Path) -> dict[str, list[Any]]:
    """The partner list file as columns of plain values, checked row by row (one-line errors)."""
    return partner_columns(read_table(path, KEY, "partners"), str(path))


def read_prospect_list(path: str | Path) -> dict[str, list[Any]]:
    """The prospect list file (``market.prospect_list``) as checked columns."""
    return prospect_columns(read_table(path, PROSPECT_KEY, "prospects"), str(path))


def read_table(path: str | Path, key: str, sheet: str) -> Any:
    """A CSV, Parquet or Excel table (the sheet named ``sheet``, else the first) as a DataFrame."""
    import pandas as pd

    p = Path(path)
    what = key.rsplit(".", 1)[-1].replace("_", " ")
    if not p.exists():
        raise ScenarioError(f"{what} not found: {p}", key)
    if not p.is_file():
        raise ScenarioError(f"{p} is not a regular file; give a CSV, Parquet or Excel file", key)
    if p.stat().st_size > MAX_FILE_BYTES:
        raise ScenarioError(f"{p} is {p.stat().st_size / 1e6:.0f} MB; a {what} may be at most 500 MB", key)
    suffix = p.suffix.lower()
    try:
        if suffix == ".csv":
            frame = pd.read_csv(p, dtype=str, keep_default_na=False, skipinitialspace=True)
        elif suffix in (".parquet", ".pq"):
            frame = pd.read_parquet(p)
        elif suffix in (".xlsx", ".xlsm"):
            sheets = pd.read_excel(p, sheet_name=None, dtype=str, keep_default_na=False, engine="openpyxl")
            named = {str(k).strip().lower(): v for k, v in sheets.items()}
            frame = named.get(sheet, next(iter(sheets.values())) if sheets else pd.DataFrame())
        else:
            raise ScenarioError(f"{p}: unknown file type {suffix!r}; use .csv, .parquet or .xlsx", key)
    except ScenarioError:
        raise
    except Exception as exc:  # noqa: BLE001 - any unreadable file is reported the same way, in one line
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ScenarioError(f"{p} cannot be read as a {suffix[1:]} table ({first[:120]})", key) from None
    return frame.rename(columns={c: str(c).strip().lower() for c in frame.columns})


def partner_columns(frame: Any, source: str = "the partner list") -> dict[str, list[Any]]:
    """Check a table of partners and return its columns as plain Python lists."""
    frame = frame.rename(columns={c: str(c).strip().lower() for c in frame.columns})
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise ScenarioError(
            f"{source} has no column {missing[0]!r}; a partner list needs {', '.join(REQUIRED)}"
            f" (optional: {', '.join(OPTIONAL)})",
            KEY,
        )
    if len(frame) == 0:
        raise ScenarioError(f"{source} has no rows; list at least one partner, or give channel counts instead", KEY)
    if len(frame) > MAX_ROWS:
        raise ScenarioError(f"{source} has {len(frame):,} rows; at most {MAX_ROWS:,} partners", KEY)
    out: dict[str, list[Any]] = {"partner_id": [], "segment": [], "state": [], "run_rate": []}
    has = {c: c in frame.columns for c in OPTIONAL}
    for c in OPTIONAL:
        if has[c]:
            out[c] = []
    seen: dict[str, int] = {}
    for i, row in enumerate(frame.to_dict("records")):
        line = i + 2  # the header is line 1 of a CSV file
        pid = _text(row["partner_id"])
        if not pid:
            raise ScenarioError(f"{source} row {line}: partner_id is empty", KEY)
        if pid in seen:
            raise ScenarioError(
                f"{source} row {line}: partner_id {pid!r} appears twice (first on row {seen[pid]})", KEY
            )
        seen[pid] = line
        state = _text(row["state"]).lower()
        if state not in LIST_STATES:
            raise ScenarioError(
                f"{source} row {line}: state {_text(row['state'])[:40]!r} is not one of {', '.join(LIST_STATES)}", KEY
            )
        out["partner_id"].append(pid)
        out["segment"].append(_text(row["segment"]).lower())
        out["state"].append(state)
        out["run_rate"].append(_amount(row["run_rate"], "run_rate", source, line))
        if has["months_since_signing"]:
            raw = row["months_since_signing"]
            if _blank(raw):
                months = None
            else:
                months = _amount(raw, "months_since_signing", source, line)
                if months != int(months) or months > 600:
                    raise ScenarioError(
                        f"{source} row {line}: months_since_signing {raw!r} must be a whole number of months 0-600",
                        KEY,
                    )
                months = int(months)
            if state == "signed" and months is None:
                raise ScenarioError(f"{source} row {line}: a signed partner needs months_since_signing", KEY)
            out["months_since_signing"].append(months)
        elif state == "signed":
            raise ScenarioError(
                f"{source} row {line}: a signed partner needs months_since_signing (add the column)", KEY
            )
        if has["revenue_t12m"]:
            raw = row["revenue_t12m"]
            out["revenue_t12m"].append(None if _blank(raw) else _amount(raw, "revenue_t12m", source, line))
        if has["tier"]:
            out["tier"].append(_text(row["tier"]) or None)
    return out


def prospect_columns(frame: Any, source: str = "the prospect list") -> dict[str, list[Any]]:
    """Check a table of prospects (``prospect_id``, ``segment``, ``fit_score``) and return its columns."""
    frame = frame.rename(columns={c: str(c).strip().lower() for c in frame.columns})
    missing = [c for c in PROSPECT_REQUIRED if c not in frame.columns]
    if missing:
        raise ScenarioError(
            f"{source} has no column {missing[0]!r}; a prospect list needs {', '.join(PROSPECT_REQUIRED)}",
            PROSPECT_KEY,
        )
    if len(frame) > MAX_ROWS:
        raise ScenarioError(f"{source} has {len(frame):,} rows; at most {MAX_ROWS:,} prospects", PROSPECT_KEY)
    out: dict[str, list[Any]] = {"prospect_id": [], "segment": [], "fit_score": []}
    seen: dict[str, int] = {}
    for i, row in enumerate(frame.to_dict("records")):
        line = i + 2
        pid = _text(row["prospect_id"])
        if not pid:
            raise ScenarioError(f"{source} row {line}: prospect_id is empty", PROSPECT_KEY)
        if pid in seen:
            raise ScenarioError(
                f"{source} row {line}: prospect_id {pid!r} appears twice (first on row {seen[pid]})", PROSPECT_KEY
            )
        seen[pid] = line
        try:
            score = float(str(row["fit_score"]).strip())
        except ValueError:
            score = math.nan
        if not math.isfinite(score) or abs(score) > 1e12:
            raise ScenarioError(
                f"{source} row {line}: fit_score {str(row['fit_score'])[:40]!r} must be a finite number", PROSPECT_KEY
            )
        out["prospect_id"].append(pid)
        out["segment"].append(_text(row["segment"]).lower())
        out["fit_score"].append(score)
    return out


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or str(value).strip() == ""


def _text(value: Any) -> str:
    return "" if _blank(value) else str(value).strip()


def _amount(value: Any, column: str, source: str, line: int) -> float:
    """A finite amount >= 0 (money or months), refused with its row otherwise."""
    try:
        x = float(str(value).strip().replace(",", "")) if not isinstance(value, int | float) else float(value)
    except ValueError:
        x = math.nan
    if not math.isfinite(x) or x < 0 or x > 1e12:
        shown = str(value)[:40]
        raise ScenarioError(f"{source} row {line}: {column} {shown!r} must be a finite number from 0 to 1e12", KEY)
    return x


def list_rows(columns: Mapping[str, Any]) -> int:
    return len(columns["partner_id"])
