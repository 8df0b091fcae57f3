"""Interactive (Plotly) versions of the report's charts, for the dashboard.

The same figures, bands and labels as :mod:`simulator.reports.charts`; every number on an axis, in a
legend or a hover is written by :mod:`simulator.formatting`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..formatting import change, figure_label, money, quantity, share
from ..planning.concentration import lorenz_points
from ..vocabulary import STATE_COLOURS, label

if TYPE_CHECKING:
    from ..engine.results import SimulationResult
    from ..planning.compare import CompareResult
    from ..planning.sizing import SizingResult
    from .logic import Payoff

FONT = {"family": "sans-serif", "size": 13}
#: The report's palette (``simulator.reports.charts.PALETTE``, checked equal in the tests), written out so
#: the page does not import matplotlib.
PALETTE = ("#1f4e79", "#2e86c1", "#48c9b0", "#f5b041", "#e74c3c", "#8e44ad", "#7f8c8d")


def _html(text: str) -> str:
    """Scenario text (a name, a currency) for a Plotly string, which reads a few HTML tags: shown as written."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _layout(fig: go.Figure, title: str, height: int = 380) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0.01, "xanchor": "left", "font": {"size": 15}},
        height=height,
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
        font=FONT,
        plot_bgcolor="white",
        legend={"orientation": "h", "y": -0.2, "x": 0},
        hovermode="x unified",
    )
    fig.update_xaxes(showgrid=True, gridcolor="#e5e5e5", zeroline=False)
    fig.update_yaxes(showgrid=True, gridcolor="#e5e5e5", zeroline=False)
    return fig


def nice_ticks(low: float, high: float, count: int = 6) -> list[float]:
    """About ``count`` round tick values (steps of 1, 2, 2.5 or 5 times a power of ten) within [low, high]."""
    if not np.isfinite(low) or not np.isfinite(high) or high <= low:
        high = low + 1.0
    raw = (high - low) / count
    power = 10.0 ** np.floor(np.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = np.ceil(low / step) * step
    return [float(np.round(v / step) * step) for v in np.arange(first, high + step * 1e-9, step)]


def money_ticks(low: float, high: float) -> tuple[list[float], list[str]]:
    """Round tick values between ``low`` and ``high``, written as money (k / m / bn)."""
    values = nice_ticks(low, high)
    return values, [money(v) for v in values]


def _text(name: str, value: str) -> str:
    return f"{name}: {value}"


def revenue_fan(result: SimulationResult, title: str | None = None, y_max: float | None = None) -> go.Figure:
    """Fan chart of trailing-12-month revenue: median, P25-P75 and P10-P90 bands, and the plan target."""
    scn = result.scenario
    cur = _html(scn.currency)
    g = result.monthly.groupby("month")["revenue_t12m"]
    q = {p: g.quantile(p / 100) for p in (10, 25, 50, 75, 90)}
    months = q[50].index.to_numpy()
    fig = go.Figure()
    for low, high, alpha, name in ((10, 90, 0.18, "P10-P90"), (25, 75, 0.35, "P25-P75")):
        fig.add_trace(
            go.Scatter(x=months, y=q[high], mode="lines", line={"width": 0}, showlegend=False, hoverinfo="skip")
        )
        fig.add_trace(
            go.Scatter(
                x=months,
                y=q[low],
                mode="lines",
                line={"width": 0},
                fill="tonexty",
                fillcolor=f"rgba(46, 134, 193, {alpha})",
                name=name,
                customdata=[f"{money(a)} to {money(b, cur)}" for a, b in zip(q[low], q[high], strict=True)],
                hovertemplate=f"{name}: %{{customdata}}<extra></extra>",
            )
        )
    fig.add_trace(
        go.Scatter(
            x=months,
            y=q[50],
            mode="lines",
            line={"color": PALETTE[0], "width": 2.5},
            name="median",
            customdata=[money(v, cur) for v in q[50]],
            hovertemplate="median: %{customdata}<extra></extra>",
        )
    )
    target = scn.plan.revenue_target
    top = float(q[90].max())
    if target is not None:
        fig.add_trace(
            go.Scatter(
                x=[months[0], months[-1]],
                y=[target, target],
                mode="lines",
                line={"color": PALETTE[4], "dash": "dash", "width": 1.5},
                name=f"plan target ({money(target, cur)})",
                hoverinfo="skip",
            )
        )
        top = max(top, float(target))
    y_top = max(y_max or 0.0, top) * 1.05
    ticks, texts = money_ticks(0.0, y_top)
    fig.update_yaxes(
        title_text=f"revenue, trailing 12 months ({cur})", range=[0, y_top], tickvals=ticks, ticktext=texts
    )
    fig.update_xaxes(title_text="month", range=[months[0], months[-1]])
    reps = len(result.replications)
    return _layout(fig, title or f"{_html(scn.name)}: revenue, trailing 12 months ({plural_reps(reps)})")


def plural_reps(n: int) -> str:
    return f"{quantity(n)} replication{'s' if n != 1 else ''}"


def fan_top(*results: SimulationResult) -> float:
    """The highest P90 (or plan target) of the fans, so side-by-side fans share one scale."""
    top = 0.0
    for r in results:
        top = max(top, float(r.monthly.groupby("month")["revenue_t12m"].quantile(0.9).max()))
        if r.scenario.plan.revenue_target is not None:
            top = max(top, float(r.scenario.plan.revenue_target))
    return top


def partners_by_state(result: SimulationResult, title: str | None = None) -> go.Figure:
    """Mean companies in each partner state over time (stacked), with prospects in nurturing and
    cumulative exits as lines."""
    mean = result.monthly.groupby("month")[list(STATE_COLOURS)].mean()
    months = mean.index.to_numpy()
    fig = go.Figure()
    for state in ("signed", "active", "collaborating", "dormant"):
        fig.add_trace(
            go.Scatter(
                x=months,
                y=mean[state],
                mode="lines",
                stackgroup="partners",
                line={"width": 0.5, "color": STATE_COLOURS[state]},
                fillcolor=STATE_COLOURS[state],
                name=label(state),
                customdata=[quantity(v) for v in mean[state]],
                hovertemplate=f"{label(state)}: %{{customdata}}<extra></extra>",
            )
        )
    for state, dash in (("nurturing", "dot"), ("churned", "dash")):
        fig.add_trace(
            go.Scatter(
                x=months,
                y=mean[state],
                mode="lines",
                line={"color": PALETTE[1] if state == "nurturing" else STATE_COLOURS["churned"], "dash": dash},
                name=label(state) + (" (cumulative)" if state == "churned" else ""),
                customdata=[quantity(v) for v in mean[state]],
                hovertemplate=f"{label(state)}: %{{customdata}}<extra></extra>",
            )
        )
    fig.update_xaxes(title_text="month", range=[months[0], months[-1]])
    fig.update_yaxes(title_text="companies (mean over replications)")
    return _layout(fig, title or f"{_html(result.scenario.name)}: partners by state")


def lorenz_chart(result: SimulationResult, q: float = 0.2, title: str | None = None) -> go.Figure:
    """Lorenz curves of trailing-12-month revenue at the horizon (median over replications), among
    earning partners and among all signed partners, with the top-20% point marked."""
    if result.partners is None:
        raise ValueError("the Lorenz curve needs the partner scorecard: simulate(..., partners=True)")
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=[0, 1],
            y=[0, 1],
            mode="lines",
            line={"color": "grey", "dash": "dot"},
            name="equal revenue",
            hoverinfo="skip",
        )
    )
    for among, name, colour, dash in (
        ("earning", "earning", PALETTE[0], "solid"),
        ("all", "all signed", PALETTE[3], "dash"),
    ):
        points = lorenz_points(result.partners, among=among, points=101)
        if points["p50"].isna().all():
            continue
        x, y = points["partner_share"].to_numpy(), points["p50"].to_numpy()
        top = 1 - float(np.interp(1 - q, x, y))
        fig.add_trace(
            go.Scatter(
                x=x,
                y=y,
                mode="lines",
                line={"color": colour, "dash": dash, "width": 2},
                name=f"{name} partners: top {share(q, 0)} earn {share(top)}",
                customdata=[f"{share(a, 0)} of partners earn {share(b)}" for a, b in zip(x, y, strict=True)],
                hovertemplate="%{customdata}<extra></extra>",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=[1 - q],
                y=[1 - top],
                mode="markers",
                marker={"color": colour, "size": 9},
                showlegend=False,
                hoverinfo="skip",
            )
        )
    ticks = [0, 0.2, 0.4, 0.6, 0.8, 1.0]
    fig.update_xaxes(
        title_text="share of partners (lowest revenue first)",
        range=[0, 1],
        tickvals=ticks,
        ticktext=[share(t, 0) for t in ticks],
    )
    fig.update_yaxes(
        title_text="share of revenue, trailing 12 months",
        range=[0, 1],
        tickvals=ticks,
        ticktext=[share(t, 0) for t in ticks],
    )
    scn = result.scenario
    fig = _layout(fig, title or f"{_html(scn.name)}: revenue concentration at month {scn.horizon_months}")
    fig.update_layout(hovermode="closest")
    return fig


MONEY_FIGURES = ("revenue_last_12m", "contribution_last_12m", "cost_last_12m")
COUNT_FIGURES = ("activations", "active", "collaborating", "dormant", "churned")


def compare_chart(result: CompareResult) -> go.Figure:
    """Paired differences B - A: mean (dot) and 90% interval (bar) of each figure, money and partners
    apart, with P(B better than A) in each label."""
    d = result.differences
    cur = _html(result.b.scenario.currency)
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.25)
    for col, names, unit in ((1, MONEY_FIGURES, cur), (2, COUNT_FIGURES, "partners")):
        rows = d.loc[[n for n in names if n in d.index]]
        labels = [
            f"{figure_label(n)}<br>P(B better) {share(p, 0)}" if np.isfinite(p) else figure_label(n)
            for n, p in zip(rows.index, rows["p_b_better"], strict=True)
        ]
        mean = rows["mean_diff"].to_numpy(float)
        good = [m * (1 if b == "higher" else -1) >= 0 for m, b in zip(mean, rows["better"], strict=True)]
        colours = [PALETTE[2] if g else PALETTE[4] for g in good]
        for i, (n, row) in enumerate(rows.iterrows()):
            fig.add_trace(
                go.Scatter(
                    x=[row.p05, row.p95],
                    y=[labels[i]] * 2,
                    mode="lines",
                    line={"color": colours[i], "width": 6},
                    opacity=0.6,
                    showlegend=False,
                    hoverinfo="skip",
                ),
                row=1,
                col=col,
            )
            fig.add_trace(
                go.Scatter(
                    x=[row.mean_diff],
                    y=[labels[i]],
                    mode="markers",
                    marker={"color": "black", "size": 8},
                    showlegend=False,
                    customdata=[
                        f"{change(n, row.mean_diff, cur)} (90%: {change(n, row.p05, cur)} to {change(n, row.p95, cur)})"
                    ],
                    hovertemplate="%{customdata}<extra></extra>",
                ),
                row=1,
                col=col,
            )
        values = np.concatenate([rows["p05"].to_numpy(float), rows["p95"].to_numpy(float), [0.0]])
        low, high = float(np.nanmin(values)), float(np.nanmax(values))
        pad = 0.08 * (high - low) if high > low else 1.0
        if unit == cur:
            ticks, texts = money_ticks(low - pad, high + pad)
            fig.update_xaxes(tickvals=ticks, ticktext=texts, row=1, col=col)
        fig.update_xaxes(
            title_text=f"B - A at month {result.b.scenario.horizon_months} ({unit})",
            range=[low - pad, high + pad],
            zeroline=True,
            zerolinecolor="grey",
            row=1,
            col=col,
        )
        fig.update_yaxes(autorange="reversed", row=1, col=col)
    fig = _layout(fig, "Paired differences, variant (B) against baseline (A), on the same draws", height=400)
    fig.update_layout(hovermode="closest")
    return fig


def payoff_chart(p: Payoff, currency: str) -> go.Figure:
    """The cumulative paired contribution difference by month, with the payback month marked."""
    currency = _html(currency)
    months = p.cumulative.index.to_numpy()
    values = p.cumulative.to_numpy(float)
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=months,
            y=values,
            mode="lines",
            line={"color": PALETTE[0], "width": 2},
            name="cumulative contribution, B - A",
            customdata=[change("contribution_total", v, currency) for v in values],
            hovertemplate="month %{x}: %{customdata}<extra></extra>",
        )
    )
    if p.payback_month is not None:
        fig.add_vline(x=p.payback_month, line={"color": PALETTE[2], "dash": "dash"})
    low, high = float(min(values.min(initial=0), 0)), float(max(values.max(initial=0), 0))
    pad = 0.08 * (high - low) if high > low else 1.0
    ticks, texts = money_ticks(low - pad, high + pad)
    fig.update_yaxes(
        title_text=f"cumulative contribution, B - A ({currency})",
        range=[low - pad, high + pad],
        tickvals=ticks,
        ticktext=texts,
        zeroline=True,
        zerolinecolor="grey",
    )
    fig.update_xaxes(title_text="month")
    return _layout(fig, "Cumulative paired contribution difference", height=320)


def sizing_chart(result: SizingResult) -> go.Figure:
    """P(plan met) against each value tried, with Wilson 95% intervals, the confidence line and the
    answer marked (or the best value, when the plan is out of reach)."""
    curve = result.curve.sort_values("value")
    x = curve["value"].to_numpy(float)
    p = curve["p_plan_met"].to_numpy(float)
    low, high = curve["p_low"].to_numpy(float), curve["p_high"].to_numpy(float)
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=x,
            y=p,
            mode="lines+markers",
            line={"color": PALETTE[0]},
            error_y={"type": "data", "symmetric": False, "array": high - p, "arrayminus": p - low, "color": PALETTE[1]},
            name="P(plan met), 95% interval",
            customdata=[f"{share(a)} ({share(b)} to {share(c)})" for a, b, c in zip(p, low, high, strict=True)],
            hovertemplate="%{x}: %{customdata}<extra></extra>",
        )
    )
    fig.add_hline(y=result.confidence, line={"color": PALETTE[4], "dash": "dash"})
    if result.reachable and result.value is not None:
        fig.add_trace(
            go.Scatter(
                x=[result.value],
                y=[result.probability],
                mode="markers",
                marker={"symbol": "star", "size": 16, "color": PALETTE[2]},
                name=f"answer: {_value(result.value, result.integer)} (P = {share(result.probability)})",
            )
        )
    else:
        fig.add_trace(
            go.Scatter(
                x=[result.best_value],
                y=[result.best_probability],
                mode="markers",
                marker={"symbol": "x", "size": 12, "color": PALETTE[4]},
                name=f"not reachable: best P = {share(result.best_probability)}"
                f" at {_value(result.best_value, result.integer)}",
            )
        )
    ticks = [0, 0.2, 0.4, 0.6, 0.8, 1.0]
    fig.update_yaxes(
        title_text="probability of meeting the plan",
        range=[-0.02, 1.02],
        tickvals=ticks,
        ticktext=[share(t, 0) for t in ticks],
    )
    fig.update_xaxes(title_text=result.label or result.decision)
    title = (
        f"{_html(result.scenario.name)}: P(revenue of the last 12 months >= "
        f"{money(result.target, _html(result.scenario.currency))}),"
        f" required {share(result.confidence, 0)}"
    )
    fig = _layout(fig, title)
    fig.update_layout(hovermode="closest")
    return fig


def _value(value: float, integer: bool) -> str:
    return quantity(value) if integer else f"{value:.4g}"


def side_by_side(
    left: go.Figure, right: go.Figure, title: str, shared_y: bool = True, both_legends: bool = False
) -> go.Figure:
    """Two single charts as one figure with two panels (one chart for the browser to draw, not two);
    the legend is shown once and toggles both panels (``both_legends``: each panel's entries shown, for
    legends that carry numbers)."""
    fig = make_subplots(
        rows=1,
        cols=2,
        shared_yaxes=shared_y,
        horizontal_spacing=0.05 if shared_y else 0.1,
        subplot_titles=(left.layout.title.text, right.layout.title.text),
    )
    for col, part in ((1, left), (2, right)):
        for trace in part.data:
            trace = go.Scatter(trace) if isinstance(trace, go.Scatter) else trace
            group = trace.name or trace.legendgroup
            shown = trace.showlegend is not False and (col == 1 or both_legends)
            trace.update(legendgroup=group, showlegend=shown)
            fig.add_trace(trace, row=1, col=col)
        fig.update_xaxes(part.layout.xaxis.to_plotly_json(), row=1, col=col)
        y = part.layout.yaxis.to_plotly_json()
        if col == 2 and shared_y:
            y.pop("title", None)
        fig.update_yaxes(y, row=1, col=col)
    fig = _layout(fig, title, height=max(int(left.layout.height or 380), int(right.layout.height or 380)) + 20)
    fig.update_layout(hovermode=left.layout.hovermode or "x unified")
    return fig
