"""Deliverables for slides and spreadsheets: the charts as PNG and SVG, and the Excel workbook.

``--charts DIR`` and ``--xlsx FILE`` on ``simulate``, ``compare``, ``size`` and ``report`` call
:func:`write_charts` and :func:`write_workbook` with whatever the command computed. File names are
stable (:data:`CHART_FILES`), so a slide deck can link them; the workbook always has the same six sheets
(:data:`SHEETS`), with a note on a sheet the command did not fill.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from ..formatting import key_words, value_text
from ..planning.capacity import CapacityResult
from ..planning.compare import CompareResult
from ..planning.sizing import SizingResult
from ..scenario import Scenario
from ..scenario.sources import source_of
from ..vocabulary import STATE_LABELS
from ..vocabulary import kind as figure_kind
from ..vocabulary import label as figure_label
from .tables import Sheet, write_bytes, write_xlsx

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..engine.results import SimulationResult

#: Chart file stems, in the order the report shows them.
CHART_FILES = ("revenue_fan", "partners_by_state", "recruitment_funnel", "lorenz", "sizing_curve", "compare")
#: Sheets of the workbook, always in this order.
SHEETS = ("summary", "monthly", "scorecard", "compare", "sizing", "assumptions")


@dataclass
class Deliverables:
    """What a command computed, for the charts and the workbook (any part may be missing)."""

    result: SimulationResult | None = None
    capacity: CapacityResult | None = None
    sizing: SizingResult | None = None
    comparison: CompareResult | None = None

    @property
    def scenario(self) -> Scenario:
        for source in (self.result, self.comparison and self.comparison.a, self.sizing, self.capacity):
            if source is not None:
                return source.scenario
        raise ValueError("nothing to export")


def chart_makers(d: Deliverables) -> dict[str, Callable[[], Figure]]:
    """The charts available from ``d``, by file stem."""
    from . import charts  # matplotlib only when charts are drawn: a command that writes none starts faster

    out: dict[str, Callable[[], Figure]] = {}
    r = d.result
    if r is not None:
        out["revenue_fan"] = lambda: charts.revenue_fan(r)
        out["partners_by_state"] = lambda: charts.partners_by_state(r)
        if r.partners is not None:
            out["recruitment_funnel"] = lambda: charts.recruitment_funnel(r)
            out["lorenz"] = lambda: charts.lorenz_chart(r)
    if d.sizing is not None:
        out["sizing_curve"] = lambda: charts.sizing_chart(d.sizing)
    if d.comparison is not None:
        out["compare"] = lambda: charts.compare_chart(d.comparison)
    return out


def write_charts(folder: str | Path, d: Deliverables, dpi: int = 150) -> list[Path]:
    """Write every chart of ``d`` as ``<stem>.png`` and ``<stem>.svg`` in ``folder``; returns the paths."""
    import matplotlib

    folder = Path(folder)
    written: list[Path] = []
    for stem, make in chart_makers(d).items():
        fig = make()
        for fmt in ("png", "svg"):
            buffer = io.BytesIO()
            # A fixed salt and no date: the same results give the same SVG, byte for byte.
            with matplotlib.rc_context({"svg.hashsalt": "channel-plan"}):
                fig.savefig(buffer, format=fmt, dpi=dpi, metadata={"Date": None} if fmt == "svg" else None)
            written.append(write_bytes(folder / f"{stem}.{fmt}", buffer.getvalue()))
    return written


# -- the workbook -------------------------------------------------------------------------------------


def _kind(name: str) -> str:
    k = figure_kind(name) or "number"
    return "count" if k == "flow" else k


def _summary_sheet(d: Deliverables) -> Sheet:
    cur = d.scenario.currency
    rows = []
    if d.result is not None:
        summary = d.result.summary()
        for name, r in summary.iterrows():
            k = _kind(str(name))
            rows.append(
                {
                    "figure": figure_label(str(name)),
                    "unit": cur
                    if k == "money"
                    else {"share": "%", "probability": "%", "index": "index"}.get(k, "count"),
                    **{c: r[c] for c in ("mean", "p10", "p50", "p90")},
                    "_kind": k,
                }
            )
    if d.sizing is not None:
        s = d.sizing
        answer = s.value if s.reachable else None
        rows.append(
            {"figure": f"Sizing answer: {key_words(s.decision)}", "unit": "value", "mean": answer, "_kind": "number"}
        )
        rows.append(
            {
                "figure": "Sizing: P(plan met) at the answer" if s.reachable else "Sizing: best P(plan met)",
                "unit": "%",
                "mean": s.probability if s.reachable else s.best_probability,
                "_kind": "probability",
            }
        )
    table = pd.DataFrame(rows, columns=["figure", "unit", "mean", "p10", "p50", "p90", "_kind"])
    kinds = table.pop("_kind").tolist()
    return Sheet(
        "summary",
        f"{d.scenario.name}: key figures at month {d.scenario.horizon_months} (mean and P10/P50/P90 over replications)",
        table,
        kinds={"figure": "text", "unit": "text"},
        widths={"figure": 44},
        note="" if rows else "Nothing simulated by this command.",
        row_kinds=kinds,
    )


def _monthly_sheet(d: Deliverables) -> Sheet:
    cur = d.scenario.currency
    if d.result is None:
        return Sheet("monthly", "Monthly bands", pd.DataFrame({"month": []}), note="Nothing simulated by this command.")
    m = d.result.monthly
    g = m.groupby("month")
    table = pd.DataFrame({"month": sorted(m.month.unique())}).set_index("month")
    for q in (10, 25, 50, 75, 90):
        table[f"revenue_t12m P{q}"] = g["revenue_t12m"].quantile(q / 100)
    table["revenue P50"] = g["revenue"].quantile(0.5)
    table["cost mean"] = g["cost"].mean()
    table["contribution mean"] = g["contribution"].mean()
    for state in STATE_LABELS:
        table[f"{state} mean"] = g[state].mean()
    table["earning_partners mean"] = g["earning_partners"].mean()
    table = table.reset_index()
    money_cols = [c for c in table.columns if c.startswith(("revenue", "cost", "contribution"))]
    return Sheet(
        "monthly",
        f"{d.scenario.name}: by month, across {len(d.result.replications)} replications "
        "(revenue_t12m = trailing 12 months)",
        table,
        kinds={
            "month": "month",
            **dict.fromkeys(money_cols, "money"),
            **{c: "mean count" for c in table.columns[len(money_cols) + 1 :]},
        },
        units=dict.fromkeys(money_cols, cur),
    )


def _scorecard_sheet(d: Deliverables) -> Sheet:
    cur = d.scenario.currency
    if d.result is None or d.result.partners is None:
        return Sheet(
            "scorecard", "Partner scorecard", pd.DataFrame({"segment": []}), note="No partner table in this run."
        )
    from ..planning.scorecard import scorecard

    table = scorecard(d.result).table
    kinds = {
        "segment": "text",
        "tier": "text",
        "partners": "mean count",
        "recruited": "mean count",
        "activation_rate": "share",
        "median_months_to_first_deal": "number",
        "growth_12m": "share",
        "revenue_t12m_per_partner": "money",
        "revenue_share": "share",
    }
    return Sheet(
        "scorecard",
        f"{d.scenario.name}: partner scorecard at month {d.scenario.horizon_months} (means over replications)",
        table,
        kinds={c: kinds.get(c, "number") for c in table.columns},
        units={"revenue_t12m_per_partner": cur},
    )


def _compare_sheet(d: Deliverables) -> Sheet:
    c = d.comparison
    if c is None:
        return Sheet(
            "compare", "What-if comparison", pd.DataFrame({"figure": []}), note="No what-if in this run (--compare)."
        )
    diff = c.differences.reset_index().rename(columns={"index": "figure"})
    diff.insert(1, "label", [figure_label(str(f)) for f in diff["figure"]])
    kinds: dict[str, str] = {"figure": "text", "label": "text", "better": "text"}
    for col in ("p_b_better", "p_b_worse"):
        kinds[col] = "probability"
    row_kinds = [_kind(str(f)) for f in diff["figure"]]
    return Sheet(
        "compare",
        f"{c.b.scenario.name} (B) against {c.a.scenario.name} (A), paired on the same draws: B - A",
        diff,
        kinds=kinds,
        widths={"label": 36},
        note="Changes: "
        + "; ".join(f"{key_words(r.key)}: {value_text(r.a)} -> {value_text(r.b)}" for r in c.changes.itertuples())
        if len(c.changes)
        else "A and B are the same scenario.",
        row_kinds=row_kinds,
    )


def _sizing_sheet(d: Deliverables) -> Sheet:
    s = d.sizing
    if s is None:
        return Sheet("sizing", "Sizing curve", pd.DataFrame({"value": []}), note="Not sized in this run (--size).")
    cur = s.scenario.currency
    table = s.curve.copy()
    kinds = {c: "money" for c in table.columns if c.startswith(("revenue", "recruitment_cost"))}
    kinds.update(
        {
            "p_plan_met": "probability",
            "p_low": "probability",
            "p_high": "probability",
            "signings_per_year": "mean count",
        }
    )
    return Sheet(
        "sizing",
        f"{s.scenario.name}: P(revenue of the last 12 months >= target) for each value of {s.decision} tried "
        f"({s.replications} replications, seed {s.seed}, same draws); confidence asked {s.confidence:.0%}",
        table,
        kinds=kinds,
        units={c: cur for c in kinds if kinds[c] == "money"},
        note=s.message,
    )


def scenario_values(scn: Scenario) -> list[tuple[str, object]]:
    """Every leaf of a scenario as ``(dotted key, value)``, in file order, levers' fields included
    (``program.levers[0].effects.activation.monthly_probability``)."""
    out: list[tuple[str, object]] = []

    def walk(value: object, path: str) -> None:
        if isinstance(value, dict) and value:
            for k, v in value.items():
                walk(v, f"{path}.{k}" if path else str(k))
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            for i, v in enumerate(value):
                walk(v, f"{path}[{i}]")
        else:
            out.append((path, value))

    walk(scn.to_dict(), "")
    return out


def assumptions_table(scenarios: list[Scenario]) -> pd.DataFrame:
    """Every value of each scenario with where it came from (one row per scenario and key)."""
    rows = []
    for scn in scenarios:
        for key, value in scenario_values(scn):
            src = source_of(scn.sources, key)
            rows.append(
                {
                    "scenario": scn.name,
                    "key": key,
                    "in words": key_words(key),
                    "value": value
                    if isinstance(value, int | float) and not isinstance(value, bool)
                    else value_text(value),
                    "origin": src.origin,
                    "file": src.file or "",
                    "line": src.line,
                    "note": src.note,
                }
            )
    return pd.DataFrame(rows, columns=["scenario", "key", "in words", "value", "origin", "file", "line", "note"])


def _assumptions_sheet(d: Deliverables) -> Sheet:
    scenarios = [d.scenario]
    if d.comparison is not None:
        scenarios = [d.comparison.a.scenario, d.comparison.b.scenario]
    return Sheet(
        "assumptions",
        "Every scenario value and where it came from (file and line, a base file, an override, a calibration or "
        "the engine's default)",
        assumptions_table(scenarios),
        kinds={"line": "month", "value": "number"},
        widths={"key": 40, "in words": 36, "file": 28, "scenario": 24},
    )


def workbook_sheets(d: Deliverables) -> list[Sheet]:
    """The six sheets of :data:`SHEETS`, filled from what ``d`` holds."""
    return [
        _summary_sheet(d),
        _monthly_sheet(d),
        _scorecard_sheet(d),
        _compare_sheet(d),
        _sizing_sheet(d),
        _assumptions_sheet(d),
    ]


def write_workbook(path: str | Path, d: Deliverables) -> Path:
    """Write the Excel workbook of ``d`` (sheets :data:`SHEETS`)."""
    return write_xlsx(path, workbook_sheets(d))
