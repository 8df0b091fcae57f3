"""Evaluating candidates: a batch of sweep points on the project's one executor path.

Every evaluation is a :func:`simulator.sweeps.sweep` of the search base with
one point per candidate, so a batch runs in this process, on local processes
or on a Dask cluster with bit-identical numbers, and replication ``r`` of
every candidate draws from the same stream (common random numbers). The
sweep keeps its monthly series in a temporary folder: the program's cost
(``cost_program``) and the monthly contribution (payback) are monthly
columns, not horizon figures. This module is the only place that calls the
sweep, so an in-memory path of the runner replaces one function.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..sweeps import SweepDesign, sweep
from ..sweeps.storage import SweepStore
from .objectives import Budget, Objective
from .space import DecisionSpace

FIGURES = ("revenue_last_12m", "contribution_last_12m", "revenue_total", "cost_total", "contribution_total")


@dataclass
class Evaluation:
    """Per-replication figures of a batch of candidates.

    ``runs``: one row per candidate (``point``) and replication, with the
    horizon figures and ``program_cost``; ``period_cost[p, r, y]`` is the
    program's cost of candidate ``p`` in budget period ``y``;
    ``contribution[p, r, m]`` the monthly contribution (months 0..horizon).
    """

    runs: pd.DataFrame
    period_cost: np.ndarray
    contribution: np.ndarray
    replications: int

    def values(self, figure: str) -> np.ndarray:
        """``(candidates, replications)`` array of one figure."""
        return self.runs[figure].to_numpy(np.float64).reshape(-1, self.replications)

    def objective(self, objective: Objective, target: float | None) -> np.ndarray:
        return np.asarray(objective.of(self.values(objective.figure), target), dtype=np.float64)

    def cost_excess(self, budget: Budget, horizon: int) -> np.ndarray:
        """Per candidate: the largest excess of the mean cost over a period's budget (<= 0: within budget)."""
        mean = self.period_cost.mean(axis=1)  # (P, Y)
        return (mean - budget.allowances(horizon)[None, :]).max(axis=1)

    def p_overspend(self, budget: Budget, horizon: int) -> np.ndarray:
        """Per candidate: the share of replications whose cost exceeds the budget in some period."""
        over = self.period_cost > budget.allowances(horizon)[None, None, :] * (1 + 1e-12)
        return over.any(axis=2).mean(axis=1)


def evaluate(
    space: DecisionSpace,
    points: Sequence[Mapping[str, Any]],
    *,
    replications: int,
    seed: int,
    budget: Budget,
    workers: int | None = None,
    dask: str | None = None,
) -> Evaluation:
    """Run ``points`` (overrides of the search base) for ``replications`` replications from ``seed``."""
    design = SweepDesign.from_points(space.base, list(points), replications, seed)
    with tempfile.TemporaryDirectory(prefix="optimize-") as tmp:
        table = sweep(design, out=tmp, workers=workers, dask=dask, monthly=True, progress=False)
        cost_column = "cost" if budget.recruitment else "cost_program"
        columns = ["point", "replication", "month", cost_column, "contribution"]
        monthly, _ = SweepStore(tmp).read("monthly", columns=columns)  # proven chunks only (and what is missing)
    P, R, H = len(design.points), int(replications), space.horizon
    if len(table) != P * R or len(monthly) != P * R * (H + 1):
        raise RuntimeError(f"the sweep returned {len(table)} rows for {P} candidates x {R} replications")
    cost = monthly[cost_column].to_numpy(np.float64).reshape(P, R, H + 1)
    periods = budget.periods(H)
    period_cost = np.stack([cost[:, :, first : last + 1].sum(axis=2) for first, last in periods], axis=2)
    runs = table[["point", "replication", *FIGURES]].copy()
    runs["program_cost"] = cost[:, :, 1:].sum(axis=2).ravel()
    if not np.isfinite(runs[list(FIGURES)].to_numpy(np.float64)).all():
        raise RuntimeError("the simulation returned a non-finite figure")
    contribution = monthly["contribution"].to_numpy(np.float64).reshape(P, R, H + 1)
    return Evaluation(runs.reset_index(drop=True), period_cost, contribution, R)
