"""Charts of results: each function takes results and returns a matplotlib Figure.

Figures are drawn with the object-oriented API (no pyplot state), so they can
be made in worker threads, saved, or embedded in reports.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, PercentFormatter

from .. import formatting
from ..lifecycle.measurement import lorenz_curve
from ..vocabulary import STATE_COLOURS
from ..vocabulary import label as figure_label

if TYPE_CHECKING:
    from ..engine.results import SimulationResult
    from ..planning.compare import CompareResult
    from ..planning.sizing import SizingResult
    from ..sweeps.sensitivity import SensitivityResult

PALETTE = ("#1f4e79", "#2e86c1", "#48c9b0", "#f5b041", "#e74c3c", "#8e44ad", "#7f8c8d")


def _plain(text: str) -> str:
    """Scenario text for a chart: a '$' is text, not matplotlib math."""
    return text.replace("$", r"\$")


def _name(scenario: Any) -> str:
    return _plain(scenario.name)


def _figure(width: float = 8.0, height: float = 4.5) -> tuple[Figure, Any]:
    fig = Figure(figsize=(width, height), layout="constrained")
    return fig, fig.add_subplot()


def money_axis(axis: Any, currency: str) -> None:
    """Format an axis in k / m / bn of the currency."""

    axis.set_major_formatter(FuncFormatter(lambda x, _pos: formatting.money(x)))
    if currency:
        axis.set_label_text(f"{axis.get_label_text()} ({_plain(currency)})".strip())


def _bands(monthly: pd.DataFrame, column: str) -> pd.DataFrame:
    g = monthly.groupby("month")[column]
    return pd.DataFrame({q: g.quantile(q / 100) for q in (10, 25, 50, 75, 90)})


def revenue_fan(result: SimulationResult, column: str = "revenue_t12m", target: float | None = None) -> Figure:
    """Fan chart of revenue: median with P25-P75 and P10-P90 bands, and the plan target.

    ``column`` is ``revenue_t12m`` (trailing 12 months, the plan's measure) or
    ``revenue`` (monthly). The target defaults to ``plan.revenue_target``.
    """
    scn = result.scenario
    bands = _bands(result.monthly, column)
    fig, ax = _figure()
    months = bands.index.to_numpy()
    ax.fill_between(months, bands[10], bands[90], color=PALETTE[1], alpha=0.18, lw=0, label="P10-P90")
    ax.fill_between(months, bands[25], bands[75], color=PALETTE[1], alpha=0.35, lw=0, label="P25-P75")
    ax.plot(months, bands[50], color=PALETTE[0], lw=2, label="median")
    target = scn.plan.revenue_target if target is None and column == "revenue_t12m" else target
    if target is not None:
        ax.axhline(
            target,
            color=PALETTE[4],
            ls="--",
            lw=1.5,
            label=f"plan target ({formatting.money(target, _plain(scn.currency))})",
        )
    label = "revenue, trailing 12 months" if column == "revenue_t12m" else "revenue per month"
    ax.set_xlabel("month")
    ax.set_ylabel(label)
    money_axis(ax.yaxis, scn.currency)
    ax.set_xlim(months[0], months[-1])
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=9)
    ax.set_title(f"{_name(scn)}: {label} ({len(result.replications)} replications)", loc="left")
    return fig


def partners_by_state(result: SimulationResult) -> Figure:
    """Mean companies in each partner state over time (stacked), with cumulative exits."""
    scn = result.scenario
    mean = result.monthly.groupby("month")[list(STATE_COLOURS)].mean()
    # The partners in the channel stack up on top; the flows around them (prospects in nurturing, partners
    # that left) are lines on a panel of their own, where they cross no coloured area.
    fig = Figure(figsize=(8.0, 5.6), layout="constrained")
    ax, below = fig.subplots(2, 1, sharex=True, height_ratios=(3, 1.6))
    stacked = ["signed", "active", "collaborating", "dormant"]
    ax.stackplot(
        mean.index,
        *(mean[s] for s in stacked),
        labels=[figure_label(s) for s in stacked],
        colors=[STATE_COLOURS[s] for s in stacked],
        alpha=0.9,
    )
    ax.set_ylabel("partners (mean)")
    ax.set_xlim(mean.index[0], mean.index[-1])
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    handles, labels = ax.get_legend_handles_labels()
    ax.legend(handles[::-1], labels[::-1], loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=9, frameon=False)
    ax.set_title(f"{_name(scn)}: partners by state", loc="left")
    below.plot(mean.index, mean["nurturing"], color=PALETTE[1], lw=2, label="prospects in nurturing")
    below.plot(
        mean.index,
        mean["churned"],
        color=STATE_COLOURS["churned"],
        lw=2,
        ls="--",
        label="partners that left, cumulative",
    )
    below.set_title("around the channel: prospects in nurturing, partners that left", loc="left", fontsize=10)
    below.set_ylabel("companies (mean)")
    below.set_xlabel("month")
    below.set_ylim(bottom=0)
    below.grid(alpha=0.3)
    below.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=9, frameon=False)
    return fig


def funnel_counts(result: SimulationResult) -> pd.Series:
    """Recruitment funnel per replication (mean): nurtured, signed, activated, collaborating."""
    if result.partners is None:
        raise ValueError("the funnel needs the partner scorecard: simulate(..., partners=True)")
    reps = len(result.replications)
    steps = result.monthly[result.monthly.month > 0]
    recruited = result.partners[result.partners.cohort == "recruited"]
    return pd.Series(
        {
            "nurtured": steps.nurtured.sum() / reps,
            "signed": len(recruited) / reps,
            "activated": recruited.first_deal_month.notna().sum() / reps,
            "collaborating": (recruited.months_collaborating > 0).sum() / reps,
        }
    )


def recruitment_funnel(result: SimulationResult) -> Figure:
    """The recruitment funnel over the horizon, nurtured -> signed -> activated -> collaborating,
    with the conversion rate of each step (means per replication)."""
    counts = funnel_counts(result)
    fig, ax = _figure(8.0, 4.0)
    y = np.arange(len(counts))[::-1]
    widths = counts.to_numpy()
    top = max(widths.max(), 1e-9)
    left = (top - widths) / 2  # centred bars: the funnel's shape
    ax.barh(y, widths, left=left, color=[PALETTE[i] for i in (1, 3, 0, 2)], height=0.7)
    for i, (name, value) in enumerate(counts.items()):
        previous = counts.iloc[i - 1] if i else 0
        rate = f"  ({value / previous:.0%} of {counts.index[i - 1]})" if i and previous > 0 else ""
        ax.text(
            left[i] + widths[i] + 0.02 * top,
            y[i],
            f"{name}: {formatting.quantity(value)}{rate}",
            va="center",
            fontsize=10,
        )
    ax.set_xlim(0, 1.6 * top)
    ax.set_yticks([])
    ax.set_xticks([])
    for side in ("top", "right", "left", "bottom"):
        ax.spines[side].set_visible(False)
    ax.set_title(
        f"{_name(result.scenario)}: recruitment funnel over {result.scenario.horizon_months} months "
        "(companies per replication)",
        loc="left",
    )
    return fig


def lorenz_chart(result: SimulationResult, q: float = 0.2) -> Figure:
    """Lorenz curves of trailing-12-month revenue at the horizon (median over replications),
    among earning partners and among all signed partners, with the top-20% point marked."""
    if result.partners is None:
        raise ValueError("the Lorenz curve needs the partner scorecard: simulate(..., partners=True)")
    grid = np.linspace(0, 1, 201)
    p = result.partners
    in_channel = p.state.isin(["signed", "active", "collaborating", "dormant"]) | (p.revenue_t12m > 0)
    curves: dict[str, list[np.ndarray]] = {"earning": [], "all signed": []}
    for _, one in p[in_channel].groupby("replication"):
        for name, values in (("earning", one.revenue_t12m[one.revenue_t12m > 0]), ("all signed", one.revenue_t12m)):
            if len(values) and values.sum() > 0:
                x, y = lorenz_curve(values.to_numpy())
                curves[name].append(np.interp(grid, x, y))
    fig, ax = _figure(6.5, 5.5)
    ax.plot([0, 1], [0, 1], color="grey", lw=1, ls=":", label="equal revenue")
    for (name, found), colour, style in zip(curves.items(), (PALETTE[0], PALETTE[3]), ("-", "--"), strict=True):
        if not found:
            continue
        median = np.median(np.vstack(found), axis=0)
        share = 1 - np.interp(1 - q, grid, median)
        # The top-q share is said in the legend, beside its curve's line, and marked by a dot on the
        # curve: no leader line crosses a curve.
        ax.plot(
            grid,
            median,
            color=colour,
            lw=2,
            ls=style,
            label=f"{name} partners: the top {q:.0%} earn {formatting.share(share, 0)}",
        )
        ax.plot([1 - q], [1 - share], "o", color=colour, ms=7)
    ax.set_xlabel("share of partners (lowest revenue first)")
    ax.set_ylabel("share of revenue, trailing 12 months")
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.axvline(1 - q, color="grey", lw=0.8, ls="--")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=9)
    scn = result.scenario
    ax.set_title(f"{_name(scn)}: revenue concentration at month {scn.horizon_months}", loc="left")
    return fig


def sensitivity_chart(result: SensitivityResult) -> Figure:
    """Bar chart of sensitivity indices per key, with confidence intervals."""
    table = result.table
    keys = list(table.index)
    fig, ax = _figure(8.0, 1.2 + 0.55 * len(keys))
    y = range(len(keys))
    if result.method == "sobol":
        h = 0.38
        ax.barh(
            [i - h / 2 for i in y],
            table["S1"],
            height=h,
            xerr=table["S1_conf"],
            color=PALETTE[1],
            label="first order S1",
            capsize=3,
        )
        ax.barh(
            [i + h / 2 for i in y],
            table["ST"],
            height=h,
            xerr=table["ST_conf"],
            color=PALETTE[0],
            label="total ST",
            capsize=3,
        )
        ax.set_xlabel(f"share of the variance of {_plain(figure_label(result.kpi))}")
        ax.set_xlim(left=min(0.0, float((table["S1"] - table["S1_conf"]).min())))
    else:
        ax.barh(
            list(y), table["mu_star"], xerr=table["mu_star_conf"], color=PALETTE[0], label="mu* (effect)", capsize=3
        )
        ax.plot(table["sigma"], list(y), "o", color=PALETTE[4], label="sigma (interactions, non-linearity)")
        ax.set_xlabel(f"elementary effect on {_plain(figure_label(result.kpi))}")
        if result.kpi.startswith(("revenue", "cost", "contribution", "margin")):
            money_axis(ax.xaxis, "")
    ax.set_yticks(list(y), keys)
    ax.invert_yaxis()
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title(f"Sensitivity of {_plain(figure_label(result.kpi))} ({result.method.capitalize()})", loc="left")
    return fig


def _decision(result: SizingResult, value: float | None) -> str:
    return formatting.decision_value(result.decision, value, result.integer)


def sizing_chart(result: SizingResult) -> Figure:
    """P(plan met) against each value tried, with Wilson 95% intervals, the confidence line
    and the answer marked (or the best value, when the plan is out of reach)."""
    curve = result.curve.sort_values("value")
    fig, ax = _figure()
    x = curve["value"].to_numpy(float)
    p = curve["p_plan_met"].to_numpy(float)
    err = np.vstack([p - curve["p_low"].to_numpy(float), curve["p_high"].to_numpy(float) - p])
    ax.errorbar(
        x,
        p,
        yerr=err,
        fmt="o-",
        color=PALETTE[0],
        ecolor=PALETTE[1],
        capsize=3,
        lw=1.5,
        label="P(plan met), 95% interval",
    )
    ax.axhline(
        result.confidence,
        color=PALETTE[4],
        ls="--",
        lw=1.2,
        label=f"required confidence {formatting.share(result.confidence, 0)}",
    )
    if result.reachable and result.value is not None:
        ax.axvline(result.value, color=PALETTE[2], lw=1.5)
        ax.plot(
            [result.value],
            [result.probability],
            "*",
            ms=16,
            color=PALETTE[2],
            label=f"answer: {_decision(result, result.value)} (P = {formatting.share(result.probability, 0)})",
        )
    else:
        ax.plot(
            [result.best_value],
            [result.best_probability],
            "X",
            ms=12,
            color=PALETTE[4],
            label=f"not reachable: best P = {formatting.share(result.best_probability, 0)} at "
            f"{_decision(result, result.best_value)}",
        )
    ax.set_xlabel(_plain(formatting.key_words(result.decision)))
    ax.set_ylabel("probability of meeting the plan")
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_ylim(-0.02, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=9)
    ax.set_title(
        f"{_name(result.scenario)}: P(revenue of the last 12 months >= "
        f"{formatting.money(result.target, _plain(result.scenario.currency))})",
        loc="left",
    )
    return fig


MONEY_FIGURES = ("revenue_last_12m", "contribution_last_12m", "cost_last_12m")
COUNT_FIGURES = ("activations", "active", "collaborating", "dormant", "churned")


def compare_chart(result: CompareResult) -> Figure:
    """Paired differences B - A: mean and 90% interval of each figure, money and partners apart,
    with P(B better than A) beside each."""
    d = result.differences
    scn_a, scn_b = result.a.scenario, result.b.scenario
    fig = Figure(figsize=(9.0, 5.0), layout="constrained")
    axes = fig.subplots(1, 2)
    for ax, figures, unit in ((axes[0], MONEY_FIGURES, scn_b.currency), (axes[1], COUNT_FIGURES, "partners")):
        rows = d.loc[[f for f in figures if f in d.index]]
        y = np.arange(len(rows))[::-1]
        mean = rows["mean_diff"].to_numpy(float)
        low, high = rows["p05"].to_numpy(float), rows["p95"].to_numpy(float)
        colours = [
            PALETTE[2] if m * (1 if b == "higher" else -1) >= 0 else PALETTE[4]
            for m, b in zip(mean, rows["better"], strict=True)
        ]
        ax.hlines(y, low, high, color=colours, lw=3, alpha=0.6)
        ax.plot(mean, y, "o", color="black", ms=5)
        ax.axvline(0, color="grey", lw=1)
        labels = [
            f"{_plain(figure_label(f))}\nP(B better) {formatting.share(pb, 0)}" if np.isfinite(pb) else figure_label(f)
            for f, pb in zip(rows.index, rows["p_b_better"], strict=True)
        ]
        ax.set_yticks(y, labels, fontsize=8)
        ax.grid(axis="x", alpha=0.3)
        ax.set_xlabel(f"B - A at month {scn_b.horizon_months} ({_plain(unit)})")
        if unit != "partners":
            money_axis(ax.xaxis, "")
    # A figure-level x label: constrained layout keeps room for it below the axes' own labels.
    fig.supxlabel(
        "dots: mean difference; bars: 90% interval of the paired differences",
        x=0.01,
        ha="left",
        fontsize=8,
        color="#5d6d7e",
    )
    fig.suptitle(f"{_name(scn_b)} (B) against {_name(scn_a)} (A), paired on the same draws", x=0.01, ha="left")
    return fig


def tornado_chart(result: Any) -> Figure:
    """Tornado chart: each key's swing of the figure from its low to its high value, largest on top."""
    from ..formatting import figure, figure_label

    table = result.table.iloc[::-1]
    fig, ax = _figure(8.0, 1.4 + 0.45 * len(table))
    base = float(result.table["figure_base"].iloc[0])
    y = np.arange(len(table))
    low = table["figure_low"].to_numpy() - base
    high = table["figure_high"].to_numpy() - base
    ax.barh(y, low, left=base, color=PALETTE[4], alpha=0.8, label="key at its low value")
    ax.barh(y, high, left=base, color=PALETTE[1], alpha=0.8, label="key at its high value")
    ax.axvline(base, color="black", lw=1)
    ax.set_yticks(y, [f"{_plain(k)}  ({_plain(s)})" for k, s in zip(table["key"], table["source"], strict=True)])
    currency = result.scenario.currency
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _p: figure(result.kpi, x)))
    ax.set_xlabel(_plain(figure_label(result.kpi, currency)))
    ax.set_title(_plain(f"What moves {figure_label(result.kpi).lower()} most"), loc="left")
    ax.legend(loc="lower right", frameon=False, fontsize=8)
    return fig
