"""Evaluating candidates: a batch of programs on the project's one executor path, in memory.

A batch runs each candidate (an override of the search base, as a sweep point would) on the same
replications from the same seed (common random numbers), in tasks sent through
:func:`simulator.sweeps.execution.execute`: in this process, on local processes or on a Dask
cluster, with bit-identical numbers. A task sends back only what the search reads: the horizon
figures per replication and two monthly series (the cost the budget counts, and the contribution for
payback), not the whole monthly table. A search passes one open :class:`Workers` for all its
batches, so its processes start once and keep the markets they drew
(:func:`simulator.engine.population.reusing_markets`).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..engine.population import reusing_markets
from ..engine.results import kpi_table, run_blocks
from ..scenario import load_scenario
from ..sweeps import SweepDesign
from ..sweeps.design import point_scenario
from ..sweeps.execution import execute
from ..sweeps.executors import Workers
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


@dataclass(frozen=True)
class CandidateTask:
    """What a worker receives: one candidate's scenario (plain data) and a range of its replications."""

    scenario: dict[str, Any]
    seed: int
    first: int
    stop: int
    cost_column: str


def run_candidate(task: CandidateTask) -> dict[str, np.ndarray]:
    """One task (in a worker): the horizon figures ``(n, len(FIGURES))`` and the monthly ``cost`` and
    ``contribution`` ``(n, months + 1)`` of replications ``first..stop-1``, straight from the kernel's
    monthly arrays (the same as :func:`simulate`'s tables; concentration, which no figure here reads, is
    not measured)."""
    scenario = load_scenario(task.scenario)
    parts: dict[str, list[np.ndarray]] = {"figures": [], "cost": [], "contribution": []}
    reps = np.arange(task.first, task.stop)
    with reusing_markets():  # every candidate of a search runs these replications: draw each market once
        for kernel in run_blocks(scenario, task.seed, reps, concentration=False):
            kpis = kpi_table(kernel.replications, kernel.record, scenario)
            parts["figures"].append(kpis[list(FIGURES)].to_numpy(np.float64))
            parts["cost"].append(kernel.record[task.cost_column].astype(np.float64))
            parts["contribution"].append(kernel.record["contribution"].astype(np.float64))
    return {k: np.concatenate(v) for k, v in parts.items()}


def evaluate(
    space: DecisionSpace,
    points: Sequence[Mapping[str, Any]],
    *,
    replications: int,
    seed: int,
    budget: Budget,
    workers: int | Workers | None = None,
    dask: str | None = None,
) -> Evaluation:
    """Run ``points`` (overrides of the search base) for ``replications`` replications from ``seed``.

    ``workers`` is a number of local processes (default: all cores) or an open :class:`Workers`, which
    is then used as it is (``dask`` is ignored).
    """
    design = SweepDesign.from_points(space.base, list(points), replications, seed)
    P, R, H = len(design.points), int(replications), space.horizon
    cost_column = "cost" if budget.recruitment else "cost_program"
    pool = nullcontext(workers) if isinstance(workers, Workers) else Workers(workers, dask, tasks=P * R)
    with pool as executor:
        # at least one task per process; at most the candidate's replications in one
        parts = max(1, min(R, math.ceil(executor.parallelism / max(P, 1))))
        edges = np.linspace(0, R, parts + 1).round().astype(int)
        tasks = [
            CandidateTask(point_scenario(design.base, design.values(p)).to_dict(), int(seed), a, b, cost_column)
            for p in range(P)
            for a, b in itertools.pairwise(edges.tolist())
        ]
        figures = np.empty((P, R, len(FIGURES)))
        cost = np.empty((P, R, H + 1))
        contribution = np.empty((P, R, H + 1))

        def keep(i: int, out: dict[str, np.ndarray]) -> None:
            p, task = divmod(i, parts)
            rows = slice(int(edges[task]), int(edges[task + 1]))
            if out["figures"].shape[0] != rows.stop - rows.start or out["cost"].shape[1] != H + 1:
                raise RuntimeError(f"candidate {p}: a task returned {out['figures'].shape[0]} replications")
            figures[p, rows], cost[p, rows], contribution[p, rows] = out["figures"], out["cost"], out["contribution"]

        execute(
            run_candidate,
            tasks,
            executor,
            keep,
            describe=lambda i: f"candidate {i // parts}, replications {tasks[i].first}-{tasks[i].stop - 1}",
            runs=lambda i: tasks[i].stop - tasks[i].first,
        )
    if not (np.isfinite(figures).all() and np.isfinite(cost).all() and np.isfinite(contribution).all()):
        raise RuntimeError("the simulation returned a non-finite figure")
    periods = budget.periods(H)
    period_cost = np.stack([cost[:, :, first : last + 1].sum(axis=2) for first, last in periods], axis=2)
    runs = pd.DataFrame({"point": np.repeat(np.arange(P), R), "replication": np.tile(np.arange(R), P)})
    for k, name in enumerate(FIGURES):
        runs[name] = figures[:, :, k].ravel()
    runs["program_cost"] = cost[:, :, 1:].sum(axis=2).ravel()
    return Evaluation(runs, period_cost, contribution, R)
