"""The moves of the lifecycle: which rate drives each move, and where it leads.

Every monthly probability ``p`` is a hazard ``h = -ln(1 - p)``. A company
exposed to several moves (competing risks) leaves its state with probability
``1 - exp(-sum h)`` and takes move ``k`` with share ``h_k / sum h``; that step
is :func:`simulator.engine.transitions.thresholds`. Each phase module computes
the hazards of its own moves; :func:`month_hazards` assembles them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..vocabulary import DEADLINE_MOVES, MAX_MOVES, MOVES, N_STATES, State
from . import activation, collaboration, engagement, recruitment

if TYPE_CHECKING:
    from ..engine.parameters import ReplicationParameters
    from .program import ProgramSchedule


def destinations() -> np.ndarray:
    """``DEST[state, k]``: state after random move ``k`` (k = MAX_MOVES: no random move)."""
    dest = np.repeat(np.arange(N_STATES, dtype=np.int8)[:, None], MAX_MOVES + 1, axis=1)
    for state, targets in MOVES.items():
        dest[state, : len(targets)] = targets
    for state, target in DEADLINE_MOVES.items():
        dest[state, MAX_MOVES] = target
    return dest


def month_hazards(
    params: ReplicationParameters, schedule: ProgramSchedule, month: int, collaborating_share: np.ndarray
) -> np.ndarray:
    """Hazards of every move in ``month``: ``(replications, states, segments, MAX_MOVES)``.

    ``collaborating_share`` is, per replication, the share of revenue-earning
    partners that collaborate at the start of the month (the peer effect).
    """
    n_seg = len(params.scenario.market.segments)
    h = np.zeros((collaborating_share.shape[0], N_STATES, n_seg, MAX_MOVES))
    return _fill(h, params, schedule.multiplier[month], collaborating_share)


def tiered_month_hazards(
    params: ReplicationParameters, schedule: ProgramSchedule, month: int, collaborating_share: np.ndarray
) -> np.ndarray:
    """Hazards of every move in ``month`` for each partner tier: ``(replications, states, segments, T, MAX_MOVES)``.

    Tier ``t``'s hazards are :func:`month_hazards` with the levers' multipliers times the tier's factor,
    computed for every tier at once: the multiplier table gets a leading tier axis that every phase
    function broadcasts over (``lever[rate, state]`` is ``(T, 1, segments)``).
    """
    n_seg = len(params.scenario.market.segments)
    T = schedule.tiers
    lever = schedule.multiplier[month][:, :, None, None, :] * schedule.tier_factor.transpose(1, 2, 0)[..., None, None]
    h = np.zeros((T, collaborating_share.shape[0], N_STATES, n_seg, MAX_MOVES))
    return _fill(h, params, lever, collaborating_share).transpose(1, 2, 3, 0, 4)


def _fill(h: np.ndarray, params: ReplicationParameters, lever: np.ndarray, share: np.ndarray) -> np.ndarray:
    """Write each move's hazard into ``h[..., state, segment, move]`` (any leading axes) from the phases."""
    h[..., State.NURTURING, :, 0] = recruitment.signing_hazard(params, lever)
    h[..., State.SIGNED, :, 0] = activation.first_deal_hazard(params, lever)
    for state in (State.ACTIVE, State.COLLABORATING):
        h[..., state, :, 0] = engagement.dormancy_hazard(params, lever, state)
        h[..., state, :, 1] = engagement.exit_hazard(params, lever, state)
    h[..., State.ACTIVE, :, 2] = collaboration.adoption_hazard(params, lever, share)
    h[..., State.COLLABORATING, :, 2] = collaboration.lapse_hazard(params, lever)
    h[..., State.DORMANT, :, 0] = engagement.reactivation_hazard(params, lever)
    h[..., State.DORMANT, :, 1] = engagement.dormant_exit_hazard(params, lever)
    return h
