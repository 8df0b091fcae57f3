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
    from ..scenario.schema import Scenario


def _scaled(p: float, lever: np.ndarray, key: str, state: State) -> np.ndarray:
    return scale(hazard(p), lever[RATE_INDEX[key], state])


def dormancy_hazard(scenario: Scenario, lever: np.ndarray, state: State) -> np.ndarray:
    return _scaled(scenario.churn.dormancy_probability, lever, "churn.dormancy_probability", state)


def exit_hazard(scenario: Scenario, lever: np.ndarray, state: State) -> np.ndarray:
    return _scaled(scenario.churn.exit_probability, lever, "churn.exit_probability", state)


def reactivation_hazard(scenario: Scenario, lever: np.ndarray) -> np.ndarray:
    return _scaled(scenario.churn.reactivation_probability, lever, "churn.reactivation_probability", State.DORMANT)


def dormant_exit_hazard(scenario: Scenario, lever: np.ndarray) -> np.ndarray:
    return _scaled(scenario.churn.dormant_exit_probability, lever, "churn.dormant_exit_probability", State.DORMANT)
