"""Closed forms the simulation is checked against (kept beside the tests, not in the engine).

``expected_state_counts`` is the expectation of the lifecycle Markov chain of
MODEL.md with recruitment off and no peer effect: signed partners carry the
months of their activation window, every other state is memoryless, and each
state's moves are competing risks.
"""

from __future__ import annotations

import numpy as np

from simulator.engine.population import Layout
from simulator.lifecycle.states import State
from simulator.scenario import Scenario


def _h(p: float) -> float:
    return np.inf if p >= 1 else -np.log1p(-p)


def _competing(hazards: list[float]) -> tuple[float, list[float]]:
    """Probability of leaving and of each move, for competing hazards."""
    total = sum(hazards)
    if total == 0:
        return 0.0, [0.0] * len(hazards)
    leave = 1 - np.exp(-total)
    return leave, [leave * h / total for h in hazards]


def lifecycle_matrix(scn: Scenario, activation_multiplier: float) -> np.ndarray:
    """Monthly transition matrix over signed_0..signed_{w-1}, active, collaborating, dormant, churned."""
    w = scn.activation.window_months
    A, C, D, X = w, w + 1, w + 2, w + 3
    T = np.zeros((w + 4, w + 4))
    p_act = 1 - np.exp(-_h(scn.activation.monthly_probability) * activation_multiplier)
    for k in range(w):
        T[k, A] = p_act
        T[k, k + 1 if k < w - 1 else D] = 1 - p_act
    ch, co = scn.churn, scn.collaboration
    leave, (to_d, to_x, to_c) = _competing(
        [_h(ch.dormancy_probability), _h(ch.exit_probability), _h(co.adoption_probability)]
    )
    T[A, [D, X, C]] = to_d, to_x, to_c
    T[A, A] = 1 - leave
    leave, (to_d, to_x, to_a) = _competing(
        [_h(ch.dormancy_probability), _h(ch.exit_probability), _h(co.lapse_probability)]
    )
    T[C, [D, X, A]] = to_d, to_x, to_a
    T[C, C] = 1 - leave
    leave, (to_a, to_x) = _competing([_h(ch.reactivation_probability), _h(ch.dormant_exit_probability)])
    T[D, [A, X]] = to_a, to_x
    T[D, D] = 1 - leave
    T[X, X] = 1.0
    return T


def expected_state_counts(scn: Scenario) -> np.ndarray:
    """Expected companies per state, ``(months + 1, 7)``, with recruitment off."""
    assert scn.recruitment.nurture_per_month == 0 and scn.collaboration.peer_effect == 0
    lay = Layout.of(scn)
    w = scn.activation.window_months
    out = np.zeros((scn.horizon_months + 1, 7))
    out[:, State.PROSPECT] = scn.market.prospects
    for g, seg in enumerate(scn.market.segments.values()):
        T = lifecycle_matrix(scn, seg.activation_multiplier)
        v = np.zeros(w + 4)
        mine = lay.channel_segment == g
        for state, index in (
            (State.SIGNED, 0),
            (State.ACTIVE, w),
            (State.COLLABORATING, w + 1),
            (State.DORMANT, w + 2),
        ):
            v[index] = np.sum(mine & (lay.channel_state == state))
        for m in range(scn.horizon_months + 1):
            out[m, State.SIGNED] += v[:w].sum()
            out[m, State.ACTIVE] += v[w]
            out[m, State.COLLABORATING] += v[w + 1]
            out[m, State.DORMANT] += v[w + 2]
            out[m, State.CHURNED] += v[w + 3]
            v = v @ T
    return out
