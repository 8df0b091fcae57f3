"""The scenario's values for a block of replications, with parameter uncertainty drawn per replication.

Without an ``uncertainty:`` section every value is the scenario's own (a float). With one, each listed
key has one value per replication, drawn once at month 0 from the replication's stream, in a lane of
its own (keyed by the key's name), so replication ``r`` draws the same values whatever runs beside it
and scenarios that share an uncertain key share its draws. The lifecycle functions read values through
:meth:`ReplicationParameters.value` and :meth:`ReplicationParameters.segment`: a float, or an array
shaped to broadcast over (replications, segments).
"""

from __future__ import annotations

import zlib
from functools import cached_property

import numpy as np

from ..lifecycle.program import MAX_ANNUAL_GROWTH, rate_multiplier_range
from ..scenario.schema import Scenario
from ..scenario.uncertainty import key_bounds
from ..vocabulary import GROWTH_RATES
from .streams import Purpose, ReplicationStreams


def lane(key: str) -> int:
    """The stream lane of an uncertain key: a stable 32-bit hash of its name."""
    return zlib.crc32(key.encode("utf-8"))


class ReplicationParameters:
    """Values of a scenario's keys for a block of ``R`` replications."""

    def __init__(self, scenario: Scenario, drawn: dict[str, np.ndarray], replications: int) -> None:
        self.scenario = scenario
        self.drawn = drawn  # key -> (R,) values, for the uncertain keys only
        self.R = replications
        self._base: dict[str, float] = {}

    @classmethod
    def draw(cls, scenario: Scenario, streams: ReplicationStreams, replications: int) -> ReplicationParameters:
        """Draw every uncertain key's value for each replication of the block."""
        drawn = {}
        segments = scenario.segment_names
        growth = dict(GROWTH_RATES)
        for key, dist in scenario.uncertainty.items():
            low, high = key_bounds(key, segments)
            if key in growth:  # levers and tiers scale growth: keep the scaled rate within the engine's cap
                _, most = rate_multiplier_range(
                    scenario.program.levers, segments, scenario.horizon_months, key, growth[key], scenario.program.tiers
                )
                high = min(high, MAX_ANNUAL_GROWTH / most) if most > 0 else high
            u = streams.uniform(np.empty((replications, 1), np.float64), 0, Purpose.PARAMETERS, lane(key))[:, 0]
            drawn[key] = dist.draw(u, low, high)
        return cls(scenario, drawn, replications)

    @property
    def uncertain(self) -> bool:
        return bool(self.drawn)

    def value(self, key: str) -> float | np.ndarray:
        """A scalar key: its float, or ``(R, 1)`` values when uncertain (broadcast over segments)."""
        if key in self.drawn:
            return self.drawn[key][:, None]
        if key not in self._base:
            self._base[key] = float(self.scenario.get(key))
        return self._base[key]

    def per_replication(self, key: str) -> float | np.ndarray:
        """A scalar key: its float, or ``(R,)`` values when uncertain."""
        return self.drawn[key] if key in self.drawn else self.value(key)

    def vector(self, key: str) -> np.ndarray:
        """A scalar key as ``(R,)`` values, uncertain or not."""
        return np.broadcast_to(np.asarray(self.per_replication(key), dtype=np.float64), (self.R,))

    def segment(self, field: str) -> np.ndarray:
        """A segment field for every segment: ``(G,)``, or ``(R, G)`` when any segment's value is uncertain."""
        return self._segments[field]

    @cached_property
    def _segments(self) -> dict[str, np.ndarray]:
        out = {}
        for field in ("revenue_median", "revenue_sigma", "activation_multiplier", "share"):
            base = np.array([getattr(s, field) for s in self.scenario.market.segments.values()], dtype=np.float64)
            keys = [f"market.segments.{name}.{field}" for name in self.scenario.segment_names]
            if any(k in self.drawn for k in keys):
                table = np.repeat(base[None, :], self.R, axis=0)
                for g, k in enumerate(keys):
                    if k in self.drawn:
                        table[:, g] = self.drawn[k]
                out[field] = table
            else:
                out[field] = base
        return out
