"""Phases 4 and 7: the partner program, compiled from levers into monthly tables.

Levers are data. Before a run they are compiled once into arrays indexed by
``[month, rate, state, segment]`` (rate multipliers) and ``[month, state,
segment]`` (costs), so the monthly kernel never loops over levers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..errors import ScenarioError
from .rates import RATE_INDEX, RATE_KEYS, RATES
from .states import EARNING, N_STATES, State

if TYPE_CHECKING:
    from ..scenario.schema import Scenario

MAX_ANNUAL_GROWTH = 1.0  # keeps float32 run-rates finite over 600 months


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

    def rate(self, key: str) -> np.ndarray:
        """Multipliers of one rate: ``(H+1, states, segments)``."""
        return self.multiplier[:, RATE_INDEX[key]]

    @property
    def has_revenue_share(self) -> bool:
        return bool(self.revenue_share.any())


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

    _check_growth(scenario, mult)
    return ProgramSchedule(
        lever_names=tuple(lv.name for lv in levers),
        multiplier=mult,
        fixed_cost=fixed,
        per_partner_cost=per_partner,
        per_signing_cost=per_signing,
        revenue_share=revenue_share,
    )


def _check_growth(scenario: Scenario, mult: np.ndarray) -> None:
    """Refuse levers that push a growth rate beyond what the engine can represent."""
    for key, state, base in (
        ("growth.active", State.ACTIVE, scenario.growth.active),
        ("growth.collaborating", State.COLLABORATING, scenario.growth.collaborating),
    ):
        scaled = base * mult[:, RATE_INDEX[key], state]
        worst = float(scaled.max())
        if worst > MAX_ANNUAL_GROWTH or float(scaled.min()) <= -1.0:
            raise ScenarioError(
                f"levers scale {key} to {max(worst, float(scaled.min())):.3g} a year; "
                f"the scaled rate must stay above -1 and at most {MAX_ANNUAL_GROWTH:g}",
                "program.levers",
            )
