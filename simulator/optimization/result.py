"""What an optimisation returns: the trials, the re-evaluation, the winner and its figures."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ChannelError
from ..scenario import Scenario
from .objectives import Budget, Objective
from .reevaluate import Reevaluation
from .space import DecisionSpace

RESULT_FILE = "result.json"


@dataclass
class OptimizationResult:
    """The answer of :func:`simulator.optimize`.

    ``trials``: every candidate of the search (one row per trial, its
    objective values, mean program cost, probability of overspending and
    whether it is within budget and on the search's Pareto front).
    ``reevaluation``: the top candidates on fresh replications (row 0: the
    scenario's own program) and the winner picked there. ``winner``: the
    winning program as a full scenario (None when no candidate kept within
    budget). ``screening``: Morris mu* of each lever when ``screen=True``.
    """

    scenario: Scenario
    space: DecisionSpace
    objectives: tuple[Objective, ...]
    budget: Budget
    trials: pd.DataFrame
    reevaluation: Reevaluation
    winner: Scenario | None
    winner_point: dict[str, Any] | None
    settings: dict[str, Any]
    screening: pd.DataFrame | None = None
    dropped: list[str] = field(default_factory=list)
    folder: Path | None = None

    @property
    def front(self) -> pd.DataFrame:
        """The search's Pareto front (within budget): with one objective, the best trial."""
        return self.trials[self.trials["on_front"]]

    @property
    def winner_row(self) -> pd.Series | None:
        r = self.reevaluation
        return None if r.winner is None else r.table.iloc[r.winner]

    @property
    def message(self) -> str:
        """One line: what was found."""
        cur = self.scenario.currency
        from ..formatting import money

        if self.winner is None:
            cheapest = self.trials["cost_mean"].min()
            return (
                f"no candidate keeps within the budget of {self.budget.describe(cur)} on fresh replications "
                f"(the cheapest candidate tried costs {money(float(cheapest), cur)} on average)"
            )
        row = self.winner_row
        d = self.reevaluation.differences[self.objectives[0].name]
        return f"best program: {row['candidate']}; {self.objectives[0].name} {_fmt(self.objectives[0], d['new'], cur)}"

    def summary(self) -> dict[str, Any]:
        """Plain, JSON-safe figures (written as ``result.json``; the report reads them)."""
        r = self.reevaluation
        row = self.winner_row
        return _json_safe(
            {
                "scenario": self.scenario.name,
                "currency": self.scenario.currency,
                "horizon_months": self.scenario.horizon_months,
                "objectives": [
                    {"name": o.name, "label": o.label, "direction": o.direction, "money": o.money}
                    for o in self.objectives
                ],
                "budget": {
                    "amount": self.budget.amount,
                    "per_year": self.budget.per_year,
                    "recruitment_counts": self.budget.recruitment,
                    "text": self.budget.describe(self.scenario.currency),
                },
                "settings": self.settings,
                "levers": [lv.name for lv in self.space.levers],
                "kept": list(self.space.kept),
                "dropped": list(self.dropped),
                "winner": None
                if row is None
                else {
                    "trial": int(row["trial"]),
                    "candidate": str(row["candidate"]),
                    "point": self.winner_point,
                    "program_cost_mean": float(row["program_cost_mean"]),
                    "p_overspend": float(row["p_overspend"]),
                    "p_best": r.p_best,
                    "tolerance": r.tolerance,
                    "differences": r.differences,
                    "roi": r.roi,
                    "payback_month": r.payback_month,
                    "cumulative": r.cumulative,
                },
                "reevaluation": {"replications": r.replications, "seed": r.seed},
                "message": self.message,
            }
        )


def roi_text(roi: float | None, differences: dict[str, dict[str, float]]) -> str:
    """ROI for people: ``1.77``; without extra cost, whether it still earns more."""
    if roi is not None:
        return f"{roi:.2f}"
    gain = differences["contribution_total"]["mean"]
    return "- (costs no more and earns more)" if gain > 0 else "- (costs no more, earns no more)"


def _fmt(objective: Objective, value: float, currency: str) -> str:
    from ..formatting import money

    return money(value, currency) if objective.money else f"{100 * value:.1f}%"


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating | float):
        return float(value) if np.isfinite(value) else None
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def read_result(folder: str | Path) -> tuple[dict[str, Any], pd.DataFrame, pd.DataFrame]:
    """An optimisation folder's ``result.json``, trials and re-evaluation tables."""
    folder = Path(folder)
    path = folder / RESULT_FILE
    if not path.is_file():
        raise ChannelError(f"--optimize {folder}: not an optimisation folder (no {RESULT_FILE}); run `optimize` first")
    try:
        summary = json.loads(path.read_text("utf-8"))
        trials = pd.read_parquet(folder / "trials.parquet")
        reevaluation = pd.read_parquet(folder / "reevaluation.parquet")
    except (OSError, ValueError) as exc:
        raise ChannelError(f"--optimize {folder}: cannot read the optimisation results ({exc})") from None
    return summary, trials, reevaluation
