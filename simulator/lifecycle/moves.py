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
    params: ReplicationParameters,
    schedule: ProgramSchedule,
    month: int,
    collaborating_share: np.ndarray,
    tier: int = 0,
) -> np.ndarray:
    """Hazards of every move in ``month`` for companies of ``tier``: ``(replications, states, segments, MAX_MOVES)``.

    ``collaborating_share`` is, per replication, the share of revenue-earning
    partners that collaborate at the start of the month (the peer effect).
    The levers running that month and the tier's factor scale the rates.
    """
    n_seg = len(params.scenario.market.segments)
    reps = collaborating_share.shape[0]
    h = np.zeros((reps, N_STATES, n_seg, MAX_MOVES))
    lever = schedule.month_multiplier(month, tier)
    h[:, State.NURTURING, :, 0] = recruitment.signing_hazard(params, lever)
    h[:, State.SIGNED, :, 0] = activation.first_deal_hazard(params, lever)
    for state in (State.ACTIVE, State.COLLABORATING):
        h[:, state, :, 0] = engagement.dormancy_hazard(params, lever, state)
        h[:, state, :, 1] = engagement.exit_hazard(params, lever, state)
    h[:, State.ACTIVE, :, 2] = collaboration.adoption_hazard(params, lever, collaborating_share)
    h[:, State.COLLABORATING, :, 2] = collaboration.lapse_hazard(params, lever)
    h[:, State.DORMANT, :, 0] = engagement.reactivation_hazard(params, lever)
    h[:, State.DORMANT, :, 1] = engagement.dormant_exit_hazard(params, lever)
    return h


def tiered_month_hazards(
    params: ReplicationParameters, schedule: ProgramSchedule, month: int, collaborating_share: np.ndarray
) -> np.ndarray:
    """:func:`month_hazards` of every tier on a tier axis: ``(replications, states, segments, T, MAX_MOVES)``."""
    per_tier = [month_hazards(params, schedule, month, collaborating_share, t) for t in range(schedule.tiers)]
    return np.stack(per_tier, axis=3)
