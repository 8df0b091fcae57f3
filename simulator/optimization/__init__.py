"""Program optimisation: the best mix of levers for a budget.

space (:class:`DecisionSpace`, the decisions as data) -> optional Morris
screening -> search (optuna, batches of sweep points on common random
numbers, persisted in ``study.db``) -> re-evaluation of the top candidates on
fresh replications (against the winner's curse) -> the winning program as a
scenario file, the tables and the report section.
"""

from .api import optimize
from .objectives import OBJECTIVES, Budget, Objective
from .result import OptimizationResult
from .space import DecisionSpace, LeverChoice, build_space

__all__ = [
    "OBJECTIVES",
    "Budget",
    "DecisionSpace",
    "LeverChoice",
    "Objective",
    "OptimizationResult",
    "build_space",
    "optimize",
]
