"""Random streams: one per replication, keyed by its index, split by month and purpose.

Replication ``r`` of seed ``s`` draws from ``SeedSequence(s, spawn_key=(r,))``,
which is ``SeedSequence(s).spawn(r + 1)[r]``: its numbers never depend on how
many replications run beside it, on which worker, or in which chunk.

Within a replication every (month, purpose) pair starts at its own position
of the PCG64 stream (jumped ahead by ``advance``), and company ``j`` always
takes the ``j``-th number drawn there. So two scenarios that differ only in,
say, how many prospects are nurtured give today's partners exactly the same
draws: common random numbers at the level of each company and month.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import IntEnum

import numpy as np


class Purpose(IntEnum):
    """What a block of random numbers is for (one stream position each)."""

    CHANNEL_POTENTIAL = 0  # month 0: revenue potential of today's partners
    PROSPECT_POTENTIAL = 1  # month 0: revenue potential of prospects
    FIT_NOISE = 2  # month 0: scoring error of the fit score
    TRANSITION = 3  # months 1..H: one uniform per company for its move
    GROWTH = 4  # months 1..H: one normal per company for run-rate noise


_SPACING = 1 << 64  # draws between stream positions: far more than any month needs


def replication_seed(seed: int, replication: int) -> np.random.SeedSequence:
    """The seed sequence of one replication: child ``replication`` of ``SeedSequence(seed)``."""
    return np.random.SeedSequence(seed, spawn_key=(int(replication),))


class ReplicationStreams:
    """Random numbers for a block of replications, filled row by row."""

    def __init__(self, seed: int, replications: Sequence[int]) -> None:
        self._bitgens = [np.random.PCG64(replication_seed(seed, r)) for r in replications]
        self._base = [bg.state for bg in self._bitgens]
        self._gens = [np.random.Generator(bg) for bg in self._bitgens]

    def _at(self, i: int, month: int, purpose: Purpose) -> np.random.Generator:
        bg = self._bitgens[i]
        bg.state = self._base[i]
        bg.advance((month * len(Purpose) + int(purpose)) * _SPACING)
        return self._gens[i]

    def uniform(self, out: np.ndarray, month: int, purpose: Purpose = Purpose.TRANSITION) -> np.ndarray:
        """Fill ``out`` (replications x companies, float32) with U[0, 1) draws."""
        for i in range(out.shape[0]):
            self._at(i, month, purpose).random(out=out[i], dtype=out.dtype)
        return out

    def normal(self, out: np.ndarray, month: int, purpose: Purpose = Purpose.GROWTH) -> np.ndarray:
        """Fill ``out`` (replications x companies) with standard normal draws."""
        for i in range(out.shape[0]):
            self._at(i, month, purpose).standard_normal(out=out[i], dtype=out.dtype)
        return out
