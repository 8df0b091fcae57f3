"""Parameter uncertainty: the ``uncertainty:`` section of a scenario.

It maps dotted keys to one distribution each::

    uncertainty:
      recruitment.win_share: {uniform: [0.15, 0.35]}          # an expert's range
      activation.monthly_probability: {beta: [31, 250]}        # from a calibration: events, non-events
      market.segments.msp.revenue_median: {lognormal: [8.3, 0.1]}

Each replication draws its own value of every listed key (from a stream keyed by the replication and
the key, so replication ``r`` draws the same values whatever runs beside it, and two scenarios that
share an uncertain key share its draws). Values are drawn from the distribution truncated to the key's
allowed range (a probability stays in [0, 1]), so no draw is ever outside what the engine accepts.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any

import numpy as np
from pydantic import BeforeValidator, Field, model_serializer, model_validator

from ..errors import ScenarioError, did_you_mean

# Imported lazily by schema.py, which defines Section; the base class is passed in to avoid a cycle.

#: Distributions and how many parameters each takes.
SHAPES = {"beta": 2, "normal": 2, "lognormal": 2, "uniform": 2, "triangular": 3}
_PROBABILITY = (0.0, 1.0)
#: Keys that may be uncertain, with the range a drawn value is truncated to.
UNCERTAIN_KEYS: dict[str, tuple[float, float]] = {
    "recruitment.win_share": _PROBABILITY,
    "recruitment.scoring_accuracy": _PROBABILITY,
    "activation.monthly_probability": _PROBABILITY,
    "churn.dormancy_probability": _PROBABILITY,
    "churn.exit_probability": _PROBABILITY,
    "churn.reactivation_probability": _PROBABILITY,
    "churn.dormant_exit_probability": _PROBABILITY,
    "collaboration.adoption_probability": _PROBABILITY,
    "collaboration.lapse_probability": _PROBABILITY,
    "collaboration.peer_effect": (0.0, 100.0),
    "growth.active": (-0.99, 1.0),
    "growth.collaborating": (-0.99, 1.0),
    "growth.volatility": (0.0, 2.0),
    "market.vendor_signings_per_year": (0.0, 120.0),
    "economics.gross_margin": _PROBABILITY,
    "economics.nurture_cost_per_month": (0.0, 1e9),
    "economics.onboarding_cost": (0.0, 1e9),
}
SEGMENT_FIELDS: dict[str, tuple[float, float]] = {
    "revenue_median": (1e-6, 1e8),
    "revenue_sigma": (0.0, 4.0),
    "activation_multiplier": (0.0, 100.0),
}
_SEGMENT_KEY = re.compile(r"^market\.segments\.([a-z][a-z0-9_]*)\.([a-z_]+)$")


def _pair(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


Numbers = Annotated[tuple[Annotated[float, Field(allow_inf_nan=False)], ...], BeforeValidator(_pair)]


def make_distribution(section: type) -> type:
    """The Distribution model on the scenario's Section base (strict, frozen, no unknown keys)."""

    class Distribution(section):  # type: ignore[misc, valid-type]
        """One distribution: exactly one of beta, normal, lognormal, uniform, triangular, with its parameters."""

        beta: Numbers | None = None
        normal: Numbers | None = None
        lognormal: Numbers | None = None
        uniform: Numbers | None = None
        triangular: Numbers | None = None

        @model_validator(mode="after")
        def _one(self) -> Distribution:
            given = [name for name in SHAPES if getattr(self, name) is not None]
            if len(given) != 1:
                raise ScenarioError(
                    f"give exactly one distribution ({', '.join(SHAPES)}), e.g. {{beta: [3, 7]}}; got {len(given)}"
                )
            name = given[0]
            p = getattr(self, name)
            if len(p) != SHAPES[name]:
                raise ScenarioError(f"{name} takes {SHAPES[name]} parameters, got {len(p)}", name)
            problem = {
                "beta": lambda: p[0] <= 0 or p[1] <= 0,
                "normal": lambda: p[1] <= 0,
                "lognormal": lambda: p[1] <= 0,
                "uniform": lambda: not p[0] < p[1],
                "triangular": lambda: not (p[0] <= p[1] <= p[2] and p[0] < p[2]),
            }[name]()
            if problem:
                rule = {
                    "beta": "both shape parameters must be > 0: [a, b]",
                    "normal": "the standard deviation must be > 0: [mean, sd]",
                    "lognormal": "sigma must be > 0: [mu, sigma] of the log",
                    "uniform": "low must be below high: [low, high]",
                    "triangular": "low <= mode <= high with low < high: [low, mode, high]",
                }[name]
                raise ScenarioError(f"{list(p)}: {rule}", name)
            return self

        @model_serializer(mode="wrap")
        def _compact(self, handler: Any) -> dict[str, Any]:
            # Written as it is read: {beta: [a, b]}, not five keys with four of them null.
            return {k: v for k, v in handler(self).items() if v is not None}

        @property
        def kind(self) -> str:
            return next(name for name in SHAPES if getattr(self, name) is not None)

        @property
        def parameters(self) -> tuple[float, ...]:
            return getattr(self, self.kind)

        def frozen(self) -> Any:
            """The scipy.stats distribution."""
            from scipy import stats

            p = self.parameters
            return {
                "beta": lambda: stats.beta(p[0], p[1]),
                "normal": lambda: stats.norm(p[0], p[1]),
                "lognormal": lambda: stats.lognorm(s=p[1], scale=math.exp(p[0])),
                "uniform": lambda: stats.uniform(p[0], p[1] - p[0]),
                "triangular": lambda: stats.triang((p[1] - p[0]) / (p[2] - p[0]), loc=p[0], scale=p[2] - p[0]),
            }[self.kind]()

        def mass(self, low: float, high: float) -> float:
            """Probability the distribution gives to ``[low, high]``."""
            d = self.frozen()
            return float(d.cdf(high) - d.cdf(low))

        def draw(self, u: np.ndarray, low: float, high: float) -> np.ndarray:
            """Values for uniforms ``u``: the inverse CDF of the distribution truncated to ``[low, high]``."""
            d = self.frozen()
            lo, hi = float(d.cdf(low)), float(d.cdf(high))
            x = d.ppf(lo + np.asarray(u, dtype=np.float64) * (hi - lo))
            return np.clip(x, low, high)

    return Distribution


def key_bounds(key: str, segments: tuple[str, ...]) -> tuple[float, float]:
    """The range a drawn value of ``key`` is truncated to; a one-line error for a key that cannot be uncertain."""
    if key in UNCERTAIN_KEYS:
        return UNCERTAIN_KEYS[key]
    m = _SEGMENT_KEY.match(key)
    if m:
        segment, field = m.groups()
        if segment not in segments:
            raise ScenarioError(
                f"no segment {segment!r}{did_you_mean(segment, segments)}; market.segments has: {', '.join(segments)}",
                f"uncertainty.{key}",
            )
        if field in SEGMENT_FIELDS:
            return SEGMENT_FIELDS[field]
    allowed = [*UNCERTAIN_KEYS, *(f"market.segments.<segment>.{f}" for f in SEGMENT_FIELDS)]
    raise ScenarioError(
        f"cannot be uncertain{did_you_mean(key, UNCERTAIN_KEYS)}; keys that can: {', '.join(allowed)}",
        f"uncertainty.{key}",
    )
