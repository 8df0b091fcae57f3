"""Capacity: what today's channel delivers with recruitment switched off (question 1 of MODEL.md)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..engine.results import SimulationResult, simulate
from ..progress import phase
from ..scenario.loading import ScenarioLike
from ..scenario.schema import Scenario
from ..validation import CONFIDENCE, FLAG, REPLICATIONS, SEED, Whole, validate_arguments
from .common import as_scenario, band_row, bands, check_confidence, plan_goal

TRAJECTORY_FIGURES = ("revenue", "revenue_t12m", "earning_partners", "partners")


@dataclass
class CapacityResult:
    """What :func:`capacity` returns.

    ``scenario`` is the scenario with recruitment off; ``result`` its full
    :class:`SimulationResult`. ``per_replication`` has one row per
    replication: trailing-12-month revenue today (month 0) and at the horizon,
    the annualized growth between them, whether the plan is met and the gap
    to it. ``trajectory`` is tidy (month, figure, mean, p10, p50, p90) for
    monthly revenue, trailing-12-month revenue, earning partners and partners
    in the channel.
    """

    scenario: Scenario
    result: SimulationResult
    target: float | None
    confidence: float
    per_replication: pd.DataFrame
    trajectory: pd.DataFrame

    @property
    def monthly(self) -> pd.DataFrame:
        """The monthly table of the run with recruitment off."""
        return self.result.monthly

    @property
    def kpis(self) -> pd.DataFrame:
        """Horizon figures per replication of the run with recruitment off."""
        return self.result.kpis

    @property
    def p_plan_met(self) -> float | None:
        """Share of replications whose last-12-month revenue reaches the target (None without a target)."""
        return None if self.target is None else float(self.per_replication["plan_met"].mean())

    @property
    def growth_rate(self) -> float:
        """Median annualized growth of trailing-12-month revenue from today to the horizon."""
        return float(self.per_replication["growth_rate"].median())

    @property
    def gap_at_confidence(self) -> float | None:
        """Revenue recruitment must add for the plan to be met with ``confidence``.

        The target minus the ``1 - confidence`` quantile of last-12-month revenue
        (at confidence 0.9: the target minus P10 revenue), floored at 0.
        """
        if self.target is None:
            return None
        low = float(np.quantile(self.per_replication["revenue_last_12m"], 1.0 - self.confidence))
        return max(self.target - low, 0.0)

    def summary(self) -> pd.DataFrame:
        """Mean and P10/P50/P90 of the capacity figures, plus P(plan met) and the gap at the confidence."""
        pr = self.per_replication
        rows = {
            "revenue_t12m_today": band_row(pr["revenue_t12m_today"]),
            "revenue_last_12m": band_row(pr["revenue_last_12m"]),
            "growth_rate": band_row(pr["growth_rate"]),
        }
        if self.target is not None:
            rows["gap_to_plan"] = band_row(pr["gap_to_plan"])
        table = pd.DataFrame.from_dict(rows, orient="index")
        if self.target is not None:
            table.loc["p_plan_met"] = [self.p_plan_met, np.nan, np.nan, np.nan]
            table.loc["gap_at_confidence"] = [self.gap_at_confidence, np.nan, np.nan, np.nan]
        table.index.name = "figure"
        return table


@validate_arguments(
    replications=REPLICATIONS,
    seed=SEED,
    confidence=CONFIDENCE,
    partners=FLAG,
    uncertainty=FLAG,
    year=Whole(1, 50, optional=True),
)
def capacity(
    scenario: ScenarioLike,
    replications: int = 200,
    seed: int = 0,
    *,
    target: float | None = None,
    confidence: float | None = None,
    partners: bool = True,
    uncertainty: bool = True,
    year: int | None = None,
    **overrides: object,
) -> CapacityResult:
    """Today's channel with recruitment off: revenue trajectory, growth, P(plan met) and the gap.

    Runs ``scenario`` (a Scenario, YAML path or dict, with ``section__key``
    overrides) with ``recruitment.nurture_per_month = 0``: exactly
    ``simulate(scenario, replications, seed, recruitment__nurture_per_month=0)``.
    The growth rate is the annualized growth of trailing-12-month revenue,
    ``(T12_horizon / T12_today) ** (12 / horizon) - 1`` per replication (NaN
    when today's channel earns nothing). ``target`` (default
    ``plan.revenue_target``) and ``confidence`` (default ``plan.confidence``)
    give P(plan met) without recruiting and the gap: target minus revenue of
    the last 12 months (positive when short).
    """
    base = as_scenario(scenario, overrides, uncertainty)
    scn = base.override(recruitment__nurture_per_month=0, name=f"{base.name} (no recruitment)")
    has_plan = target is not None or year is not None or scn.plan.revenue_target is not None
    goal, yearly = plan_goal(scn, target, year, "capacity") if has_plan else (None, None)
    conf = check_confidence(confidence, scn)
    with phase("capacity", total=len(replications)):
        result = simulate(scn, replications=replications, seed=seed, partners=partners)

    m = result.monthly
    H = scn.horizon_months
    first = m.loc[m["month"] == 0, ["replication", "revenue_t12m"]].set_index("replication")["revenue_t12m"]
    last = m.loc[m["month"] == H, ["replication", "revenue_t12m"]].set_index("replication")["revenue_t12m"]
    per = pd.DataFrame({"revenue_t12m_today": first, "revenue_last_12m": last})
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = per["revenue_last_12m"].to_numpy() / per["revenue_t12m_today"].to_numpy()
        per["growth_rate"] = np.where(per["revenue_t12m_today"] > 0, ratio ** (12.0 / H) - 1.0, np.nan)
    if goal is not None:
        per["plan_met"] = per["revenue_last_12m"] >= goal
        per["gap_to_plan"] = goal - per["revenue_last_12m"]
        if yearly is not None:  # every yearly target (or the named year's) must be met
            ends = m.loc[(m["month"] % 12 == 0) & (m["month"] > 0)]
            by_year = ends.pivot(index="replication", columns="month", values="revenue_t12m").to_numpy()
            per["plan_met"] = yearly.met(by_year)
            if yearly.year is not None:
                per["gap_to_plan"] = goal - by_year[:, yearly.year - 1]
    per = per.reset_index()

    monthly = m[["replication", "month", "revenue", "revenue_t12m", "earning_partners"]].copy()
    monthly["partners"] = m["signed"] + m["active"] + m["collaborating"] + m["dormant"]
    figures = [f for f in TRAJECTORY_FIGURES if not (f == "earning_partners" and (monthly[f] < 0).all())]
    trajectory = bands(monthly, "month", figures)
    return CapacityResult(
        scenario=scn, result=result, target=goal, confidence=conf, per_replication=per, trajectory=trajectory
    )
