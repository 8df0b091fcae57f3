"""Reading a partner export (EXPORT.md) and checking it before any work.

An export is a folder of ``<table>.csv`` / ``<table>.parquet`` files or one
``.xlsx`` workbook with a sheet per table. Column names are matched
case-insensitively and unknown columns are listed once. What makes the data
unusable (a missing table or column, an empty or oversized file, an
unparseable date or number, a key used twice with different values) stops
with one :class:`~simulator.errors.ChannelError` line naming the table, the
row and the value. What can be set aside (an exact duplicate row, a negative
credit note, revenue after offboarding, a partner missing from ``partners``,
a first deal dated before onboarding) is set aside and counted in
:attr:`Export.set_aside`, never dropped silently.

Rows are numbered as a spreadsheet shows them: the header is row 1, so the
first data row is row 2.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import ChannelError

MAX_FILE_BYTES = 100_000_000  # a PRM export table above 100 MB is refused before it is read
#: Columns per table: required, then optional (EXPORT.md).
TABLES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "partners": (("partner_id", "segment", "onboarded"), ("first_deal", "offboarded", "tier")),
    "revenue": (("partner_id", "month", "revenue"), ()),
    "prospects": (
        ("prospect_id", "segment", "outcome"),
        ("fit_score", "nurture_start", "outcome_date", "partner_id"),
    ),
    "collaboration": (("partner_id", "month"), ()),
}
REQUIRED_TABLES = ("partners", "revenue")
OUTCOMES = ("signed", "lost", "open")
SEGMENT_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_EXAMPLES = 5  # rows quoted per kind of problem in the report


@dataclass
class SetAside:
    """Rows of one table set aside for one reason."""

    table: str
    reason: str
    rows: list[int]
    values: list[str]

    @property
    def count(self) -> int:
        return len(self.rows)

    def describe(self) -> str:
        shown = ", ".join(f"row {r} ({v})" for r, v in zip(self.rows[:_EXAMPLES], self.values[:_EXAMPLES], strict=True))
        more = f" and {self.count - _EXAMPLES} more" if self.count > _EXAMPLES else ""
        return f"{self.table}: {self.count} {'row' if self.count == 1 else 'rows'} {self.reason}: {shown}{more}"


@dataclass
class Export:
    """The checked tables of an export, with what was set aside and why.

    ``partners``: partner_id, segment, onboarded, first_deal, offboarded, tier
    (dates as ``datetime64``, NaT when empty); ``revenue``: partner_id, month
    (``Period[M]``), revenue; ``prospects`` and ``collaboration`` when given.
    """

    source: Path
    partners: pd.DataFrame
    revenue: pd.DataFrame
    prospects: pd.DataFrame | None = None
    collaboration: pd.DataFrame | None = None
    set_aside: list[SetAside] = field(default_factory=list)
    unknown_columns: dict[str, list[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def first_month(self) -> pd.Period:
        """First month of the revenue history."""
        return self.revenue["month"].min()

    @property
    def last_month(self) -> pd.Period:
        return self.revenue["month"].max()

    def cut(self, as_of: pd.Timestamp) -> Export:
        """The export as it stood at the end of ``as_of``'s month: nothing dated later is known."""
        end = pd.Timestamp(as_of).to_period("M").to_timestamp(how="end").normalize()
        month = pd.Timestamp(as_of).to_period("M")
        p = self.partners[self.partners["onboarded"] <= end].copy()
        for col in ("first_deal", "offboarded"):
            p.loc[p[col] > end, col] = pd.NaT
        revenue = self.revenue[(self.revenue["month"] <= month) & self.revenue["partner_id"].isin(p["partner_id"])]
        prospects = None
        if self.prospects is not None:
            pr = self.prospects[
                self.prospects["nurture_start"].isna() | (self.prospects["nurture_start"] <= end)
            ].copy()
            later = pr["outcome_date"] > end
            pr.loc[later, "outcome"] = "open"
            pr.loc[later, ["outcome_date"]] = pd.NaT
            pr.loc[later, "partner_id"] = ""
            prospects = pr
        collab = None
        if self.collaboration is not None:
            collab = self.collaboration[self.collaboration["month"] <= month]
        return Export(
            source=self.source,
            partners=p.reset_index(drop=True),
            revenue=revenue.reset_index(drop=True),
            prospects=prospects,
            collaboration=collab,
            set_aside=list(self.set_aside),
            unknown_columns=dict(self.unknown_columns),
            notes=[*self.notes, f"cut at {month}: later events are unknown"],
        )


# -- reading -----------------------------------------------------------------------


def read_export(source: str | Path) -> Export:
    """Read and check an export folder or workbook (see the module docstring)."""
    path = Path(source)
    if not path.exists():
        raise ChannelError(f"export not found: {path} (give a folder of CSV/Parquet tables or an .xlsx workbook)")
    raw = _read_workbook(path) if path.is_file() else _read_folder(path)
    for table in REQUIRED_TABLES:
        if table not in raw:
            raise ChannelError(
                f"{path}: the {table} table is missing (a {table}.csv or {table}.parquet file, or a sheet "
                f"named {table}); EXPORT.md lists the tables"
            )
    unknown: dict[str, list[str]] = {}
    frames: dict[str, pd.DataFrame] = {}
    for table, frame in raw.items():
        frames[table], extra = _columns(table, frame, path)
        if extra:
            unknown[table] = extra
    aside: list[SetAside] = []
    partners = _partners(frames["partners"], aside)
    revenue = _revenue(frames["revenue"], partners, aside)
    prospects = _prospects(frames["prospects"], partners, aside) if "prospects" in frames else None
    collaboration = _collaboration(frames["collaboration"], partners, aside) if "collaboration" in frames else None
    return Export(
        source=path,
        partners=partners,
        revenue=revenue,
        prospects=prospects,
        collaboration=collaboration,
        set_aside=[a for a in aside if a.count],
        unknown_columns=unknown,
    )


def _check_size(file: Path) -> None:
    size = file.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ChannelError(
            f"{file} is {size / 1e6:,.0f} MB; an export table may be at most {MAX_FILE_BYTES / 1e6:.0f} MB "
            "(split the history or export Parquet)"
        )
    if size == 0:
        raise ChannelError(f"{file} is empty; a table needs a header row and at least one row")


def _read_folder(folder: Path) -> dict[str, pd.DataFrame]:
    out: dict[str, pd.DataFrame] = {}
    for table in TABLES:
        found = [f for f in folder.iterdir() if f.is_file() and f.stem.lower() == table]
        found = [f for f in found if f.suffix.lower() in (".csv", ".parquet")]
        if len(found) > 1:
            raise ChannelError(
                f"{folder}: {table} is given twice ({', '.join(sorted(f.name for f in found))}); keep one"
            )
        if not found:
            continue
        file = found[0]
        _check_size(file)
        try:
            if file.suffix.lower() == ".csv":
                frame = pd.read_csv(file, dtype=str, keep_default_na=False, skipinitialspace=True)
            else:
                frame = pd.read_parquet(file)
        except (ValueError, OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise ChannelError(f"{file}: cannot be read as {file.suffix[1:].upper()} ({first})") from None
        out[table] = _named(frame, file)
    return out


def _read_workbook(book: Path) -> dict[str, pd.DataFrame]:
    if book.suffix.lower() != ".xlsx":
        raise ChannelError(f"{book}: an export is a folder of CSV/Parquet tables or an .xlsx workbook")
    _check_size(book)
    try:
        sheets = pd.read_excel(book, sheet_name=None, dtype=object, engine="openpyxl")
    except (ValueError, OSError, KeyError) as exc:
        raise ChannelError(f"{book}: cannot be read as an Excel workbook ({str(exc).splitlines()[0]})") from None
    out = {}
    for name, frame in sheets.items():
        table = str(name).strip().lower()
        if table in TABLES:
            out[table] = _named(frame, Path(f"{book}[{name}]"))
    return out


def _named(frame: pd.DataFrame, where: Path) -> pd.DataFrame:
    frame.attrs["where"] = str(where)
    return frame


def _columns(table: str, frame: pd.DataFrame, path: Path) -> tuple[pd.DataFrame, list[str]]:
    where = frame.attrs.get("where", f"{path}:{table}")
    required, optional = TABLES[table]
    names = {str(c).strip().lower(): c for c in frame.columns}
    missing = [c for c in required if c not in names]
    if missing:
        raise ChannelError(
            f"{where}: column {missing[0]!r} is missing; {table} needs {', '.join(required)}"
            + (f" (optional: {', '.join(optional)})" if optional else "")
        )
    if len(frame) == 0:
        raise ChannelError(f"{where}: has a header but no rows")
    known = [c for c in (*required, *optional) if c in names]
    unknown = [str(names[c]) for c in names if c not in known]
    out = pd.DataFrame({c: frame[names[c]] for c in known})
    for c in optional:
        if c not in out:
            out[c] = ""
    out.attrs["where"] = where
    out.index = np.arange(2, len(out) + 2)  # spreadsheet rows: the header is row 1
    return out, unknown


def _text(series: pd.Series) -> pd.Series:
    return series.map(lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)).str.strip()


def _dates(frame: pd.DataFrame, column: str, *, required: bool) -> pd.Series:
    raw = frame[column]
    if pd.api.types.is_datetime64_any_dtype(raw):
        parsed = pd.to_datetime(raw).dt.tz_localize(None) if getattr(raw.dt, "tz", None) else pd.to_datetime(raw)
        text = raw.astype(str)
    else:
        text = _text(raw)
        parsed = pd.to_datetime(text.where(text != ""), format="ISO8601", errors="coerce")
    bad = parsed.isna() & (text.str.strip() != "") & (text != "NaT")
    if required:
        bad |= parsed.isna()
    if bad.any():
        row = bad.idxmax()
        shown = text[row] or "empty"
        raise ChannelError(
            f"{frame.attrs['where']}: row {row}: {column} = {shown!r} is not a date; dates are YYYY-MM-DD"
        )
    return parsed.dt.normalize()


def _months(frame: pd.DataFrame, column: str) -> pd.Series:
    raw = frame[column]
    if pd.api.types.is_datetime64_any_dtype(raw):
        parsed, text = pd.to_datetime(raw), raw.astype(str)
    else:
        text = _text(raw)
        parsed = pd.to_datetime(text.where(text != ""), format="ISO8601", errors="coerce")
    if parsed.isna().any():
        row = parsed.isna().idxmax()
        raise ChannelError(
            f"{frame.attrs['where']}: row {row}: {column} = {text[row] or 'empty'!r} is not a month; months are YYYY-MM"
        )
    return parsed.dt.to_period("M")


def _numbers(frame: pd.DataFrame, column: str, *, required: bool) -> pd.Series:
    raw = frame[column]
    text = _text(raw)
    values = pd.to_numeric(text.where(text != "").str.replace(",", "", regex=False), errors="coerce")
    bad = values.isna() & (text != "") if not required else values.isna()
    bad |= ~np.isfinite(values.fillna(0.0))
    if bad.any():
        row = bad.idxmax()
        raise ChannelError(f"{frame.attrs['where']}: row {row}: {column} = {text[row] or 'empty'!r} is not a number")
    return values.astype(float)


def _keys(frame: pd.DataFrame, column: str) -> pd.Series:
    keys = _text(frame[column])
    if (keys == "").any():
        row = (keys == "").idxmax()
        raise ChannelError(f"{frame.attrs['where']}: row {row}: {column} is empty; every row needs its key")
    return keys


def segment_name(text: str) -> str:
    """A segment as the scenario names it: lower case, spaces and dashes as ``_`` ("Value Added-Reseller ")."""
    return re.sub(r"[\s\-]+", "_", text.strip().lower())


def _segments(frame: pd.DataFrame) -> pd.Series:
    seg = _text(frame["segment"]).map(segment_name)
    bad = ~seg.map(lambda s: bool(SEGMENT_NAME.match(s)))
    if bad.any():
        row = bad.idxmax()
        raise ChannelError(
            f"{frame.attrs['where']}: row {row}: segment = {frame['segment'][row]!r} cannot name a segment; "
            "use letters, digits, spaces or _ and start with a letter"
        )
    return seg


def _aside(aside: list[SetAside], table: str, reason: str, mask: pd.Series, values: pd.Series) -> None:
    rows = [int(r) for r in mask.index[mask.to_numpy()]]
    aside.append(SetAside(table, reason, rows, [str(v) for v in values[mask.to_numpy()]]))


def _duplicates(frame: pd.DataFrame, keys: list[str], table: str, aside: list[SetAside]) -> pd.DataFrame:
    """Set aside exact duplicate rows; refuse a key used twice with different values."""
    exact = frame.astype(str).duplicated(keep="first")
    _aside(aside, table, "set aside as exact duplicates of an earlier row", exact, frame[keys[0]])
    frame = frame[~exact]
    clash = frame.duplicated(subset=keys, keep="first")
    if clash.any():
        row = clash.idxmax()
        first = frame.index[(frame[keys] == frame.loc[row, keys]).all(axis=1)][0]
        key = ", ".join(f"{k} = {frame.loc[row, k]!s}" for k in keys)
        raise ChannelError(
            f"{frame.attrs.get('where', table)}: row {row}: {key} is used twice with different values "
            f"(first at row {first}); keep one row per key"
        )
    return frame


def _partners(raw: pd.DataFrame, aside: list[SetAside]) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "partner_id": _keys(raw, "partner_id"),
            "segment": _segments(raw),
            "onboarded": _dates(raw, "onboarded", required=True),
            "first_deal": _dates(raw, "first_deal", required=False),
            "offboarded": _dates(raw, "offboarded", required=False),
            "tier": _text(raw["tier"]),
        },
        index=raw.index,
    )
    frame.attrs["where"] = raw.attrs["where"]
    frame = _duplicates(frame, ["partner_id"], "partners", aside)
    early = frame["first_deal"] < frame["onboarded"]
    _aside(
        aside,
        "partners",
        "with a first deal before onboarding: the first deal is read from revenue instead",
        early,
        frame["partner_id"] + " first_deal " + frame["first_deal"].dt.strftime("%Y-%m-%d"),
    )
    frame.loc[early, "first_deal"] = pd.NaT
    backwards = frame["offboarded"] < frame["onboarded"]
    if backwards.any():
        row = backwards.idxmax()
        raise ChannelError(
            f"{raw.attrs['where']}: row {row}: offboarded = {frame.loc[row, 'offboarded']:%Y-%m-%d} is before "
            f"onboarded = {frame.loc[row, 'onboarded']:%Y-%m-%d}"
        )
    return frame


def _revenue(raw: pd.DataFrame, partners: pd.DataFrame, aside: list[SetAside]) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "partner_id": _keys(raw, "partner_id"),
            "month": _months(raw, "month"),
            "revenue": _numbers(raw, "revenue", required=True),
        },
        index=raw.index,
    )
    frame.attrs["where"] = raw.attrs["where"]
    frame = _duplicates(frame, ["partner_id", "month"], "revenue", aside)
    keep = pd.Series(True, index=frame.index)
    unknown = ~frame["partner_id"].isin(partners["partner_id"])
    _aside(aside, "revenue", "of partners missing from partners", unknown, frame["partner_id"])
    keep &= ~unknown
    negative = keep & (frame["revenue"] < 0)
    _aside(
        aside,
        "revenue",
        "with negative revenue (credit notes)",
        negative,
        frame["partner_id"] + " " + frame["month"].astype(str) + " " + frame["revenue"].map("{:,.2f}".format),
    )
    keep &= ~negative
    p = partners.set_index("partner_id")
    off = frame["partner_id"].map(p["offboarded"]).dt.to_period("M")
    after = keep & off.notna() & (frame["month"] > off)
    _aside(
        aside,
        "revenue",
        "after the partner's offboarding month",
        after,
        frame["partner_id"] + " " + frame["month"].astype(str),
    )
    keep &= ~after
    on = frame["partner_id"].map(p["onboarded"]).dt.to_period("M")
    before = keep & on.notna() & (frame["month"] < on)
    _aside(
        aside,
        "revenue",
        "before the partner's onboarding month",
        before,
        frame["partner_id"] + " " + frame["month"].astype(str),
    )
    keep &= ~before
    out = frame[keep].reset_index(drop=True)
    if out.empty:
        raise ChannelError(f"{raw.attrs['where']}: no usable revenue rows are left (see the rows set aside)")
    return out


def _prospects(raw: pd.DataFrame, partners: pd.DataFrame, aside: list[SetAside]) -> pd.DataFrame:
    outcome = _text(raw["outcome"]).str.lower()
    bad = ~outcome.isin(OUTCOMES)
    if bad.any():
        row = bad.idxmax()
        raise ChannelError(
            f"{raw.attrs['where']}: row {row}: outcome = {raw['outcome'][row]!r}; allowed: {', '.join(OUTCOMES)}"
        )
    frame = pd.DataFrame(
        {
            "prospect_id": _keys(raw, "prospect_id"),
            "segment": _segments(raw),
            "fit_score": _numbers(raw, "fit_score", required=False),
            "nurture_start": _dates(raw, "nurture_start", required=False),
            "outcome": outcome,
            "outcome_date": _dates(raw, "outcome_date", required=False),
            "partner_id": _text(raw["partner_id"]),
        },
        index=raw.index,
    )
    frame.attrs["where"] = raw.attrs["where"]
    frame = _duplicates(frame, ["prospect_id"], "prospects", aside)
    backwards = frame["outcome_date"] < frame["nurture_start"]
    if backwards.any():
        row = backwards.idxmax()
        raise ChannelError(
            f"{raw.attrs['where']}: row {row}: outcome_date = {frame.loc[row, 'outcome_date']:%Y-%m-%d} is before "
            f"nurture_start = {frame.loc[row, 'nurture_start']:%Y-%m-%d}"
        )
    undated = frame["outcome"].isin(["signed", "lost"]) & frame["outcome_date"].isna() & frame["nurture_start"].notna()
    _aside(
        aside,
        "prospects",
        "signed or lost without an outcome_date: not used for win share",
        undated,
        frame["prospect_id"],
    )
    frame["usable"] = ~undated
    return frame


def _collaboration(raw: pd.DataFrame, partners: pd.DataFrame, aside: list[SetAside]) -> pd.DataFrame:
    frame = pd.DataFrame({"partner_id": _keys(raw, "partner_id"), "month": _months(raw, "month")}, index=raw.index)
    exact = frame.duplicated(keep="first")
    _aside(aside, "collaboration", "set aside as exact duplicates of an earlier row", exact, frame["partner_id"])
    frame = frame[~exact]
    unknown = ~frame["partner_id"].isin(partners["partner_id"])
    _aside(aside, "collaboration", "of partners missing from partners", unknown, frame["partner_id"])
    return frame[~unknown].reset_index(drop=True)
