"""Phase 6, measurement: how concentrated partner revenue is.

Pareto's 80/20 in numbers: the share of the top ``q`` of partners (read off
the Lorenz curve, so it is exact for any count of partners), the Gini
coefficient with the small-sample correction ``n / (n - 1)``, the
Herfindahl-Hirschman index (HHI) and its inverse, the effective number of
partners. The row functions measure many replications at once and are what
the monthly kernel calls; the 1-D functions are their public face.
"""

from __future__ import annotations

import numpy as np

# The lognormal closed forms live with the model's other closed forms; imported here under their old names.
from ..analytic import lognormal_gini as lognormal_gini
from ..analytic import lognormal_top_share as lognormal_top_share


def concentration_rows(values: np.ndarray, member: np.ndarray, q: float = 0.2) -> dict[str, np.ndarray]:
    """Concentration of each row among earning members and among all members.

    ``values`` (rows x companies) are non-negative revenues; ``member`` marks
    the companies that count (for example all signed partners). Earning
    members are those with revenue above zero. Returns per-row arrays
    ``top_share``, ``gini``, ``hhi``, ``n`` (earning) and ``top_share_all``,
    ``gini_all``, ``n_all`` (all members); NaN where undefined.
    """
    values = np.asarray(values)
    member = np.asarray(member, dtype=bool)
    rows, width = values.shape
    if width == 0:
        nan = np.full(rows, np.nan)
        zero = np.zeros(rows, np.int64)
        return {
            "top_share": nan,
            "gini": nan,
            "hhi": nan,
            "n": zero,
            "top_share_all": nan.copy(),
            "gini_all": nan.copy(),
            "n_all": zero.copy(),
        }
    # One ascending sort per row serves both measures: non-members (-1) first, then members, largest last.
    dtype = np.float32 if values.dtype == np.float32 else np.float64
    key = np.where(member, values, dtype(-1.0)).astype(dtype, copy=False)
    y = np.maximum(np.sort(key, axis=1)[:, ::-1], dtype(0.0))  # largest first; non-members count as 0
    n_all = member.sum(axis=1)
    n = ((values > 0) & member).sum(axis=1)
    total = y.sum(axis=1, dtype=np.float64)
    rank = np.arange(1, width + 1, dtype=np.float64)
    weighted = np.multiply(y, rank, dtype=np.float64).sum(axis=1)  # sum of k * y_k, largest first
    with np.errstate(invalid="ignore", divide="ignore"):
        out = {
            "top_share": _top_share(y, n, total, q),
            "gini": _gini(n, weighted, total),
            "hhi": np.where(total > 0, np.square(y, dtype=np.float64).sum(axis=1) / total**2, np.nan),
            "n": n,
            "top_share_all": _top_share(y, n_all, total, q),
            "gini_all": _gini(n_all, weighted, total),
            "n_all": n_all,
        }
    return out


def _top_share(y: np.ndarray, n: np.ndarray, total: np.ndarray, q: float) -> np.ndarray:
    # Top q*n partners, with the fractional partner interpolated on the Lorenz curve.
    t = q * n
    whole = np.floor(t).astype(np.int64)
    frac = t - whole
    cols = np.arange(y.shape[1])
    top = np.where(cols[None, :] < whole[:, None], y, 0).sum(axis=1, dtype=np.float64)
    nxt = np.take_along_axis(y, np.minimum(whole, y.shape[1] - 1)[:, None], axis=1)[:, 0]
    top = top + frac * np.where(whole < n, nxt, 0.0)
    # A share of a total is at most 1; summing in another order must not make it 1 + 1e-16.
    return np.where((n > 0) & (total > 0), np.minimum(top / total, 1.0), np.nan)


def _gini(n: np.ndarray, weighted: np.ndarray, total: np.ndarray) -> np.ndarray:
    # Ascending ranks i give sum(i * x_(i)) = (n + 1) * S - sum(k * y_k); corrected by n / (n - 1).
    g = ((n + 1) - 2.0 * weighted / total) / (n - 1)
    g = np.where(n == 1, 0.0, g)
    return np.where((n > 0) & (total > 0), np.clip(g, 0.0, 1.0), np.nan)


def _as_row(values: np.ndarray | list[float]) -> np.ndarray:
    v = np.asarray(values, dtype=np.float64).ravel()
    if (v < 0).any() or not np.isfinite(v).all():
        raise ValueError("revenues must be finite and non-negative")
    return v[None, :]


def top_share(values: np.ndarray | list[float], q: float = 0.2) -> float:
    """Share of the total earned by the top ``q`` fraction of the given partners.

    Zeros count as partners (pass only earners for 'among earning partners').
    """
    if not 0 < q <= 1:
        raise ValueError(f"q = {q}: must be in (0, 1]")
    v = _as_row(values)
    return float(concentration_rows(v, np.ones_like(v, bool), q)["top_share_all"][0])


def gini(values: np.ndarray | list[float], corrected: bool = True) -> float:
    """Gini coefficient, with the small-sample correction ``n / (n - 1)`` by default."""
    v = _as_row(values)
    g = float(concentration_rows(v, np.ones_like(v, bool))["gini_all"][0])
    n = v.shape[1]
    return g * (n - 1) / n if (not corrected and n > 1) else g


def hhi(values: np.ndarray | list[float]) -> float:
    """Herfindahl-Hirschman index: sum of squared revenue shares (1/n to 1)."""
    v = _as_row(values)
    return float(concentration_rows(v, np.ones_like(v, bool))["hhi"][0])


def effective_partners(values: np.ndarray | list[float]) -> float:
    """Inverse HHI: how many equal partners would give the same concentration."""
    h = hhi(values)
    return 1.0 / h if h > 0 else float("nan")


def lorenz_curve(values: np.ndarray | list[float]) -> tuple[np.ndarray, np.ndarray]:
    """Points of the Lorenz curve: cumulative share of partners (poorest first) and of revenue."""
    v = np.sort(_as_row(values)[0])
    n = v.size
    x = np.arange(n + 1) / max(n, 1)
    total = v.sum()
    y = np.concatenate([[0.0], np.cumsum(v) / total]) if total > 0 else np.linspace(0, 1, n + 1)
    return x, y


def share_earning_nothing(values: np.ndarray | list[float]) -> float:
    """Share of the given partners whose revenue is zero."""
    v = _as_row(values)[0]
    return float((v == 0).mean()) if v.size else float("nan")
