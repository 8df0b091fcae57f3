"""Monthly probabilities as hazards, the form in which levers and competing risks combine."""

from __future__ import annotations

import numpy as np


def hazard(p: float | np.ndarray) -> np.ndarray:
    """Monthly hazard ``-ln(1 - p)`` of a monthly probability (``inf`` for ``p = 1``)."""
    with np.errstate(divide="ignore"):
        return -np.log1p(-np.asarray(p, dtype=np.float64))


def scale(h: np.ndarray, multiplier: np.ndarray) -> np.ndarray:
    """Scale hazards by lever multipliers; a multiplier of 0 switches a move off, even at p = 1."""
    with np.errstate(invalid="ignore"):
        return np.where(multiplier == 0, 0.0, h * multiplier)
