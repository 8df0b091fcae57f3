"""Competing risks: from move hazards to the thresholds one uniform draw is compared with.

A company with move hazards ``h_1..h_K`` leaves its state with probability
``P = 1 - exp(-H)``, ``H = sum h``, and takes move ``k`` with probability
``P * h_k / H``. One uniform ``u`` decides both: move ``k`` is taken when
``u`` falls in the ``k``-th band of ``[0, P)``; ``u >= P`` means no random
move. A move with an infinite hazard (``p = 1``) is certain; several such
moves share the month equally.
"""

from __future__ import annotations

import numpy as np


def thresholds(h: np.ndarray) -> np.ndarray:
    """Cumulative move probabilities from hazards ``(..., K)``, as float64.

    The last column is the probability of leaving the state; the kernel
    compares uniforms with it first and resolves the move only for leavers.
    """
    h = np.asarray(h, dtype=np.float64)
    infinite = np.isinf(h)
    any_inf = infinite.any(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        total = np.where(any_inf, 0.0, h).sum(axis=-1, keepdims=True)
        share = np.where(
            any_inf,
            infinite / np.maximum(infinite.sum(axis=-1, keepdims=True), 1),
            np.where(total > 0, h / np.where(total > 0, total, 1.0), 0.0),
        )
        leave = np.where(any_inf, 1.0, -np.expm1(-total))
    cs = np.cumsum(share, axis=-1)
    # Once every move is counted the band must end exactly at the leave probability,
    # so rounding can never turn a leaver into a stayer or into an empty move.
    cum = np.where(cs >= cs[..., -1:], leave, np.minimum(leave * cs, leave))
    return cum
