"""Concentration answers (question 3 of MODEL.md): over time, at the horizon, and the Lorenz curve.

The measures themselves live in :mod:`simulator.lifecycle.measurement` (top-q
share read off the Lorenz curve, Gini with the ``n / (n - 1)`` correction,
HHI, effective partners = 1 / HHI, share earning nothing); this module
applies them to simulation results. "Earning partners" have trailing-12-month
revenue above zero; "all signed partners" are those in the channel (signed,
active, collaborating, dormant) plus any that earned in the last 12 months
and have since left, as in the monthly table.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from ..engine.kernel import ChannelKernel
from ..engine.results import SimulationResult, check_seed, kernel_blocks, replication_indices
from ..errors import ChannelError
from ..lifecycle.measurement import concentration_rows
from ..scenario.loading import ScenarioLike
from ..validation import TOP_FRACTION
from ..vocabulary import signed_or_earning, state_codes
from .common import as_scenario, bands

MEASURES = (
    "earning_partners",
    "signed_partners",
    "share_earning_nothing",
    "top_share",
    "gini",
    "hhi",
    "effective_partners",
    "top_share_all",
    "gini_all",
)


def _check_q(q: float) -> float:
    """The fraction of partners a top share counts, in (0, 1] (e.g. 0.2)."""
    return TOP_FRACTION("q", q)


def measure(values: np.ndarray, member: np.ndarray, q: float = 0.2) -> dict[str, np.ndarray]:
    """Every concentration measure, per row of ``values`` (rows x partners) among ``member``.

    Adds to :func:`~simulator.lifecycle.measurement.concentration_rows` the
    effective number of partners (1 / HHI) and the share of members earning nothing.
    """
    conc = concentration_rows(values, member, _check_q(q))
    n, n_all = conc["n"], conc["n_all"]
    with np.errstate(divide="ignore", invalid="ignore"):
        effective = np.where(conc["hhi"] > 0, 1.0 / conc["hhi"], np.nan)
        nothing = np.where(n_all > 0, (n_all - n) / n_all, np.nan)
    return {
        "earning_partners": n.astype(np.int64),
        "signed_partners": n_all.astype(np.int64),
        "share_earning_nothing": nothing,
        "top_share": conc["top_share"],
        "gini": conc["gini"],
        "hhi": conc["hhi"],
        "effective_partners": effective,
        "top_share_all": conc["top_share_all"],
        "gini_all": conc["gini_all"],
    }


def concentration_trajectory(
    scenario: ScenarioLike | SimulationResult,
    replications: int | Iterable[int] = 100,
    seed: int = 0,
    *,
    q: float = 0.2,
    **overrides: object,
) -> pd.DataFrame:
    """Concentration of trailing-12-month revenue per replication and month, any top-``q`` share.

    One row per replication and month 0..horizon with :data:`MEASURES`
    (``top_share`` is the share of the top ``q`` of partners). Given a
    :class:`SimulationResult`, its scenario, seed and replications are
    re-run: the draws are the same, so the months are those of the result,
    measured with what the monthly table does not keep (the count of all
    signed partners, the share earning nothing, any ``q``).
    """
    q = _check_q(q)
    if isinstance(scenario, SimulationResult):
        if overrides:
            raise ChannelError("overrides cannot be applied to a finished result; pass the scenario instead")
        scn, reps, seed = scenario.scenario, scenario.replications, scenario.seed
    else:
        scn = as_scenario(scenario, overrides)
        reps = replication_indices(replications)
    seed = check_seed(seed)
    months = scn.horizon_months + 1
    frames = []
    # The kernel's own concentration is skipped: it is measured here, with more.
    for kernel in kernel_blocks(scn, seed, reps, concentration=False):
        per_month = [_measure_kernel(kernel, q)]
        while not kernel.done:
            kernel.step()
            per_month.append(_measure_kernel(kernel, q))
        data: dict[str, np.ndarray] = {
            "replication": np.repeat(kernel.replications, months),
            "month": np.tile(np.arange(months, dtype=np.int64), kernel.R),
        }
        for name in MEASURES:
            data[name] = np.stack([row[name] for row in per_month], axis=1).ravel()
        frames.append(pd.DataFrame(data))
    out = pd.concat(frames, ignore_index=True)
    out.attrs["q"] = q
    return out


def _measure_kernel(kernel: ChannelKernel, q: float) -> dict[str, np.ndarray]:
    t12 = kernel.trailing_revenue()
    return measure(t12, kernel.signed_or_earning(t12), q)


def concentration_over_time(
    scenario: ScenarioLike | SimulationResult,
    replications: int | Iterable[int] = 100,
    seed: int = 0,
    *,
    q: float = 0.2,
    **overrides: object,
) -> pd.DataFrame:
    """Mean and P10/P50/P90 across replications of every concentration measure, per month.

    Tidy: ``month, figure, mean, p10, p50, p90`` (see :func:`concentration_trajectory`).
    A measure undefined in a replication (no earning partner) is left out of that month's band.
    """
    per = concentration_trajectory(scenario, replications, seed, q=q, **overrides)
    return bands(per, "month", MEASURES)


# -- at the horizon, from the partner scorecard ---------------------------------------


def _member_matrix(partners: pd.DataFrame, among: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Revenues of each replication's partners as a padded matrix, with the member mask."""
    if among not in ("earning", "all"):
        raise ChannelError(f"among = {among!r}: use 'earning' (revenue above zero) or 'all' (all signed partners)")
    need = {"replication", "state", "revenue_t12m"}
    if partners is None or not need <= set(partners.columns):
        raise ChannelError("concentration at the horizon needs the partner scorecard (simulate with partners=True)")
    revenue = partners["revenue_t12m"].to_numpy(np.float64)
    member = signed_or_earning(state_codes(partners["state"]), revenue)
    if among == "earning":
        member &= revenue > 0
    rep_ids, rows = np.unique(partners["replication"].to_numpy(), return_inverse=True)
    cols = pd.Series(rows).groupby(rows).cumcount().to_numpy()
    width = int(cols.max()) + 1 if cols.size else 0
    values = np.zeros((rep_ids.size, width))
    mask = np.zeros((rep_ids.size, width), bool)
    values[rows, cols] = revenue
    mask[rows, cols] = member
    return rep_ids, values, mask


def concentration_at_horizon(partners: pd.DataFrame, q: float = 0.2) -> pd.DataFrame:
    """Every concentration measure at the horizon, one row per replication, from ``result.partners``.

    A replication in which no company was ever signed has no row.
    """
    rep_ids, values, mask = _member_matrix(partners, "all")
    out = pd.DataFrame({"replication": rep_ids})
    for name, column in measure(values, mask, q).items():
        out[name] = column
    return out


def lorenz_points(partners: pd.DataFrame, among: str = "earning", points: int = 21) -> pd.DataFrame:
    """Lorenz curve of trailing-12-month revenue at the horizon, as bands across replications.

    Columns: ``partner_share`` (cumulative share of partners, smallest first,
    on ``points`` evenly spaced values from 0 to 1), and the ``mean``, ``p10``,
    ``p50`` and ``p90`` across replications of the cumulative revenue share
    they earn. ``among`` is ``"earning"`` (revenue above zero) or ``"all"``
    (all signed partners, zeros included). Between partners the curve is
    linear, as in :func:`simulator.lifecycle.measurement.lorenz_curve`.
    """
    if isinstance(points, bool) or not isinstance(points, int) or points < 2:
        raise ChannelError(f"points = {points!r}: the Lorenz curve needs at least 2 points")
    _, values, mask = _member_matrix(partners, among)
    # Members first, smallest revenue first (non-members pushed to the end as +inf).
    v = np.sort(np.where(mask, values, np.inf), axis=1)
    n = mask.sum(axis=1)
    v = np.where(np.isinf(v), 0.0, v)
    cum = np.concatenate([np.zeros((v.shape[0], 1)), np.cumsum(v, axis=1)], axis=1)
    total = cum[np.arange(v.shape[0]), n]
    x = np.linspace(0.0, 1.0, points)
    t = x[None, :] * n[:, None]
    k = np.minimum(np.floor(t).astype(np.int64), np.maximum(n - 1, 0)[:, None])
    frac = t - k
    nxt = np.take_along_axis(v, np.minimum(k, max(v.shape[1] - 1, 0)), axis=1) if v.shape[1] else np.zeros_like(t)
    with np.errstate(divide="ignore", invalid="ignore"):
        y = (np.take_along_axis(cum, k, axis=1) + frac * nxt) / total[:, None]
    y = y[(n > 0) & (total > 0)]
    out = pd.DataFrame({"partner_share": x})
    if y.shape[0] == 0:
        out["mean"] = out["p10"] = out["p50"] = out["p90"] = np.nan
        return out
    out["mean"] = y.mean(axis=0)
    for name, level in (("p10", 0.1), ("p50", 0.5), ("p90", 0.9)):
        out[name] = np.quantile(y, level, axis=0)
    return out
