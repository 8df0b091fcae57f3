"""Phases 4 and 7: the partner program, compiled from levers into monthly tables.

Levers are data. Before a run they are compiled once into arrays indexed by
``[month, rate, state, segment]`` (rate multipliers) and ``[month, state,
segment]`` (costs), so the monthly kernel never loops over levers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from ..errors import ScenarioError
from ..vocabulary import EARNING, GROWTH_RATES, N_STATES, RATE_INDEX, RATE_KEYS, RATES, State

if TYPE_CHECKING:
    from ..scenario.schema import Lever, Scenario, Tier

MAX_ANNUAL_GROWTH = 1.0  # keeps run-rates finite over 600 months


@dataclass(frozen=True)
class ProgramSchedule:
    """Lever effects and costs of one scenario, month by month (month 0 has none).

    ``multiplier[m, rate, state, segment]`` scales the rate for companies in that
    state and segment during month ``m`` (product of ``1 + intensity * x`` over the
    levers running). Cost arrays are per lever so reports can attribute them.
    """

    lever_names: tuple[str, ...]
    multiplier: np.ndarray  # (H+1, rates, states, segments)
    fixed_cost: np.ndarray  # (levers, H+1)
    per_partner_cost: np.ndarray  # (levers, H+1, states, segments)
    per_signing_cost: np.ndarray  # (levers, H+1, segments)
    revenue_share: np.ndarray  # (levers, H+1, states, segments)
    tier_names: tuple[str, ...] = ()
    #: ``tier_factor[t, rate, state]`` scales the rate for companies of tier ``t`` in that state, every
    #: month and segment, on top of the levers; ``(T, rates, states)``, all ones without tiers (T = 1).
    tier_factor: np.ndarray = field(default_factory=lambda: np.ones((1, len(RATE_KEYS), N_STATES)))
    tier_thresholds: np.ndarray = field(default_factory=lambda: np.zeros(1))  # (T,) trailing-12-month revenue
    tier_revenue_share: np.ndarray = field(default_factory=lambda: np.zeros(1))  # (T,) rebate on tier revenue
    tier_per_partner: np.ndarray = field(default_factory=lambda: np.zeros(1))  # (T,) MDF per partner-month
    review_months: int = 12

    def rate(self, key: str) -> np.ndarray:
        """Multipliers of one rate: ``(H+1, states, segments)``."""
        return self.multiplier[:, RATE_INDEX[key]]

    @property
    def has_revenue_share(self) -> bool:
        return bool(self.revenue_share.any())

    @property
    def tiers(self) -> int:
        """T: number of tiers, the length of the kernel's tier axis (1 without tiers)."""
        return self.tier_factor.shape[0]

    @property
    def has_tiers(self) -> bool:
        return bool(self.tier_names)

    @property
    def has_tier_rebates(self) -> bool:
        """Some tier pays a rebate on its revenue (the kernel then books revenue by tier)."""
        return self.has_tiers and bool(self.tier_revenue_share.any())

    def month_multiplier(self, month: int, tier: int) -> np.ndarray:
        """What scales each rate in ``month`` for companies of ``tier``: levers times the tier factor,
        ``(rates, states, segments)`` (the lever table itself without tiers, so no-tier runs are unchanged)."""
        if not self.has_tiers:
            return self.multiplier[month]
        return self.multiplier[month] * self.tier_factor[tier][:, :, None]

    @property
    def tier_move_states(self) -> np.ndarray:
        """States whose move hazards differ between tiers (a tier scales one of their probabilities
        differently from the lowest tier); in every other state all tiers move alike."""
        probability = [RATE_INDEX[k] for k in RATE_KEYS if RATES[k].probability]
        f = self.tier_factor[:, probability]  # (T, rates, states)
        return np.flatnonzero((f != f[:1]).any(axis=(0, 1)))

    def is_review(self, month: int) -> bool:
        """Tiers are reviewed at the end of months review_months, 2 * review_months, ..."""
        return self.has_tiers and month >= 1 and month % self.review_months == 0


MAX_PROGRAM_BYTES = 256 << 20  # the compiled tables of one scenario: far above any real program


def program_table_bytes(n_levers: int, n_segments: int, horizon: int) -> int:
    """Bytes :func:`compile_program` allocates (float64 tables), known before allocating them."""
    per_month = len(RATE_KEYS) * N_STATES * n_segments + n_levers * (1 + 2 * N_STATES * n_segments + n_segments)
    return 8 * (horizon + 1) * per_month


def compile_program(scenario: Scenario) -> ProgramSchedule:
    """Turn the scenario's levers into monthly multiplier and cost tables."""
    horizon = scenario.horizon_months
    segments = scenario.segment_names
    n_seg = len(segments)
    levers = scenario.program.levers
    n_lev = len(levers)
    mult = np.ones((horizon + 1, len(RATE_KEYS), N_STATES, n_seg))
    fixed = np.zeros((n_lev, horizon + 1))
    per_partner = np.zeros((n_lev, horizon + 1, N_STATES, n_seg))
    per_signing = np.zeros((n_lev, horizon + 1, n_seg))
    revenue_share = np.zeros((n_lev, horizon + 1, N_STATES, n_seg))

    for li, lever in enumerate(levers):
        first, last = lever.month_range(horizon)
        months = slice(max(first, 1), min(last, horizon) + 1)
        states = [int(s) for s in lever.states()]
        segs = [segments.index(g) for g in lever.targeted_segments(segments)]
        k = lever.intensity
        for key, x in lever.effects.items():
            acted = [s for s in states if State(s) in RATES[key].states]
            for s in acted:
                mult[months, RATE_INDEX[key], s, segs] *= 1.0 + k * x
        fixed[li, months] = k * lever.cost.fixed_per_month
        for s in states:
            per_partner[li, months, s, segs] = k * lever.cost.per_partner_month
            if State(s) in EARNING:
                revenue_share[li, months, s, segs] = k * lever.cost.revenue_share
        per_signing[li, months, segs] = k * lever.cost.per_signing

    tiers = scenario.program.tiers
    extra = {}
    if tiers:
        extra = {
            "tier_names": tuple(t.name for t in tiers),
            "tier_factor": np.stack([tier_factor(t) for t in tiers]),
            "tier_thresholds": np.array([t.threshold for t in tiers], np.float64),
            "tier_revenue_share": np.array([t.cost.revenue_share for t in tiers], np.float64),
            "tier_per_partner": np.array([t.cost.per_partner_month for t in tiers], np.float64),
            "review_months": scenario.program.review_months,
        }
    return ProgramSchedule(
        lever_names=tuple(lv.name for lv in levers),
        multiplier=mult,
        fixed_cost=fixed,
        per_partner_cost=per_partner,
        per_signing_cost=per_signing,
        revenue_share=revenue_share,
        **extra,
    )


def tier_factor(tier: Tier) -> np.ndarray:
    """``(rates, states)``: a tier's effect x scales a rate by 1 + x in the states the rate acts on, as a
    lever of intensity 1 does (probabilities through their hazard, by the same multiplier table)."""
    factor = np.ones((len(RATE_KEYS), N_STATES))
    for key, x in tier.effects.items():
        factor[RATE_INDEX[key], [int(s) for s in RATES[key].states]] = 1.0 + x
    return factor


def tier_factor_range(tiers: Sequence[Tier], key: str, state: State) -> tuple[float, float]:
    """Smallest and largest factor the tiers scale ``key`` by for companies in ``state`` (1, 1 without)."""
    if not tiers or state not in RATES[key].states:
        return 1.0, 1.0
    factors = [1.0 + t.effects.get(key, 0.0) for t in tiers]
    return min(factors), max(factors)


def rate_multiplier_range(
    levers: Sequence[Lever],
    segments: Sequence[str],
    horizon: int,
    key: str,
    state: State,
    tiers: Sequence[Tier] = (),
) -> tuple[float, float]:
    """Smallest and largest factor the levers (and ``tiers``) scale ``key`` by, for companies in ``state``,
    over every month, segment and tier: a pure function of the levers (no tables), cheap enough to run on
    every override.

    Months where no lever runs count as a factor of 1. The months are cut where a lever starts or stops,
    so within each piece the same levers run and their factors multiply. A tier factor stacks on the
    levers' and every factor is >= 0, so the extremes multiply.
    """
    low, high = _lever_range(levers, segments, horizon, key, state)
    tier_low, tier_high = tier_factor_range(tiers, key, state)
    return low * tier_low, high * tier_high


def _lever_range(
    levers: Sequence[Lever], segments: Sequence[str], horizon: int, key: str, state: State
) -> tuple[float, float]:
    acting = []
    for lever in levers:
        x = lever.effects.get(key)
        if x is None or state not in lever.states() or state not in RATES[key].states:
            continue
        first, last = lever.month_range(horizon)
        acting.append((max(first, 1), min(last, horizon), set(lever.targeted_segments(tuple(segments))), lever, x))
    if not acting or horizon < 1:
        return 1.0, 1.0
    starts = sorted({1, *(a[0] for a in acting), *(a[1] + 1 for a in acting)} & set(range(1, horizon + 1)))
    low, high = np.inf, -np.inf
    for month in starts:
        for g in segments:
            factor = 1.0
            for first, last, segs, lever, x in acting:
                if first <= month <= last and g in segs:
                    factor *= 1.0 + lever.intensity * x
            low, high = min(low, factor), max(high, factor)
    return float(low), float(high)


#: Levers may scale the revenue partners earn by at most this factor (stacked uplifts included).
MAX_REVENUE_UPLIFT = 1000.0


def check_levers(scenario: Scenario) -> None:
    """Refuse stacked lever effects the engine cannot represent: growth beyond its cap, uplifts beyond
    ``MAX_REVENUE_UPLIFT``. A pure function of the levers, cheap enough for every override."""
    check_growth(scenario)
    for state in RATES["revenue.uplift"].states:
        _, high = rate_multiplier_range(
            scenario.program.levers,
            scenario.segment_names,
            scenario.horizon_months,
            "revenue.uplift",
            state,
            scenario.program.tiers,
        )
        if high > MAX_REVENUE_UPLIFT:
            raise ScenarioError(
                f"{_who_scales(scenario, 'revenue.uplift')} scale the revenue of {state.label} partners by {high:.3g} "
                f"(revenue.uplift effects times intensities, stacked); at most {MAX_REVENUE_UPLIFT:g} is allowed",
                _program_field(scenario, "revenue.uplift"),
            )


def check_growth(scenario: Scenario) -> None:
    """Refuse levers that push a growth rate beyond what the engine can represent (no tables compiled)."""
    for key, state in GROWTH_RATES:
        base = float(scenario.get(key))
        low, high = rate_multiplier_range(
            scenario.program.levers, scenario.segment_names, scenario.horizon_months, key, state, scenario.program.tiers
        )
        extremes = (base * low, base * high)
        worst, least = max(extremes), min(extremes)
        if worst > MAX_ANNUAL_GROWTH or least <= -1.0:
            scaled = worst if worst > MAX_ANNUAL_GROWTH else least
            raise ScenarioError(
                f"{_who_scales(scenario, key)} scale {key} to {scaled:.3g} a year; "
                f"the scaled rate must stay above -1 and at most {MAX_ANNUAL_GROWTH:g}",
                _program_field(scenario, key),
            )


def _who_scales(scenario: Scenario, key: str) -> str:
    """``levers``, ``tiers`` or ``levers and tiers``: who stacks effects on ``key``."""
    levers, tiers = _scaled_by(scenario, key)
    return "levers and tiers" if levers and tiers else "tiers" if tiers else "levers"


def _program_field(scenario: Scenario, key: str) -> str:
    """The field a refused stack of effects on ``key`` names: the tiers when only tiers scale it."""
    levers, tiers = _scaled_by(scenario, key)
    return "program.tiers" if tiers and not levers else "program.levers"


def _scaled_by(scenario: Scenario, key: str) -> tuple[bool, bool]:
    """Whether some lever, and some tier, has an effect on ``key``."""
    program = scenario.program
    return any(key in lv.effects for lv in program.levers), any(key in t.effects for t in program.tiers)
