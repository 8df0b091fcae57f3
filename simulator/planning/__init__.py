"""Planning answers: capacity, recruitment sizing, what-if comparison, concentration, scorecard.

The questions of phase 1 of the methodology (MODEL.md), each a function
returning a result object with tidy tables and a ``summary()``:

* :func:`capacity`: today's channel with recruitment off;
* :func:`size_recruitment`: the smallest recruitment effort (or other key)
  meeting the plan with the stated confidence;
* :func:`compare`: two scenarios on the same random draws;
* :func:`concentration_over_time`, :func:`concentration_at_horizon`,
  :func:`lorenz_points`: how concentrated partner revenue is;
* :func:`scorecard`: partner performance per segment and revenue tier.
"""

from .capacity import CapacityResult, capacity
from .compare import CompareResult, compare, what_changed
from .concentration import (
    concentration_at_horizon,
    concentration_over_time,
    concentration_trajectory,
    lorenz_points,
)
from .decisions import sizable_keys
from .scorecard import ScorecardResult, partner_scorecard, scorecard
from .sizing import DEFAULT_MAX_REPLICATIONS, DEFAULT_REPLICATIONS, SizingResult, size_recruitment

__all__ = [
    "DEFAULT_MAX_REPLICATIONS",
    "DEFAULT_REPLICATIONS",
    "CapacityResult",
    "CompareResult",
    "ScorecardResult",
    "SizingResult",
    "capacity",
    "compare",
    "concentration_at_horizon",
    "concentration_over_time",
    "concentration_trajectory",
    "lorenz_points",
    "partner_scorecard",
    "scorecard",
    "sizable_keys",
    "size_recruitment",
    "what_changed",
]
