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
    from ..engine.parameters import ReplicationParameters


def first_deal_hazard(params: ReplicationParameters, lever: np.ndarray) -> np.ndarray:
    """Monthly first-deal hazard per segment (and replication, with uncertain parameters)."""
    segment = params.segment("activation_multiplier")
    m = lever[RATE_INDEX["activation.monthly_probability"], State.SIGNED]
    return scale(hazard(params.value("activation.monthly_probability")), segment * m)
