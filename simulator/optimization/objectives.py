"""What the optimiser maximises (or minimises), and the budget it must respect, as data.

An objective is a statistic of one figure over the replications of a
candidate: the mean, a quantile (risk: ``revenue_p10`` is the revenue of the
worst tenth of futures) or a share (``p_plan_met``). The same function
computes it on the search's replications, on the fresh ones of the
re-evaluation and on bootstrap resamples of them.

The program's cost (what the budget limits) is, per replication, the cost of
every lever of the program over the horizon (the engine's ``cost_program``:
fixed, per-partner, per-signing and revenue-share costs), plus, when
``recruitment.nurture_per_month`` is a decision, the cost of recruiting
(nurturing and onboarding), because the search then spends that money too.
The budget holds when the candidate's mean cost over the replications is
within it; the share of replications that overspend is reported beside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import ChannelError, did_you_mean, one_of


@dataclass(frozen=True)
class Objective:
    """A statistic of a per-replication figure, and which way is better."""

    name: str
    figure: str  # a column of the evaluation table
    statistic: str  # "mean", "p10", "p90" or "share_met"
    direction: str  # "maximize" or "minimize"
    label: str
    money: bool = True

    def of(self, values: np.ndarray, target: float | None = None, axis: int = -1) -> np.ndarray | float:
        """The statistic over replications (the last axis by default)."""
        v = np.asarray(values, dtype=np.float64)
        if self.statistic == "mean":
            return v.mean(axis=axis)
        if self.statistic == "p10":
            return np.quantile(v, 0.10, axis=axis)
        if self.statistic == "p90":
            return np.quantile(v, 0.90, axis=axis)
        return (v >= float(target)).mean(axis=axis)  # share_met: the plan is met

    @property
    def sign(self) -> float:
        """+1 when higher is better, -1 when lower is."""
        return 1.0 if self.direction == "maximize" else -1.0


OBJECTIVES: dict[str, Objective] = {
    o.name: o
    for o in (
        Objective("contribution", "contribution_total", "mean", "maximize", "Contribution over the horizon (mean)"),
        Objective("contribution_12m", "contribution_last_12m", "mean", "maximize", "Contribution, last 12 months"),
        Objective("contribution_p10", "contribution_total", "p10", "maximize", "Contribution over the horizon (P10)"),
        Objective("revenue", "revenue_last_12m", "mean", "maximize", "Revenue, last 12 months (mean)"),
        Objective("revenue_total", "revenue_total", "mean", "maximize", "Revenue over the horizon (mean)"),
        Objective("revenue_p10", "revenue_last_12m", "p10", "maximize", "Revenue, last 12 months (P10)"),
        Objective(
            "p_plan_met", "revenue_last_12m", "share_met", "maximize", "P(plan met): revenue >= target", money=False
        ),
        Objective("cost", "program_cost", "mean", "minimize", "Program cost over the horizon (mean)"),
    )
}


def parse_objectives(objective: str | Sequence[str], target: float | None) -> tuple[Objective, ...]:
    """``"contribution"`` or ``"contribution,p_plan_met"`` (or a list) -> objectives, checked."""
    names = [x.strip() for x in objective.split(",")] if isinstance(objective, str) else [str(x) for x in objective]
    names = [n for n in names if n]
    if not names:
        raise ChannelError(f"--objective: give at least one of {one_of(OBJECTIVES)}")
    out = []
    for name in names:
        if name not in OBJECTIVES:
            raise ChannelError(
                f"--objective {name!r}: unknown objective{did_you_mean(name, OBJECTIVES)}; use {one_of(OBJECTIVES)}"
            )
        if OBJECTIVES[name].statistic == "share_met" and target is None:
            raise ChannelError(f"--objective {name}: the scenario sets no plan.revenue_target to meet")
        out.append(OBJECTIVES[name])
    if len(set(names)) != len(names):
        raise ChannelError(f"--objective {','.join(names)}: an objective is named twice")
    return tuple(out)


@dataclass(frozen=True)
class Budget:
    """The most the program may cost: over the horizon, or each plan year (``per_year``)."""

    amount: float
    per_year: bool = False
    recruitment: bool = False  # nurturing and onboarding count (nurture is a decision)

    def __post_init__(self) -> None:
        if isinstance(self.amount, bool) or not np.isfinite(float(self.amount)) or float(self.amount) <= 0:
            raise ChannelError(f"--budget {self.amount!r}: must be a positive amount")

    def allowances(self, horizon: int) -> np.ndarray:
        """The budget of each period: one for the horizon, or one per plan year (a short last year pro rata)."""
        if not self.per_year:
            return np.array([float(self.amount)])
        months = [min(12, horizon - 12 * y) for y in range(-(-horizon // 12))]
        return np.array([float(self.amount) * m / 12 for m in months])

    def periods(self, horizon: int) -> list[tuple[int, int]]:
        """First and last month of each budget period."""
        if not self.per_year:
            return [(1, horizon)]
        return [(12 * y + 1, min(12 * y + 12, horizon)) for y in range(-(-horizon // 12))]

    def over_horizon(self, horizon: int) -> float:
        return float(self.allowances(horizon).sum())

    def describe(self, currency: str = "") -> str:
        from ..formatting import money

        return f"{money(self.amount, currency)} {'a year' if self.per_year else 'over the horizon'}"
