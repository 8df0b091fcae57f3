"""Phase 3, development and activation: the first deal, before the honeymoon ends.

A signed partner closes its first deal with monthly probability
``activation.monthly_probability`` (its hazard times the segment's
``activation_multiplier`` and the levers). It gets
``activation.window_months`` chances; one that has not activated by the last
of them goes dormant that month.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .hazards import hazard, scale
from .rates import RATE_INDEX
from .states import State

if TYPE_CHECKING:
    from ..scenario.schema import Scenario


def first_deal_hazard(scenario: Scenario, lever: np.ndarray) -> np.ndarray:
    """Monthly first-deal hazard per segment."""
    segment = np.array([s.activation_multiplier for s in scenario.market.segments.values()])
    m = lever[RATE_INDEX["activation.monthly_probability"], State.SIGNED]
    return scale(hazard(scenario.activation.monthly_probability), segment * m)
