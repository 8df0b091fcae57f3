"""Which scenario keys can be sized, their range, and how a value is applied.

Sizing finds the smallest value of a key for which P(plan met) reaches the
confidence, so it needs a key where more is better for revenue and a range
to search. Keys where more is worse, or with no monotone effect, are refused
with the reason.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from ..errors import ChannelError, did_you_mean
from ..lifecycle.program import MAX_ANNUAL_GROWTH, rate_multiplier_range
from ..scenario.keys import dotted_key, keyword_key
from ..scenario.schema import Scenario, flat_keys
from ..vocabulary import GROWTH_RATES, RATES

NURTURE = "recruitment.nurture_per_month"

#: Direction of each rate a lever may scale: +1 when more of it raises revenue (from the vocabulary).
RATE_DIRECTION = {key: rate.direction for key, rate in RATES.items()}

# key -> (integer?, absolute tolerance for continuous keys)
_FIXED: dict[str, tuple[bool, float]] = {
    NURTURE: (True, 1.0),
    "recruitment.nurture_months": (True, 1.0),
    "activation.window_months": (True, 1.0),
    "recruitment.win_share": (False, 0.001),
    "recruitment.scoring_accuracy": (False, 0.001),
    "market.vendor_signings_per_year": (False, 0.01),
    "activation.monthly_probability": (False, 0.001),
    "churn.reactivation_probability": (False, 0.001),
    "collaboration.adoption_probability": (False, 0.001),
    "collaboration.peer_effect": (False, 0.01),
    "growth.active": (False, 0.001),
    "growth.collaborating": (False, 0.001),
}
_SEGMENT = re.compile(r"^market\.segments\.([a-z][a-z0-9_]*)\.(revenue_median|activation_multiplier)$")
_LEVER = re.compile(r"^program\.levers(?:\[(\d+)\]|\.(\d+))\.intensity$")

#: Keys where more lowers revenue: the rates whose direction is -1, and the cool-off after nurturing.
_WORSE = {key for key, direction in RATE_DIRECTION.items() if direction < 0} | {"recruitment.cooloff_months"}


@dataclass(frozen=True)
class Decision:
    """A key to size: its dotted name, the override that sets it, and the range searched."""

    key: str  # dotted key as shown, e.g. program.levers[0].intensity
    label: str  # what it is in words, for messages
    integer: bool
    low: float
    high: float
    current: float
    tolerance: float  # continuous keys: the search stops when the bracket is this narrow

    @property
    def override(self) -> str:
        """The ``section__key`` keyword that sets it."""
        return keyword_key(self.key)

    def apply(self, scenario: Scenario, value: float) -> Scenario:
        """The scenario with this key set to ``value``."""
        return scenario.override(**{self.override: int(value) if self.integer else float(value)})

    def clip(self, value: float) -> float:
        value = min(max(value, self.low), self.high)
        return float(round(value)) if self.integer else float(value)


def sizable_keys(scenario: Scenario) -> list[str]:
    """The keys of ``scenario`` that :func:`~simulator.planning.sizing.size_recruitment` can size."""
    keys = list(_FIXED)
    for name in scenario.segment_names:
        keys += [f"market.segments.{name}.revenue_median", f"market.segments.{name}.activation_multiplier"]
    for lever in scenario.program.levers:
        if _lever_problem(lever.effects) is None:
            keys.append(f"lever:{lever.name}")
    return keys


def _allowed(scenario: Scenario) -> str:
    levers = [k for k in sizable_keys(scenario) if k.startswith("lever:")]
    shown = [*_FIXED, "market.segments.<segment>.revenue_median", "market.segments.<segment>.activation_multiplier"]
    shown.append(", ".join(levers) if levers else "lever:<name> (a lever's intensity)")
    return ", ".join(shown)


def _lever_problem(effects: dict[str, float]) -> str | None:
    if not effects or all(x == 0 for x in effects.values()):
        return "it has no effect on revenue, only costs"
    worse = [f"{k} {x:+g}" for k, x in effects.items() if x * RATE_DIRECTION[k] < 0]
    if worse:
        return f"some of its effects lower revenue ({', '.join(worse)}), so more intensity is not always better"
    return None


def resolve(scenario: Scenario, key: str | None) -> Decision:
    """The :class:`Decision` for ``key`` (default: ``recruitment.nurture_per_month``), or a one-line error."""
    key = NURTURE if key is None else str(key).strip()
    if not key.startswith("lever:"):
        key = dotted_key(key)  # program.levers.0.intensity and program.levers[0].intensity alike
    if key.startswith("lever:"):
        return _lever_decision(scenario, key[len("lever:") :])
    m = _LEVER.match(key)
    if m:
        index = int(m.group(1) or m.group(2))
        if index >= len(scenario.program.levers):
            raise ChannelError(
                f"--decision {key}: the scenario has {len(scenario.program.levers)} lever(s), numbered from 0"
            )
        return _lever_decision(scenario, scenario.program.levers[index].name)
    if key not in flat_keys(scenario):
        raise ChannelError(
            f"--decision {key}: no such key in the scenario{did_you_mean(key, flat_keys(scenario))}; "
            f"keys that can be sized: {_allowed(scenario)}"
        )
    value = scenario.get(key)
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise ChannelError(f"--decision {key} = {value!r}: not a number; keys that can be sized: {_allowed(scenario)}")
    why = _refusal(key)
    if why:
        raise ChannelError(f"--decision {key} cannot be sized: {why}; keys that can be sized: {_allowed(scenario)}")
    H = scenario.horizon_months
    if key == NURTURE:
        prospects = scenario.market.prospects
        if prospects == 0:
            raise ChannelError(f"--decision {key} cannot be sized: market.prospects = 0, so there is no one to recruit")
        # Nurturing more than the whole market in a month changes nothing: the upper limit.
        return Decision(key, "prospects nurtured a month", True, 0, prospects, value, 1.0)
    integer, tol = _FIXED.get(key, (False, 0.0))
    if key in ("activation.window_months", "recruitment.nurture_months"):
        # Beyond the horizon a longer window or nurture period changes nothing.
        return Decision(key, key, True, 1, max(H, 1), value, 1.0)
    seg = _SEGMENT.match(key)
    if seg:
        if seg.group(2) == "revenue_median":
            return Decision(key, key, False, 1.0, 1e8, value, max(1.0, 0.001 * value))
        return Decision(key, key, False, 0.0, 100.0, value, 0.01)
    if key == "market.vendor_signings_per_year":
        return Decision(key, key, False, 0.0, 120.0, value, tol)
    if key == "collaboration.peer_effect":
        return Decision(key, key, False, 0.0, 100.0, value, tol)
    growth = dict(GROWTH_RATES)
    if key in growth:
        # Levers scale growth: keep the scaled rate within what the engine accepts.
        _, most = rate_multiplier_range(
            scenario.program.levers,
            scenario.segment_names,
            scenario.horizon_months,
            key,
            growth[key],
            scenario.program.tiers,
        )
        high = MAX_ANNUAL_GROWTH / most if most > 0 else MAX_ANNUAL_GROWTH
        return Decision(key, key, False, -0.99, min(MAX_ANNUAL_GROWTH, high), value, tol)
    return Decision(key, key, integer, 0.0, 1.0, value, tol)  # a probability


def _refusal(key: str) -> str | None:
    """Why a key cannot be sized, or None when it can."""
    if key in _FIXED or _SEGMENT.match(key):
        return None
    if key in _WORSE:
        return "more of it lowers revenue, and sizing looks for the smallest value that meets the plan"
    if key.startswith(("economics.", "plan.")) or re.match(r"^program\.levers\[\d+\]\.cost\.", key):
        return "it does not change revenue"
    if key == "horizon_months":
        return "it changes which 12 months the target counts"
    if key == "growth.volatility" or key.endswith("revenue_sigma"):
        return "it has no monotone effect on revenue"
    if key.endswith(".share") or key.startswith("channel.segment_shares"):
        return "segment shares must sum to 1"
    return "it is not among the keys sizing knows how to search"


def _lever_decision(scenario: Scenario, name: str) -> Decision:
    levers = {lv.name: i for i, lv in enumerate(scenario.program.levers)}
    if name not in levers:
        have = ", ".join(levers) if levers else "none"
        raise ChannelError(
            f"--decision lever:{name}: no lever named {name!r}{did_you_mean(name, levers)}; "
            f"the scenario's levers: {have}"
        )
    i = levers[name]
    lever = scenario.program.levers[i]
    why = _lever_problem(dict(lever.effects))
    if why:
        raise ChannelError(f"--decision lever:{name} cannot be sized: {why}")
    # Past intensity 1/|x| a negative effect would scale a rate below zero; growth has its own cap.
    high = 100.0
    for x in lever.effects.values():
        if x < 0:
            high = min(high, 1.0 / -x)
    high = min(high, _growth_limit(scenario, i))
    return Decision(
        key=f"program.levers[{i}].intensity",
        label=f"intensity of lever {name}",
        integer=False,
        low=0.0,
        high=high,
        current=float(lever.intensity),
        tolerance=0.01,
    )


def _growth_limit(scenario: Scenario, index: int) -> float:
    """Largest intensity of lever ``index`` that keeps scaled growth rates within the engine's cap."""
    lever = scenario.program.levers[index]
    high = math.inf
    for key, state in GROWTH_RATES:
        base = float(scenario.get(key))
        x = lever.effects.get(key, 0.0)
        if x <= 0 or base <= 0:
            continue
        others = [
            lv.model_copy(update={"intensity": 0.0}) if i == index else lv
            for i, lv in enumerate(scenario.program.levers)
        ]
        _, rest = rate_multiplier_range(
            others, scenario.segment_names, scenario.horizon_months, key, state, scenario.program.tiers
        )
        # base * rest * (1 + k x) <= cap  =>  k <= (cap / (base * rest) - 1) / x
        high = min(high, (MAX_ANNUAL_GROWTH / (base * rest) - 1.0) / x)
    return max(high, 0.0)
