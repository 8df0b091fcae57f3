"""The HTML report: one self-contained file a client can read.

The question comes first (revenue outlook against the plan, the recruitment
needed, how concentrated revenue is, and a what-if when asked), then the
charts, a table of key figures and an appendix listing every scenario value
with its source note. Images are embedded as PNG data; the page loads
nothing from anywhere, runs no script (its Content-Security-Policy forbids
it) and every piece of text taken from a scenario is escaped by the template
engine, so a name such as ``<script>`` shows as text.
"""

from __future__ import annotations

import base64
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
from matplotlib.figure import Figure

from ..engine.results import SimulationResult, simulate
from ..formatting import figure, figure_label, money
from ..planning import capacity, compare, size_recruitment
from ..planning.capacity import CapacityResult
from ..planning.compare import CompareResult
from ..planning.sizing import SizingResult
from ..scenario import Scenario, flat_keys, load_scenario
from ..scenario.loading import ScenarioLike
from ..stats import wilson_interval
from ..vocabulary import VOCABULARY
from . import charts


@dataclass
class Report:
    """A rendered report: the HTML text and the numbers its headline states."""

    html: str
    headline: dict[str, str]

    def write(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.html, encoding="utf-8")
        return path


def _png(fig: Figure, caption: str, title: str) -> dict[str, Any]:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    width, height = (round(v * 110) for v in fig.get_size_inches())
    return {
        "data": base64.b64encode(buffer.getvalue()).decode("ascii"),
        "caption": caption,
        "title": title,
        "width": width,
        "height": height,
    }


def _pct(x: float | None) -> str:
    return "-" if x is None or not np.isfinite(x) else f"{100 * x:.0f}%"


def build_report(
    scenario: ScenarioLike,
    *,
    compare_with: ScenarioLike | None = None,
    size: bool = False,
    replications: int = 200,
    seed: int = 0,
    workers: int | None = None,
    optimization: str | Path | None = None,
) -> Report:
    """Run what the report needs and render it (see :func:`write_report` to save it); ``optimization``: the
    folder of an ``optimize`` run, shown as its own section."""
    scn = load_scenario(scenario)
    if compare_with:
        # The what-if's A is this very run (same scenario, seed and replications): run it once.
        comparison = compare(scn, load_scenario(compare_with), replications=replications, seed=seed, partners=True)
        result = comparison.a
    else:
        comparison, result = None, simulate(scn, replications=replications, seed=seed)
    cap = capacity(scn, replications=replications, seed=seed) if scn.plan.revenue_target else None
    sizing = (
        size_recruitment(scn, replications=replications, seed=seed, workers=workers)
        if size and scn.plan.revenue_target
        else None
    )
    return render(result, cap, sizing, comparison, optimization=optimization)


def render(
    result: SimulationResult,
    cap: CapacityResult | None = None,
    sizing: SizingResult | None = None,
    comparison: CompareResult | None = None,
    optimization: str | Path | None = None,
) -> Report:
    """Render a report from results already computed."""
    scn = result.scenario
    kpis = result.kpis
    outlook = _outlook(scn, result)
    context: dict[str, Any] = {
        "scenario": scn,
        "replications": len(result.replications),
        "seed": result.seed,
        "outlook": outlook,
        "capacity": _capacity(cap) if cap is not None else None,
        "sizing": _sizing(sizing) if sizing is not None else None,
        "recruitment": _recruitment(scn, kpis),
        "concentration": _concentration(result),
        "comparison": _comparison(comparison) if comparison is not None else None,
        "charts": _charts(result, sizing, comparison),
        "figures": _figures(result),
        "assumptions": _assumptions(scn),
        "levers": _levers(scn),
        "optimization": _optimization(optimization),
    }
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("simulator.reports", "templates"),
        autoescape=True,  # every value from a scenario is escaped
        undefined=jinja2.StrictUndefined,
    )
    html = env.get_template("report.html.j2").render(**context)
    headline = {
        "revenue_median": outlook["median"],
        "top20_share": context["concentration"]["top20"],
    }
    if outlook["target"]:
        headline["p_plan_met"] = outlook["p_plan_met_text"]
    if sizing is not None and sizing.reachable:
        headline["nurture_answer"] = context["sizing"]["value"]
    if comparison is not None:
        headline["compare_revenue"] = context["comparison"]["revenue"]
    return Report(html=html, headline=headline)


def write_report(scenario: ScenarioLike, out: str | Path, **options: Any) -> Report:
    """Build the report and write it to ``out``; returns it (with its headline numbers)."""
    report = build_report(scenario, **options)
    report.write(out)
    return report


# -- the pieces of the page ------------------------------------------------------------


def _optimization(folder: str | Path | None) -> Any:
    if folder is None:
        return None
    from ..optimization.report import optimization_section

    return optimization_section(folder)


def _outlook(scn: Scenario, result: SimulationResult) -> dict[str, Any]:
    rev = result.kpis["revenue_last_12m"].to_numpy(float)
    today = result.monthly.loc[result.monthly.month == 0, "revenue_t12m"].median()
    cur = scn.currency
    out: dict[str, Any] = {
        "median": money(float(np.median(rev)), cur),
        "p10": money(float(np.quantile(rev, 0.1)), cur),
        "p90": money(float(np.quantile(rev, 0.9)), cur),
        "today": money(float(today), cur),
        "target": money(scn.plan.revenue_target, cur) if scn.plan.revenue_target else None,
        "confidence": _pct(scn.plan.confidence),
        "p_plan_met": None,
    }
    if scn.plan.revenue_target:
        met = rev >= scn.plan.revenue_target
        low, high = wilson_interval(int(met.sum()), met.size)
        out.update(
            p_plan_met=float(met.mean()), p_plan_met_text=_pct(met.mean()), p_interval=f"{_pct(low)}-{_pct(high)}"
        )
    return out


def _capacity(cap: CapacityResult) -> dict[str, Any]:
    cur = cap.scenario.currency
    return {
        "median": money(float(cap.per_replication["revenue_last_12m"].median()), cur),
        "growth": f"{100 * cap.growth_rate:+.1f}%",
        "p_plan_met": _pct(cap.p_plan_met) if cap.p_plan_met is not None else None,
        "gap": money(cap.gap_at_confidence or 0.0, cur),
    }


def _sizing(s: SizingResult) -> dict[str, Any]:
    unit = "prospects a month" if s.decision == "recruitment.nurture_per_month" else f"({s.decision})"
    return {
        "reachable": s.reachable,
        "value": f"{s.value:,.4g}" if s.value is not None else "-",
        "unit": unit,
        "message": s.message,
    }


def _recruitment(scn: Scenario, kpis: Any) -> dict[str, str]:
    years = scn.horizon_months / 12
    return {
        "nurture": f"{scn.recruitment.nurture_per_month}",
        "signings": f"{kpis['signings'].mean() / years:.0f}",
        "activations": f"{kpis['activations'].mean() / years:.0f}",
    }


def _concentration(result: SimulationResult) -> dict[str, str]:
    last = result.monthly[result.monthly.month == result.scenario.horizon_months]
    nothing = 1 - last["earning_partners"] / last["signed_partners"].where(last["signed_partners"] > 0)
    hhi = last["hhi"].median()
    return {
        "top20": _pct(last["top20_share"].median()),
        "top20_all": _pct(last["top20_share_all"].median()),
        "gini": f"{last['gini'].median():.2f}",
        "nothing": _pct(nothing.median()),
        "effective": f"{1 / hhi:.0f}" if hhi and np.isfinite(hhi) and hhi > 0 else "-",
    }


def _comparison(c: CompareResult) -> dict[str, Any]:
    d = c.differences
    cur = c.b.scenario.currency
    rev = d.loc["revenue_last_12m"]
    changes = [
        f"{row.kind}: {row.key}: {row.a} -> {row.b}"
        if row.kind in ("key", "lever changed")
        else f"{row.kind}: {row.key}"
        for row in c.changes.itertuples()
    ] or ["nothing (the same scenario)"]
    return {
        "name": c.b.scenario.name,
        "revenue": _signed_money(rev.mean_diff, cur),
        "revenue_interval": f"{_signed_money(rev.p05, cur)} to {_signed_money(rev.p95, cur)}",
        "contribution": _signed_money(d.loc["contribution_last_12m", "mean_diff"], cur),
        "p_better": _pct(d.loc["contribution_last_12m", "p_b_better"]),
        "better": bool(d.loc["contribution_last_12m", "mean_diff"] > 0),
        "changes": changes,
    }


def _signed_money(x: float, currency: str) -> str:
    return ("+" if x > 0 else "") + money(float(x), currency)


def _charts(result: SimulationResult, sizing: SizingResult | None, comparison: CompareResult | None) -> list[dict]:
    scn = result.scenario
    out = [
        _png(
            charts.revenue_fan(result),
            "Revenue of the trailing 12 months: median, P25-P75 and P10-P90 of the "
            "simulated futures, against the plan target.",
            "Revenue fan chart",
        ),
        _png(
            charts.partners_by_state(result),
            "Partners by state over time (mean over replications).",
            "Partners by state",
        ),
        _png(
            charts.recruitment_funnel(result),
            "Recruitment funnel over the horizon, with the conversion of each step.",
            "Recruitment funnel",
        ),
        _png(
            charts.lorenz_chart(result),
            f"Lorenz curves of trailing-12-month revenue at month "
            f"{scn.horizon_months}; the dot marks the share of the top 20%.",
            "Lorenz curve",
        ),
    ]
    if sizing is not None:
        out.append(
            _png(
                charts.sizing_chart(sizing),
                "Probability of meeting the plan for each value tried, with 95% intervals, on the same random draws.",
                "Sizing curve",
            )
        )
    if comparison is not None:
        out.append(
            _png(
                charts.compare_chart(comparison),
                "Paired differences with the what-if scenario on the same random draws.",
                "What-if comparison",
            )
        )
    return out


def _figures(result: SimulationResult) -> list[dict[str, Any]]:
    """The key-figures table: the vocabulary's summary figures, each written by its kind."""
    summary = result.summary()
    cur = result.scenario.currency
    rows = []
    for f in VOCABULARY.figures("kpis"):
        name = "p_plan_met" if f.name == "plan_met" else f.name
        if not f.summary or name not in summary.index or name == "p_plan_met":
            continue
        r = summary.loc[name]
        rows.append(
            {"label": figure_label(name, cur), "cells": [figure(name, r[c]) for c in ("mean", "p10", "p50", "p90")]}
        )
    return rows


def _assumptions(scn: Scenario) -> list[dict[str, str]]:
    notes = scn.notes
    rows = []
    for key in flat_keys(scn):
        if key.startswith("program.levers"):
            continue
        value = scn.get(key)
        note = notes.get(key) or notes.get(key.rsplit(".", 1)[0], "")
        rows.append({"key": key, "value": _plain(value), "note": note or "MODEL.md default"})
    return rows


def _levers(scn: Scenario) -> list[dict[str, str]]:
    out = []
    for lever in scn.program.levers:
        first, last = lever.month_range(scn.horizon_months)
        effects = ", ".join(f"{k} {lever.intensity * x:+.0%}" for k, x in lever.effects.items())
        targets = ", ".join(s.label for s in lever.states())
        if lever.segments:
            targets += f" ({', '.join(lever.segments)})"
        out.append(
            {
                "name": lever.name,
                "phase": lever.phase,
                "targets": targets,
                "effects": effects or "-",
                "months": f"{first}-{last}",
                "note": lever.note,
            }
        )
    return out


def _plain(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.6g}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, list | dict):
        return json.dumps(value)
    return "" if value is None else str(value)
