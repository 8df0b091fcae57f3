"""Random streams: one per replication, keyed by its index, split by month and purpose.

Replication ``r`` of seed ``s`` draws from ``SeedSequence(s, spawn_key=(r,))``,
which is ``SeedSequence(s).spawn(r + 1)[r]``: its numbers never depend on how
many replications run beside it, on which worker, or in which chunk.

The generator is Philox, a counter-based generator: the replication's seed
sequence gives its key, and every (month, purpose) pair is its own block of
counters (``[0, 0, month, purpose]``), so blocks are independent by
construction and any block is reached at once. (Jumping one PCG64 stream by
multiples of 2**64 instead gives blocks whose states share their low bits,
and their draws are measurably correlated.) Company ``j`` always takes the
``j``-th number of a block, so two scenarios that differ only in, say, how
many prospects are nurtured give today's partners exactly the same draws:
common random numbers at the level of each company and month.
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
    PARAMETERS = 5  # month 0: one uniform per uncertain key (its lane), the replication's parameter values


def replication_seed(seed: int, replication: int) -> np.random.SeedSequence:
    """The seed sequence of one replication: child ``replication`` of ``SeedSequence(seed)``."""
    return np.random.SeedSequence(seed, spawn_key=(int(replication),))


class ReplicationStreams:
    """Random numbers for a block of replications, filled row by row."""

    def __init__(self, seed: int, replications: Sequence[int]) -> None:
        keys = [replication_seed(seed, r).generate_state(2, np.uint64) for r in replications]
        self._bitgens = [np.random.Philox(key=key) for key in keys]
        self._states = [bg.state for bg in self._bitgens]
        for state in self._states:
            state["buffer_pos"] = 4  # every block starts fresh: nothing buffered from the last one
            state["has_uint32"] = 0
        self._gens = [np.random.Generator(bg) for bg in self._bitgens]

    def _at(self, i: int, month: int, purpose: Purpose, lane: int = 0) -> np.random.Generator:
        state = self._states[i]
        counter = state["state"]["counter"]  # reused in place: this runs for every replication and month
        counter[0] = 0
        counter[1] = lane  # a block of its own per lane (the draws of one block only advance counter[0])
        counter[2] = month
        counter[3] = int(purpose)
        self._bitgens[i].state = state
        return self._gens[i]

    def uniform(self, out: np.ndarray, month: int, purpose: Purpose = Purpose.TRANSITION, lane: int = 0) -> np.ndarray:
        """Fill ``out`` (replications x companies, float32) with U[0, 1) draws."""
        for i in range(out.shape[0]):
            self._at(i, month, purpose, lane).random(out=out[i], dtype=out.dtype)
        return out

    def normal(self, out: np.ndarray, month: int, purpose: Purpose = Purpose.GROWTH) -> np.ndarray:
        """Fill ``out`` (replications x companies) with standard normal draws."""
        for i in range(out.shape[0]):
            self._at(i, month, purpose).standard_normal(out=out[i], dtype=out.dtype)
        return out
