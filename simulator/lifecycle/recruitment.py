"""Phase 2, selection and recruitment: scoring, nurturing and signing prospects.

The vendor nurtures ``recruitment.nurture_per_month`` prospects a month,
highest observed fit score first. The fit score is correlated with the
company's true (log) revenue potential at ``recruitment.scoring_accuracy``.
A nurtured company signs new vendors ``market.vendor_signings_per_year``
times a year and each signing is ours with probability
``recruitment.win_share``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..analytic import monthly_signing_probability as monthly_signing_probability  # its closed form's home
from .rates import RATE_INDEX
from .states import State

if TYPE_CHECKING:
    from ..engine.parameters import ReplicationParameters


def signing_hazard(params: ReplicationParameters, lever: np.ndarray) -> np.ndarray:
    """Monthly hazard of signing with us, per segment (and replication, with uncertain parameters).

    Levers scale the hazard of ``win_share`` (a probability), then each of the
    ``vendor_signings_per_year`` signings is ours with that share:
    ``h = signings_per_year * win_share / 12``.
    """
    w = params.value("recruitment.win_share")
    m = lever[RATE_INDEX["recruitment.win_share"], State.NURTURING]
    win = 1.0 - np.power(1.0 - w, m)
    return params.value("market.vendor_signings_per_year") * win / 12.0


def size_factors(potential: np.ndarray, segment: np.ndarray, median: np.ndarray, elasticity: float) -> np.ndarray:
    """``(potential / segment median) ** -elasticity``: how much harder (above 1: easier) each prospect is to win.

    ``median`` is ``(G,)`` or ``(R, G)`` (uncertain medians); the result has ``potential``'s shape.
    """
    med = np.atleast_2d(median)
    # one median per segment: a lookup (a quarter less time than taking along the replications' axis)
    one = med.shape[0] == 1
    seg_median = med[0][segment] if one else np.take_along_axis(med, segment.astype(np.intp), axis=1)
    return np.power(potential / seg_median, -elasticity)


def company_signing_probability(
    params: ReplicationParameters,
    lever: np.ndarray,
    rows: np.ndarray,
    segment: np.ndarray,
    factor: np.ndarray,
) -> np.ndarray:
    """Monthly probability that each listed nurtured company signs with us, its size factor included.

    The factor scales the hazard of ``win_share`` with the levers (``1 - (1 - w) ** (m f)``); each of
    the ``vendor_signings_per_year`` signings is then ours with that share.
    """
    w = np.broadcast_to(np.asarray(params.value("recruitment.win_share"), np.float64).reshape(-1), (params.R,))
    v = np.broadcast_to(
        np.asarray(params.value("market.vendor_signings_per_year"), np.float64).reshape(-1), (params.R,)
    )
    m = lever[RATE_INDEX["recruitment.win_share"], State.NURTURING][segment]
    win = 1.0 - np.power(1.0 - w[rows], m * factor)
    return -np.expm1(-v[rows] * win / 12.0)


def fit_scores(
    log_potential: np.ndarray,
    mean: float | np.ndarray,
    sd: float | np.ndarray,
    accuracy: float | np.ndarray,
    noise: np.ndarray,
) -> np.ndarray:
    """Observed fit scores with correlation ``accuracy`` to log potential (arrays broadcast per replication)."""
    sd = np.asarray(sd, dtype=np.float64)
    z = np.where(sd > 0, (log_potential - mean) / np.where(sd > 0, sd, 1.0), 0.0)
    return accuracy * z + np.sqrt(np.maximum(0.0, 1.0 - np.square(accuracy))) * noise


def potential_given_score(
    fit: np.ndarray,
    mean: float | np.ndarray,
    sd: float | np.ndarray,
    accuracy: float | np.ndarray,
    noise: np.ndarray,
) -> np.ndarray:
    """Log potentials drawn given observed fit scores (a prospect list): the other side of :func:`fit_scores`.

    With the scores standardised over the list (``f``), a score correlated at ``a`` with the standardised
    log potential ``z`` gives ``z | f ~ N(a f, 1 - a^2)``; the log potential is ``mean + sd * z`` with the
    prospect's segment's ``mean`` (log median) and ``sd`` (sigma). ``noise`` is standard normal.
    """
    return mean + deviation_given_score(fit, sd, accuracy, noise)


def deviation_given_score(
    fit: np.ndarray, sd: float | np.ndarray, accuracy: float | np.ndarray, noise: np.ndarray
) -> np.ndarray:
    """``sd * z`` of :func:`potential_given_score`: a prospect's log potential less its segment's log median."""
    f = np.asarray(fit, dtype=np.float64)
    spread = f.std(axis=-1, keepdims=True)
    f_std = np.where(spread > 0, (f - f.mean(axis=-1, keepdims=True)) / np.where(spread > 0, spread, 1.0), 0.0)
    z = accuracy * f_std + np.sqrt(np.maximum(0.0, 1.0 - np.square(accuracy))) * noise
    return sd * z


def select_for_nurturing(
    state: np.ndarray,
    eligible_from: np.ndarray,
    month: int,
    first: int,
    stop: int,
    per_month: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns of the prospects to nurture this month.

    Columns ``first:stop`` hold prospects in descending fit order, so the
    first ``per_month`` eligible ones of each row are the best-scored
    prospects that are not in their cool-off.
    """
    if per_month <= 0 or stop <= first:
        return np.empty(0, np.intp), np.empty(0, np.intp)
    eligible = (state[:, first:stop] == State.PROSPECT) & (eligible_from[:, first:stop] <= month)
    rank = np.cumsum(eligible, axis=1, dtype=np.int32)
    rows, cols = np.nonzero(eligible & (rank <= per_month))
    return rows, cols + first
