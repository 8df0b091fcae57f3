"""Small pieces the planning answers share: scenario arguments, bands, binomial intervals."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ChannelError
from ..scenario.loading import ScenarioLike, load_scenario
from ..scenario.schema import Scenario
from ..stats import QUANTILES, band_row

__all__ = [
    "QUANTILES",
    "PlanGoal",
    "as_scenario",
    "band_row",
    "bands",
    "check_confidence",
    "check_target",
    "plan_goal",
]


def as_scenario(
    scenario: ScenarioLike, overrides: Mapping[str, Any] | None = None, uncertainty: bool = True
) -> Scenario:
    """A :class:`Scenario` from a Scenario, a YAML path or a dict, with ``section__key`` overrides
    (and without its ``uncertainty:`` section when ``uncertainty`` is False)."""
    scn = (
        scenario
        if isinstance(scenario, Scenario) and not overrides
        else load_scenario(scenario, **dict(overrides or {}))
    )
    return scn if uncertainty else scn.without_uncertainty()


def check_target(target: float | None, scenario: Scenario, what: str = "this answer") -> float:
    """The revenue target: ``target`` if given, else ``plan.revenue_target``; finite and > 0."""
    value = scenario.plan.revenue_target if target is None else target
    if value is None:
        raise ChannelError(
            f"{what} needs a revenue target: set plan.revenue_target in the scenario or pass a target (--target)"
        )
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ChannelError(
            f"target = {value!r}: must be a number of {scenario.currency} (revenue of the last 12 months)"
        )
    if not math.isfinite(float(value)) or value <= 0:
        raise ChannelError(f"target = {value!r}: must be a finite amount > 0 (revenue of the last 12 months)")
    return float(value)


def check_confidence(confidence: float | None, scenario: Scenario) -> float:
    """The confidence: ``confidence`` if given, else ``plan.confidence``; strictly between 0 and 1."""
    value = scenario.plan.confidence if confidence is None else confidence
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ChannelError(f"confidence = {value!r}: must be a probability between 0 and 1, e.g. 0.9")
    if not 0.0 < float(value) < 1.0:
        raise ChannelError(f"confidence = {value!r}: must be between 0 and 1 (exclusive), e.g. 0.9")
    return float(value)


def bands(values: pd.DataFrame, by: str | list[str] | None, columns: Iterable[str]) -> pd.DataFrame:
    """Mean and P10/P50/P90 of ``columns`` across replications, tidy: ``[by], figure, mean, p10, p50, p90``.

    NaN values (a figure undefined in some replication) are left out of each statistic.
    """
    cols = list(columns)
    long = values.melt(id_vars=[by] if isinstance(by, str) else (by or []), value_vars=cols, var_name="figure")
    keys = ([by] if isinstance(by, str) else list(by or [])) + ["figure"]
    grouped = long.groupby(keys, sort=False, observed=True)["value"]
    out = grouped.mean().rename("mean").to_frame()
    for name, q in QUANTILES.items():
        out[name] = grouped.quantile(q)
    out = out.reset_index()
    if by is not None:
        out = out.sort_values(keys[:-1], kind="stable").reset_index(drop=True)
    return out


@dataclass(frozen=True)
class PlanGoal:
    """What "the plan is met" means with yearly targets: every year met, or one named year (1-based)."""

    targets: tuple[float, ...]
    year: int | None = None

    def met(self, revenue_by_year: np.ndarray) -> np.ndarray:
        if self.year is not None:
            return revenue_by_year[:, self.year - 1] >= self.targets[self.year - 1]
        return (revenue_by_year[:, : len(self.targets)] >= np.asarray(self.targets)).all(axis=1)

    def describe(self) -> str:
        if self.year is not None:
            return f"year {self.year}'s target is met"
        return f"all {len(self.targets)} yearly targets are met"


def plan_goal(
    scenario: Scenario, target: float | None, year: int | None, what: str = "sizing"
) -> tuple[float, PlanGoal | None]:
    """The target sizing and capacity use, and the yearly goal when the plan has one target per year.

    An explicit ``target`` is revenue of the last 12 months; else ``year`` picks one plan year of
    ``plan.revenue_targets``; else, with yearly targets, every year must be met.
    """
    targets = scenario.plan.revenue_targets
    if year is not None:
        if not targets:
            raise ChannelError(f"--year {year}: the plan has no yearly targets (set plan.revenue_targets)")
        if not 1 <= year <= len(targets):
            raise ChannelError(f"--year {year}: the plan has {len(targets)} plan years, numbered from 1")
        if target is not None:
            raise ChannelError("give either --target (revenue of the last 12 months) or --year, not both")
        return float(targets[year - 1]), PlanGoal(tuple(targets), year)
    if target is None and targets:
        return float(targets[-1]), PlanGoal(tuple(targets))
    return check_target(target, scenario, what), None
