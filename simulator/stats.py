"""Small statistics shared by the reports of uncertainty."""

from __future__ import annotations

import numpy as np
from scipy import stats


def wilson_interval(successes: float | np.ndarray, n: float | np.ndarray, confidence: float = 0.95):  # noqa: ANN201
    """Wilson score interval of a binomial proportion: ``(low, high)``.

    Honest at the edges (0 or n successes) where the normal approximation
    collapses to a point.
    """
    k = np.asarray(successes, dtype=np.float64)
    n = np.asarray(n, dtype=np.float64)
    z = stats.norm.ppf(0.5 + confidence / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        denom = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
    return centre - half, centre + half
