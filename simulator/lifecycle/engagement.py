"""Phase 4, motivation and engagement: attrition and reactivation.

Active and collaborating partners go dormant with
``churn.dormancy_probability`` and leave with ``churn.exit_probability``;
dormant ones come back with ``churn.reactivation_probability`` or leave with
``churn.dormant_exit_probability``. Incentive levers scale these hazards.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .hazards import hazard, scale
from .rates import RATE_INDEX
from .states import State

if TYPE_CHECKING:
    from ..engine.parameters import ReplicationParameters


def _scaled(params: ReplicationParameters, lever: np.ndarray, key: str, state: State) -> np.ndarray:
    return scale(hazard(params.value(key)), lever[RATE_INDEX[key], state])


def dormancy_hazard(params: ReplicationParameters, lever: np.ndarray, state: State) -> np.ndarray:
    return _scaled(params, lever, "churn.dormancy_probability", state)


def exit_hazard(params: ReplicationParameters, lever: np.ndarray, state: State) -> np.ndarray:
    return _scaled(params, lever, "churn.exit_probability", state)


def reactivation_hazard(params: ReplicationParameters, lever: np.ndarray) -> np.ndarray:
    return _scaled(params, lever, "churn.reactivation_probability", State.DORMANT)


def dormant_exit_hazard(params: ReplicationParameters, lever: np.ndarray) -> np.ndarray:
    return _scaled(params, lever, "churn.dormant_exit_probability", State.DORMANT)
