"""Small statistics shared by the reports of uncertainty."""

from __future__ import annotations

from statistics import NormalDist

import numpy as np

#: The quantiles every band of uncertainty reports (P10/P50/P90), beside the mean.
QUANTILES = {"p10": 0.10, "p50": 0.50, "p90": 0.90}


def band_row(values: np.ndarray) -> dict[str, float]:
    """Mean and P10/P50/P90 of one array (NaN left out)."""
    v = np.asarray(values, dtype=np.float64)
    v = v[~np.isnan(v)]
    if v.size == 0:
        return {"mean": np.nan, **dict.fromkeys(QUANTILES, np.nan)}
    return {"mean": float(v.mean()), **{k: float(np.quantile(v, q)) for k, q in QUANTILES.items()}}


def wilson_interval(successes: int | np.ndarray, n: int | np.ndarray, confidence: float = 0.95) -> tuple:
    """Wilson score interval of a binomial proportion: ``(low, high)``, floats for scalar input.

    Unlike the normal approximation it stays inside [0, 1] and does not
    collapse to a point when every replication (or none) meets the plan: the
    ends are then exactly 0 (or 1).
    """
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    k, total = np.asarray(successes, dtype=np.float64), np.asarray(n, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / total
        denom = 1.0 + z * z / total
        centre = (p + z * z / (2 * total)) / denom
        half = z * np.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denom
    low = np.where(k == 0, 0.0, np.clip(centre - half, 0.0, 1.0))
    high = np.where(k == total, 1.0, np.clip(centre + half, 0.0, 1.0))
    if low.ndim == 0:
        return float(low), float(high)
    return low, high
