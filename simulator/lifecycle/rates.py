"""The rates a program lever may scale, and the states each one acts on (defined in :mod:`simulator.vocabulary`).

A lever effect ``x`` scales a rate by ``1 + x``. For a probability the monthly
hazard is scaled (``p -> 1 - (1 - p) ** (1 + x)``), so a probability stays in
[0, 1] whatever levers stack on it; growth rates and the revenue uplift are
scaled directly.
"""

from __future__ import annotations

from ..vocabulary import GROWTH_RATES, PHASES, RATE_INDEX, RATE_KEYS, RATES, Phase, Rate

__all__ = ["GROWTH_RATES", "PHASES", "RATES", "RATE_INDEX", "RATE_KEYS", "Phase", "Rate"]
