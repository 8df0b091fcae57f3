"""Phase 5, collaboration: adoption with a peer effect, and lapses.

An active partner starts collaborating with monthly probability
``collaboration.adoption_probability``, its hazard scaled by
``1 + collaboration.peer_effect * s`` where ``s`` is the share of
revenue-earning partners that collaborate at the start of the month. A
collaborating partner lapses back to active with
``collaboration.lapse_probability``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .hazards import hazard, scale
from .rates import RATE_INDEX
from .states import State

if TYPE_CHECKING:
    from ..engine.parameters import ReplicationParameters


def collaborating_share(active: np.ndarray, collaborating: np.ndarray) -> np.ndarray:
    """Share of revenue-earning partners that collaborate (0 when none earn)."""
    earning = active + collaborating
    return np.divide(collaborating, earning, out=np.zeros(np.shape(earning)), where=earning > 0)


def adoption_hazard(params: ReplicationParameters, lever: np.ndarray, share: np.ndarray) -> np.ndarray:
    """Adoption hazard per replication and segment: ``(replications, segments)``."""
    m = lever[RATE_INDEX["collaboration.adoption_probability"], State.ACTIVE]
    peer = 1.0 + params.value("collaboration.peer_effect") * np.asarray(share, dtype=np.float64)[:, None]
    return scale(hazard(params.value("collaboration.adoption_probability")), m[None, :] * peer)


def lapse_hazard(params: ReplicationParameters, lever: np.ndarray) -> np.ndarray:
    m = lever[RATE_INDEX["collaboration.lapse_probability"], State.COLLABORATING]
    return scale(hazard(params.value("collaboration.lapse_probability")), m)
