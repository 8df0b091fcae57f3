"""The rates a program lever may scale, and the states each one acts on.

A lever effect ``x`` scales a rate by ``1 + x``. For a probability the monthly
hazard is scaled (``p -> 1 - (1 - p) ** (1 + x)``), so a probability stays in
[0, 1] whatever levers stack on it; growth rates and the revenue uplift are
scaled directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from .states import State


@dataclass(frozen=True)
class Rate:
    key: str
    states: tuple[State, ...]  # the states whose companies this rate acts on
    phase: str  # methodology phase it belongs to
    probability: bool  # scaled through its hazard


_RATES = (
    Rate("recruitment.win_share", (State.NURTURING,), "recruitment", True),
    Rate("activation.monthly_probability", (State.SIGNED,), "activation", True),
    Rate("churn.dormancy_probability", (State.ACTIVE, State.COLLABORATING), "engagement", True),
    Rate("churn.exit_probability", (State.ACTIVE, State.COLLABORATING), "engagement", True),
    Rate("churn.reactivation_probability", (State.DORMANT,), "engagement", True),
    Rate("churn.dormant_exit_probability", (State.DORMANT,), "engagement", True),
    Rate("collaboration.adoption_probability", (State.ACTIVE,), "collaboration", True),
    Rate("collaboration.lapse_probability", (State.COLLABORATING,), "collaboration", True),
    Rate("growth.active", (State.ACTIVE,), "engagement", False),
    Rate("growth.collaborating", (State.COLLABORATING,), "collaboration", False),
    Rate("revenue.uplift", (State.ACTIVE, State.COLLABORATING), "engagement", False),
)

RATES: dict[str, Rate] = {r.key: r for r in _RATES}
RATE_KEYS: tuple[str, ...] = tuple(RATES)
RATE_INDEX: dict[str, int] = {k: i for i, k in enumerate(RATE_KEYS)}

#: Phases of the methodology, in order (a lever names the one it belongs to).
Phase = Literal[
    "research",
    "recruitment",
    "activation",
    "engagement",
    "collaboration",
    "measurement",
    "optimization",
]
PHASES: tuple[str, ...] = get_args(Phase)
