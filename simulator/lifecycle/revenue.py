"""Revenue: potentials, growth of run-rates, and what partners earn.

A company's true monthly revenue potential is lognormal within its segment.
At its first deal a partner's run-rate starts at its potential; each month it
grows at ``growth.active`` or ``growth.collaborating`` a year (by its state at
the start of the month) times mean-one lognormal noise of annual volatility
``growth.volatility``, so expected growth is exactly the configured rate.
Partners earn their run-rate while active or collaborating (times any
``revenue.uplift`` lever); dormant ones keep it for when they come back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .rates import GROWTH_RATES, RATE_INDEX
from .states import EARNING, N_STATES

if TYPE_CHECKING:
    from ..engine.parameters import ReplicationParameters
    from ..scenario.schema import Scenario
    from .program import ProgramSchedule


def log_potential_moments(scenario: Scenario) -> tuple[float, float]:
    """Mean and standard deviation of log potential over the market's segment mixture."""
    segs = list(scenario.market.segments.values())
    mean, sd = mixture_moments(
        np.array([s.share for s in segs]),
        np.log([s.revenue_median for s in segs]),
        np.array([s.revenue_sigma for s in segs]),
    )
    return float(mean), float(sd)


def mixture_moments(shares: np.ndarray, mu: np.ndarray, sigma: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and sd of log potential over a segment mixture; ``mu``/``sigma`` are ``(G,)`` or ``(R, G)``."""
    mean = mu @ shares
    var = (sigma**2 + (mu - np.asarray(mean)[..., None]) ** 2) @ shares
    return mean, np.sqrt(var)


def growth_tables(params: ReplicationParameters, schedule: ProgramSchedule) -> tuple[np.ndarray, np.ndarray]:
    """Monthly log-drift and noise sd of run-rates: two ``(1 or R, H+1, states, segments, T)`` arrays.

    The monthly factor is ``exp(drift + sd * Z)`` with ``Z ~ N(0, 1)``, where
    ``drift = ln(1 + g) / 12 - sd**2 / 2`` makes the noise mean-one, so twelve
    months grow by ``1 + g`` in expectation. The first axis has one row per
    replication when a growth rate or the volatility is uncertain, else one;
    the last is the partner tier (T = 1 without tiers), whose factor scales
    the levers' growth.
    """
    scenario = params.scenario
    keys = [key for key, _ in GROWTH_RATES] + ["growth.volatility"]
    rows = params.R if any(k in params.drawn for k in keys) else 1
    n_seg = len(scenario.market.segments)
    months = scenario.horizon_months + 1
    T = schedule.tiers
    drift = np.zeros((rows, months, N_STATES, n_seg, T))
    sd = np.zeros((rows, months, N_STATES, n_seg, T))
    monthly_sd = np.broadcast_to(np.asarray(params.value("growth.volatility")), (rows, 1))[:, :, None, None]
    monthly_sd = monthly_sd / np.sqrt(12.0)
    for key, state in GROWTH_RATES:
        base = np.broadcast_to(np.asarray(params.value(key)), (rows, 1))[:, :, None, None]  # (rows, 1, 1, 1)
        lever = schedule.multiplier[None, :, RATE_INDEX[key], state, :, None]  # (1, H+1, G, 1)
        if schedule.has_tiers:
            lever = lever * schedule.tier_factor[:, RATE_INDEX[key], state]  # (1, H+1, G, T)
        rate = base * lever
        drift[:, :, state] = np.log1p(rate) / 12.0 - monthly_sd**2 / 2.0
        sd[:, :, state] = monthly_sd
    drift[:, 0] = sd[:, 0] = 0.0  # month 0 is the starting channel: no growth step
    return drift, sd


def ramp_factor(months_since_first_deal: np.ndarray, start: float, months: int) -> np.ndarray:
    """Share of its run-rate a recruit earns ``k`` months after its first deal (``k = 0``: that month).

    ``start + (1 - start) * k / months`` until ``k = months``, then 1: a straight line from
    ``activation.ramp_start`` to the full run-rate over ``activation.ramp_months``.
    """
    k = np.asarray(months_since_first_deal, dtype=np.float64)
    return np.minimum(start + (1.0 - start) * k / months, 1.0)


def revenue_multipliers(schedule: ProgramSchedule) -> np.ndarray:
    """What a run-rate earns per state, segment and tier: uplift if earning, else 0. ``(H+1, S, G, T)``."""
    uplift = schedule.multiplier[:, RATE_INDEX["revenue.uplift"], :, :, None]  # (H+1, S, G, 1)
    if schedule.has_tiers:  # from month 1: month 0 is the starting channel, before any tier review
        tiered = uplift * schedule.tier_factor[:, RATE_INDEX["revenue.uplift"]].T[None, :, None, :]
        uplift = np.concatenate([np.broadcast_to(uplift[:1], tiered[:1].shape), tiered[1:]])
    earns = np.zeros(N_STATES)
    earns[list(EARNING)] = 1.0
    return uplift * earns[None, :, None, None]
