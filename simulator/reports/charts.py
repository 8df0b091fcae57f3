"""Charts of results: each function takes results and returns a matplotlib Figure.

Figures are drawn with the object-oriented API (no pyplot state), so they can
be made in worker threads, saved, or embedded in reports.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from matplotlib.figure import Figure

if TYPE_CHECKING:
    from ..sweeps.sensitivity import SensitivityResult

PALETTE = ("#1f4e79", "#2e86c1", "#48c9b0", "#f5b041", "#e74c3c", "#8e44ad", "#7f8c8d")


def _figure(width: float = 8.0, height: float = 4.5) -> tuple[Figure, object]:
    fig = Figure(figsize=(width, height), layout="constrained")
    return fig, fig.add_subplot()


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
        ax.set_xlabel(f"share of the variance of {result.kpi}")
        ax.set_xlim(left=min(0.0, float((table["S1"] - table["S1_conf"]).min())))
    else:
        ax.barh(
            list(y), table["mu_star"], xerr=table["mu_star_conf"], color=PALETTE[0], label="mu* (effect)", capsize=3
        )
        ax.plot(table["sigma"], list(y), "o", color=PALETTE[4], label="sigma (interactions, non-linearity)")
        ax.set_xlabel(f"elementary effect on {result.kpi}")
    ax.set_yticks(list(y), keys)
    ax.invert_yaxis()
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title(f"Sensitivity of {result.kpi} ({result.method.capitalize()})", loc="left")
    return fig
