"""Against the winner's curse: the best candidates again, on fresh replications, compared in pairs.

The candidate that looks best after a search on a few replications is often
only lucky. So the top candidates are run again on replications the search
never saw (another seed, more of them), together with the scenario's own
program, and the winner is picked there. Every candidate draws from the same
streams (common random numbers), so replication ``r`` of two candidates is
the same future: a bootstrap over replications (resampling whole futures,
the same ones for every candidate) gives the probability that the winner is
truly the best of them, a simultaneous bound on how much better another
could truly be (the stated tolerance), and the paired difference with the
scenario's own program.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..planning.compare import payback_months
from .evaluation import Evaluation
from .objectives import Budget, Objective
from .space import DecisionSpace

BOOTSTRAP = 1000  # resamples of the replications
TOLERANCE_LEVEL = 0.99  # the stated tolerance holds for every candidate at once with this probability
INTERVAL = 0.90  # paired differences with the scenario's own program


@dataclass
class Reevaluation:
    """The re-evaluated candidates (``table``; row 0 is the scenario's own program) and the pick."""

    table: pd.DataFrame
    winner: int | None  # row of ``table``; None when no candidate keeps within the budget
    p_best: float | None
    tolerance: float | None
    differences: dict[str, dict[str, float]] = field(default_factory=dict)  # figure -> mean, low, high
    roi: float | None = None
    payback_month: int | None = None
    cumulative: list[float] = field(default_factory=list)  # mean cumulative paired contribution, months 0..H
    replications: int = 0
    seed: int = 0


def pareto_front(values: np.ndarray) -> np.ndarray:
    """Rows of ``values`` (higher is better in every column) that no other row dominates."""
    n = len(values)
    keep = np.ones(n, bool)
    for i in range(n):
        better_eq = (values >= values[i]).all(axis=1)
        strictly = (values > values[i]).any(axis=1)
        keep[i] = not (better_eq & strictly).any()
    return keep


def reevaluate(
    space: DecisionSpace,
    objectives: Sequence[Objective],
    budget: Budget,
    candidates: Sequence[tuple[int, Mapping[str, Any]]],
    *,
    replications: int,
    seed: int,
    target: float | None,
    evaluate: Callable[[list[dict[str, Any]]], Evaluation],
) -> Reevaluation:
    """Run the scenario's own program and ``candidates`` (trial number, point) on fresh replications; pick."""
    points = [space.own_point(), *(dict(p) for _, p in candidates)]
    result = evaluate(points)
    H = space.horizon
    table = pd.DataFrame(
        {
            "trial": [-1, *(int(n) for n, _ in candidates)],
            "candidate": ["scenario's own program", *(space.describe(p) for _, p in candidates)],
        }
    )
    for o in objectives:
        table[o.name] = result.objective(o, target)
    for fig in ("revenue_last_12m", "contribution_total", "program_cost"):
        table[f"{fig}_mean"] = result.values(fig).mean(axis=1)
    table["cost_excess"] = result.cost_excess(budget, H)
    table["p_overspend"] = result.p_overspend(budget, H)
    table["feasible"] = table["cost_excess"] <= 0
    scores = np.stack([o.sign * table[o.name].to_numpy(np.float64) for o in objectives], axis=1)
    eligible = table["feasible"].to_numpy() & (table["trial"].to_numpy() >= 0)
    front = np.zeros(len(table), bool)
    if eligible.any():
        front[eligible] = pareto_front(scores[eligible])
    table["on_front"] = front
    out = Reevaluation(table, None, None, None, replications=int(replications), seed=int(seed))
    if not eligible.any():
        table["p_best"] = np.nan
        return out
    # The winner: the best on the first objective among candidates within budget (on the front, always).
    first = objectives[0]
    rows = np.flatnonzero(eligible)
    winner = int(rows[np.argmax(scores[rows, 0])])
    out.winner = winner
    values = result.values(first.figure)  # (rows, R)
    rng = np.random.default_rng([int(seed), 2])
    idx = rng.integers(0, values.shape[1], size=(BOOTSTRAP, values.shape[1]))
    boot = first.sign * np.stack([np.asarray(first.of(values[r][idx], target, axis=1)) for r in rows])  # (K, B)
    best = rows[np.argmax(boot, axis=0)]
    p = np.array([(best == r).mean() for r in range(len(table))])
    p[~eligible] = np.nan
    table["p_best"] = p
    out.p_best = float(p[winner])
    observed = scores[rows, 0] - scores[winner, 0]  # <= 0: how much worse each looked than the winner
    others = rows != winner
    if others.any():
        d_boot = boot - boot[rows == winner]  # (K, B) paired differences with the winner
        error = (d_boot[others] - observed[others, None]).max(axis=0)
        out.tolerance = float(max(0.0, observed[others].max() + np.quantile(error, TOLERANCE_LEVEL)))
    else:
        out.tolerance = 0.0
    out.differences = _differences(result, objectives, winner, target, idx)
    d_cost = out.differences["program_cost"]["mean"]
    d_contribution = out.differences["contribution_total"]["mean"]
    out.roi = float(d_contribution / d_cost) if d_cost > 0 else None
    paired = (result.contribution[winner] - result.contribution[0]).mean(axis=0)  # (H+1,)
    cumulative = np.cumsum(paired[1:])
    out.cumulative = [0.0, *map(float, cumulative)]
    out.payback_month = payback_month(cumulative)
    return out


def payback_month(cumulative: np.ndarray) -> int | None:
    """First month (1-based) from which the cumulative paired contribution stays positive (see
    :func:`simulator.planning.compare.payback_months`, the one rule); None if it never does."""
    month = payback_months(np.asarray(cumulative, dtype=np.float64)[None, :])[0]
    return None if np.isnan(month) else int(month)


def _differences(
    result: Evaluation, objectives: Sequence[Objective], winner: int, target: float | None, idx: np.ndarray
) -> dict[str, dict[str, float]]:
    """Paired differences winner - own program: each objective, contribution, revenue and program cost."""
    tail = (1 - INTERVAL) / 2
    out: dict[str, dict[str, float]] = {}
    stats = [(o.name, o.figure, o) for o in objectives]
    stats += [(f, f, None) for f in ("contribution_total", "revenue_last_12m", "program_cost")]
    for name, figure, objective in stats:
        if name in out:
            continue
        v = result.values(figure)
        a, b = v[winner], v[0]
        if objective is None:
            diff = a - b
            new, own = float(a.mean()), float(b.mean())
            boot = diff[idx].mean(axis=1)
        else:
            new, own = float(objective.of(a, target)), float(objective.of(b, target))
            boot = np.asarray(objective.of(a[idx], target, axis=1)) - np.asarray(objective.of(b[idx], target, axis=1))
        low, high = np.quantile(boot, [tail, 1 - tail])
        out[name] = {"mean": new - own, "low": float(low), "high": float(high), "own": own, "new": new}
    return out
