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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
from matplotlib.figure import Figure

from ..engine.results import SimulationResult, simulate
from ..formatting import (
    decision_value,
    describe_lever,
    figure,
    figure_label,
    index,
    key_words,
    lever_cost,
    lever_words,
    money,
    number,
    quantity,
    share,
    signed_money,
    signed_share,
    value_text,
)
from ..planning import DEFAULT_REPLICATIONS, capacity, compare, size_recruitment
from ..planning.capacity import CapacityResult
from ..planning.compare import CompareResult
from ..planning.decisions import NURTURE
from ..planning.sizing import SizingResult
from ..scenario import Scenario, load_scenario
from ..scenario.loading import ScenarioLike
from ..scenario.sources import source_of
from ..stats import wilson_interval
from ..vocabulary import VOCABULARY
from . import charts
from .exports import scenario_values
from .tables import write_text


@dataclass
class Report:
    """A rendered report: the HTML text and the numbers its headline states."""

    html: str
    headline: dict[str, str]
    #: The results the page was rendered from (``result``, ``capacity``, ``sizing``, ``comparison``).
    parts: dict[str, Any] = field(default_factory=dict, repr=False)

    def write(self, path: str | Path) -> Path:
        """Write the page atomically (folders created); an I/O error names the file."""
        return write_text(path, self.html)


def _png(fig: Figure, caption: str, title: str = "") -> dict[str, Any]:
    """A chart as embedded PNG data for the page, with its caption, title and size."""
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


#: The headline numbers in words, as the ``report`` command prints them.
HEADLINE_LABELS = {
    "revenue_median": "revenue, last 12 months (median)",
    "top20_share": "top 20% of earning partners earn",
    "p_plan_met": "P(plan met)",
    "nurture_answer": "sizing answer",
    "compare_revenue": "what-if change of revenue",
}


def build_report(
    scenario: ScenarioLike,
    *,
    compare_with: ScenarioLike | None = None,
    size: bool = False,
    replications: int = 200,
    seed: int = 0,
    workers: int | None = None,
    size_replications: int = DEFAULT_REPLICATIONS,
    size_max_replications: int | None = None,
    optimization: str | Path | None = None,
) -> Report:
    """Run what the report needs and render it (see :func:`write_report` to save it).

    Sizing (``size=True``) runs on ``size_replications``, adding replications near the boundary up to
    ``size_max_replications`` (the ``size`` command's defaults, so the report and ``size`` give the same
    answer for the same seed); the page states it beside the answer.
    ``optimization`` is the folder of an ``optimize`` run, shown as its own section.
    """
    scn = load_scenario(scenario)
    if compare_with:
        # The what-if's A is this very run (same scenario, seed and replications): run it once.
        comparison = compare(scn, load_scenario(compare_with), replications=replications, seed=seed, partners=True)
        result = comparison.a
    else:
        comparison, result = None, simulate(scn, replications=replications, seed=seed)
    cap = capacity(scn, replications=replications, seed=seed) if scn.plan.revenue_target else None
    sizing = (
        size_recruitment(
            scn, replications=size_replications, seed=seed, workers=workers, max_replications=size_max_replications
        )
        if size and scn.plan.revenue_target
        else None
    )
    return render(result, cap, sizing, comparison, size_asked=size, optimization=optimization)


def render(
    result: SimulationResult,
    cap: CapacityResult | None = None,
    sizing: SizingResult | None = None,
    comparison: CompareResult | None = None,
    *,
    size_asked: bool | None = None,
    optimization: str | Path | None = None,
) -> Report:
    """Render a report from results already computed (``size_asked``: sizing was asked for, so a
    missing answer is explained rather than suggested)."""
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
        "size_asked": bool(size_asked if size_asked is not None else sizing is not None),
        "recruitment": _recruitment(scn, kpis),
        "concentration": _concentration(result),
        "comparison": _comparison(comparison) if comparison is not None else None,
        "charts": _charts(result, sizing, comparison),
        "figures": _figures(result),
        "assumptions": _assumptions(scn),
        "levers": _levers(result),
        "tiers": _tiers(result),
        "whatif": _whatif(comparison) if comparison is not None else None,
        "optimization": _optimization(optimization),
    }
    context["summary"] = executive_summary(context)
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
    parts = {"result": result, "capacity": cap, "sizing": sizing, "comparison": comparison}
    return Report(html=html, headline=headline, parts=parts)


def write_report(scenario: ScenarioLike, out: str | Path, **options: Any) -> Report:
    """Build the report and write it to ``out``; returns it (with its headline numbers)."""
    report = build_report(scenario, **options)
    report.write(out)
    return report


# -- the pieces of the page ------------------------------------------------------------


def _year(horizon: int) -> str:
    """Where the plan's last 12 months fall: ``in year 3``, or ``in the 12 months to month 30``."""
    return f"in year {horizon // 12}" if horizon % 12 == 0 else f"in the 12 months to month {horizon}"


def executive_summary(context: dict[str, Any]) -> list[str]:
    """Two or three sentences a client can read aloud, built from the report's own numbers."""
    scn: Scenario = context["scenario"]
    out = context["outlook"]
    cap, sizing, conc, comp = context["capacity"], context["sizing"], context["concentration"], context["comparison"]
    when = _year(scn.horizon_months)
    sentences = []
    if out["target"] and sizing is not None and sizing["reachable"]:
        first = f"To reach {out['target']} {when} with {out['confidence']} confidence, "
        if sizing["nurture"]:
            first += (
                f"sign about {sizing['signings']} partners a year (nurture {sizing['value']} prospects a month, "
                f"about {sizing['cost']} a year to recruit)"
            )
        else:
            first += f"set the {sizing['words']} to {sizing['value']}"
    elif out["target"] and sizing is not None:
        first = f"The plan of {out['target']} {when} is out of reach with recruitment alone: {sizing['limit']}"
    elif out["target"]:
        first = (
            f"With today's program, the plan of {out['target']} {when} is met in {out['p_plan_met_text']} of "
            f"the futures simulated (it asks for {out['confidence']}); revenue reaches about {out['median']}"
        )
    else:
        first = (
            f"With today's program, revenue {when} is about {out['median']} "
            f"(80% of futures between {out['p10']} and {out['p90']})"
        )
    if cap is not None:
        first += f"; today's channel alone reaches {cap['median']}"
    sentences.append(first + ".")
    sentences.append(
        f"Revenue stays concentrated: the top 20% of earning partners earn {conc['top20']} of it"
        + (f", and {conc['nothing']} of signed partners earn nothing." if conc["nothing"] != "-" else ".")
    )
    if comp is not None:
        sentences.append(
            f"The what-if “{comp['name']}” changes revenue by {comp['revenue']} and contribution by "
            f"{comp['contribution']}, better in {comp['p_better']} of paired futures."
        )
    return sentences


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
        "confidence": share(scn.plan.confidence, 0),
        "p_plan_met": None,
    }
    if scn.plan.revenue_target:
        met = rev >= scn.plan.revenue_target
        low, high = wilson_interval(int(met.sum()), met.size)
        out.update(
            p_plan_met=float(met.mean()), p_plan_met_text=share(met.mean()), p_interval=f"{share(low)}-{share(high)}"
        )
    return out


def _capacity(cap: CapacityResult) -> dict[str, Any]:
    cur = cap.scenario.currency
    return {
        "median": money(float(cap.per_replication["revenue_last_12m"].median()), cur),
        "growth": signed_share(cap.growth_rate),
        "p_plan_met": share(cap.p_plan_met) if cap.p_plan_met is not None else None,
        "gap": money(cap.gap_at_confidence or 0.0, cur),
    }


def _sizing(s: SizingResult) -> dict[str, Any]:
    cur = s.scenario.currency
    imp = s.implied
    shown = s.value if s.reachable else s.best_value
    return {
        "reachable": s.reachable,
        "nurture": s.decision == NURTURE,
        "words": key_words(s.decision),
        "value": decision_value(s.decision, shown, s.integer),
        "unit": "prospects a month" if s.decision == NURTURE else f"({key_words(s.decision)})",
        "probability": share(s.probability if s.reachable else s.best_probability),
        "signings": quantity(round(imp["signings_per_year"])),
        "cost": money(imp["recruitment_cost_per_year"], cur),
        "limit": s.limit or "",
        "precision": f"{s.replications:,} replications, seed {s.seed}"
        + (
            f" (the answer lies between {decision_value(s.decision, s.value_range[0], s.integer)} and "
            f"{decision_value(s.decision, s.value_range[1], s.integer)}: those values cannot be told apart)"
            if s.value_range is not None and not s.pinned
            else ""
        ),
        "message": s.message,
    }


def _recruitment(scn: Scenario, kpis: Any) -> dict[str, str]:
    years = scn.horizon_months / 12
    return {
        "nurture": quantity(scn.recruitment.nurture_per_month),
        "signings": quantity(round(kpis["signings"].mean() / years)),
        "activations": quantity(round(kpis["activations"].mean() / years)),
    }


def _concentration(result: SimulationResult) -> dict[str, str]:
    last = result.monthly[result.monthly.month == result.scenario.horizon_months]
    nothing = 1 - last["earning_partners"] / last["signed_partners"].where(last["signed_partners"] > 0)
    hhi = last["hhi"].median()
    return {
        "top20": share(last["top20_share"].median()),
        "top20_all": share(last["top20_share_all"].median()),
        "gini": index(last["gini"].median()),
        "hhi": index(hhi),
        "nothing": share(nothing.median()),
        "effective": quantity(round(1 / hhi)) if hhi and np.isfinite(hhi) and hhi > 0 else "-",
    }


def _change_line(row: Any, a: Scenario, b: Scenario) -> str:
    """One line of "what changed", in words."""
    cur = b.currency
    if row.kind == "key":
        return f"{key_words(row.key)}: {value_text(row.a)} → {value_text(row.b)}"
    if row.kind in ("tier added", "tier removed"):
        return f"{row.kind}: {row.key[len('tier:') :]} ({row.b if row.kind == 'tier added' else row.a})"
    name = row.key[len("lever:") :].split(".", 1)[0]
    if row.kind == "lever added":
        lever = next(lv for lv in b.program.levers if lv.name == name)
        return f"lever added: {lever_words(name)} ({describe_lever(lever, cur)})"
    if row.kind == "lever removed":
        lever = next(lv for lv in a.program.levers if lv.name == name)
        return f"lever removed: {lever_words(name)} ({describe_lever(lever, cur)})"
    return f"{key_words(row.key)}: {value_text(row.a)} → {value_text(row.b)}"


def _comparison(c: CompareResult) -> dict[str, Any]:
    d = c.differences
    cur = c.b.scenario.currency
    rev = d.loc["revenue_last_12m"]
    a, b = c.a.scenario, c.b.scenario
    changes = [_change_line(row, a, b) for row in c.changes.itertuples()] or ["nothing (the same scenario)"]
    return {
        "name": b.name,
        "revenue": signed_money(rev.mean_diff, cur),
        "revenue_interval": f"{signed_money(rev.p05, cur)} to {signed_money(rev.p95, cur)}",
        "contribution": signed_money(d.loc["contribution_last_12m", "mean_diff"], cur),
        "p_better": share(d.loc["contribution_last_12m", "p_b_better"]),
        "better": bool(d.loc["contribution_last_12m", "mean_diff"] > 0),
        "changes": changes,
        "returns": _returns(c),
    }


def _returns(c: CompareResult) -> dict[str, str]:
    """What B returns against A over the horizon, in words: contribution, cost, ROI, NPV, payback."""
    r, cur = c.returns, c.b.scenario.currency
    H = min(c.a.scenario.horizon_months, c.b.scenario.horizon_months)

    def month(x: float) -> str:
        return f"beyond month {H}" if not np.isfinite(x) else f"month {x:.0f}"

    pay = r.loc["payback_month"]
    return {
        "contribution": signed_money(r.loc["incremental_contribution", "mean"], cur),
        "cost": signed_money(r.loc["incremental_cost", "mean"], cur),
        "roi": number(r.loc["roi", "mean"]),
        "npv": signed_money(r.loc["npv", "mean"], cur),
        "npv_interval": f"{signed_money(r.loc['npv', 'p05'], cur)} to {signed_money(r.loc['npv', 'p95'], cur)}",
        "rate": share(c.b.scenario.economics.discount_rate, 0),
        "payback": month(pay["p50"]),
        "payback_band": f"{month(pay['p10'])} to {month(pay['p90'])}",
        "paid_back": share(pay["p_paid_back"], 0),
        "months": str(H),
    }


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
            "Partners by state over time (mean over replications); below, prospects in nurturing and the "
            "partners that have left.",
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
            f"{scn.horizon_months}; the dots mark the share of the top 20%.",
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


def _source_text(scn: Scenario, key: str) -> dict[str, str]:
    src = source_of(scn.sources, key)
    read = any(s.origin in ("file", "base file", "calibrated") for s in scn.sources.values())
    if src.origin == "default" and not read:  # built from plain data: nothing says where its values came from
        return {"origin": "given as data", "where": "", "note": ""}
    where = f"{src.file}, line {src.line}" if src.file else ""
    origin = {
        "file": "the scenario file",
        "base file": "inherited from the base file",
        "override": "override (--set)",
        "calibrated": "calibrated from an export",
        "default": "the engine's default (MODEL.md)",
    }[src.origin]
    return {"origin": origin, "where": where, "note": src.note}


def _assumptions(scn: Scenario, keys: set[str] | None = None) -> list[dict[str, str]]:
    rows = []
    for key, value in scenario_values(scn):
        # The description opens the page; the levers have their own table.
        if key.startswith("program.levers") or key == "description" or (keys is not None and key not in keys):
            continue
        numeric = isinstance(value, int | float) and not isinstance(value, bool)
        rows.append(
            {
                "key": key,
                "words": key_words(key),
                "value": value_text(value),
                "numeric": numeric,
                **_source_text(scn, key),
            }
        )
    return rows


def _whatif(c: CompareResult) -> dict[str, Any]:
    """The what-if's own assumptions: the values it sets itself or that differ from the scenario's."""
    a, b = c.a.scenario, c.b.scenario
    values_a = dict(scenario_values(a))
    own = {
        key
        for key, value in scenario_values(b)
        if values_a.get(key, object()) != value
        or (b.sources and source_of(b.sources, key).origin in ("file", "override", "calibrated"))
    }
    own.discard("description")
    return {"name": b.name, "assumptions": _assumptions(b, own), "levers": _levers(c.b)}


def _tiers(result: SimulationResult) -> list[dict[str, str]]:
    """Partner tiers: terms, partners by tier at month 0 and at the horizon, moves and cost (means)."""
    scn = result.scenario
    table = result.tiers
    if not scn.program.tiers or table.empty:
        return []
    H, cur, years = scn.horizon_months, scn.currency, scn.horizon_months / 12
    reps = max(len(result.replications), 1)
    out = []
    for tier in scn.program.tiers:
        rows = table[table.tier == tier.name]
        at_end = rows.loc[rows.month == H, "partners"].to_numpy(np.float64)
        effects = ", ".join(f"{signed_share(x, 0)} {key_words(k)}" for k, x in tier.effects.items())
        terms = [f"{share(tier.cost.revenue_share)} rebate"] if tier.cost.revenue_share else []
        if tier.cost.per_partner_month:
            terms.append(f"{money(tier.cost.per_partner_month, cur)} MDF a partner-month")
        out.append(
            {
                "name": tier.name,
                "threshold": money(tier.threshold, cur),
                "effects": effects or "-",
                "terms": ", ".join(terms) or "-",
                "start": quantity(rows.loc[rows.month == 0, "partners"].mean()),
                "end": quantity(at_end.mean()),
                "band": f"{quantity(np.quantile(at_end, 0.1))}-{quantity(np.quantile(at_end, 0.9))}",
                "promoted": quantity(rows["promotions_in"].sum() / reps),
                "demoted": quantity(rows["demotions_in"].sum() / reps),
                "cost": money(rows["cost"].sum() / reps / years, cur),
            }
        )
    return out


def _levers(result: SimulationResult) -> list[dict[str, str]]:
    scn = result.scenario
    costs = result.lever_costs
    reps = max(len(result.replications), 1)
    years = scn.horizon_months / 12
    out = []
    for lever in scn.program.levers:
        first, last = lever.month_range(scn.horizon_months)
        effects = ", ".join(f"{signed_share(lever.intensity * x, 0)} {key_words(k)}" for k, x in lever.effects.items())
        targets = ", ".join(s.label for s in lever.states())
        if lever.segments:
            targets += f" ({', '.join(lever.segments)})"
        spent = float(costs.loc[costs.lever == lever.name, "cost"].sum()) / reps if costs is not None else float("nan")
        out.append(
            {
                "name": lever_words(lever.name),
                "phase": lever.phase,
                "targets": targets,
                "effects": effects or "-",
                "months": f"{first}-{last}",
                "terms": lever_cost(lever, scn.currency),
                "cost": money(spent / years, scn.currency) if np.isfinite(spent) else "-",
                "note": lever.note,
            }
        )
    return out
