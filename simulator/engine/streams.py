"""Random numbers keyed by (seed, replication, month, purpose, company): a counter-based generator.

Replication ``r`` of seed ``s`` has the 64-bit key ``mix(root XOR mix(r))``, where ``root`` is the first
word of ``SeedSequence(s)``'s state (which hashes the seed): distinct replications have distinct keys
and their numbers never depend on how many replications run beside it, on which worker, thread or
chunk. Every number is a pure function of its coordinates,

    bits = mix(key XOR mix(counter)),   counter = purpose << 43 | month << 32 | index,

with ``mix`` the SplitMix64 finaliser (a bijection of 64-bit words with full avalanche), so any number
is reached at once and is the same whichever kernel computes it, in whatever order. ``index`` is the
company's column (its place in the fit-score order) or, for parameter draws, the key's lane. Company
``j`` always takes number ``j`` of a (month, purpose) block, so two scenarios that differ only in,
say, how many prospects are nurtured give today's partners exactly the same draws: common random
numbers at the level of each company and month.

Uniforms are the top 53 bits over ``2**53`` (``[0, 1)``); normals are the inverse normal CDF of
a uniform in ``(0, 1)`` by Acklam's rational approximation (relative error below 1.2e-9), so a draw
costs one hash and a few multiplications. The arithmetic functions below run unchanged on numpy
arrays (the reference kernel) and, compiled by numba, on scalars (the compiled kernel): one source
for both, bit for bit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from enum import IntEnum

import numpy as np

MAX_INDEX = 1 << 32  # company columns and lanes fit in the counter's low 32 bits
MAX_MONTH = 1 << 11  # horizons are at most 600 months

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
_S32, _S43 = np.uint64(32), np.uint64(43)
_TO_UNIT = 2.0**-53

# Acklam's inverse normal CDF: central region |p - 1/2| <= 1/2 - P_LOW, tails beyond.
_A = (-3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02, 1.383577518672690e02, -3.066479806614716e01)
_A5 = 2.506628277459239e00
_B = (-5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02, 6.680131188771972e01, -1.328068155288572e01)
_C = (
    -7.784894002430293e-03,
    -3.223964580411365e-01,
    -2.400758277161838e00,
    -2.549732539343734e00,
    4.374664141464968e00,
)
_C5 = 2.938163982698783e00
_D = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00, 3.754408661907416e00)
P_LOW = 0.02425


class Purpose(IntEnum):
    """What a block of random numbers is for."""

    CHANNEL_POTENTIAL = 0  # month 0: revenue potential of today's partners
    PROSPECT_POTENTIAL = 1  # month 0: revenue potential of prospects
    FIT_NOISE = 2  # month 0: scoring error of the fit score
    TRANSITION = 3  # months 1..H: one uniform per company for its move
    GROWTH = 4  # months 1..H: one normal per earning partner for run-rate noise
    PARAMETERS = 5  # month 0: one uniform per uncertain key (its lane), the replication's parameter values


# -- one source for numpy arrays and numba scalars (arithmetic only, no branches) ------------------


def mix(x):  # noqa: ANN001, ANN201 - a numpy uint64 array or, compiled, a uint64 scalar
    """SplitMix64's finaliser: a bijection of 64-bit words in which every input bit flips every output bit."""
    x = (x ^ (x >> _S30)) * _M1
    x = (x ^ (x >> _S27)) * _M2
    return x ^ (x >> _S31)


def counter(purpose, month, index):  # noqa: ANN001, ANN201
    """The 64-bit counter of a number: purpose, month and index in disjoint bit fields."""
    return (np.uint64(purpose) << _S43) | (np.uint64(month) << _S32) | index


def unit(bits):  # noqa: ANN001, ANN201
    """Top 53 bits as a float in [0, 1)."""
    return (bits >> _S11) * _TO_UNIT


def open_unit(bits):  # noqa: ANN001, ANN201
    """Top 53 bits as a float in (0, 1): the centre of the 53-bit cell."""
    return ((bits >> _S11) + 0.5) * _TO_UNIT


def central(q):  # noqa: ANN001, ANN201
    """Inverse normal CDF at ``1/2 + q`` for ``|q| <= 1/2 - P_LOW``."""
    r = q * q
    num = (((((_A[0] * r + _A[1]) * r + _A[2]) * r + _A[3]) * r + _A[4]) * r + _A5) * q
    den = ((((_B[0] * r + _B[1]) * r + _B[2]) * r + _B[3]) * r + _B[4]) * r + 1.0
    return num / den


def tail(t):  # noqa: ANN001, ANN201
    """Inverse normal CDF at ``p < P_LOW`` from ``t = sqrt(-2 ln p)`` (negative)."""
    num = ((((_C[0] * t + _C[1]) * t + _C[2]) * t + _C[3]) * t + _C[4]) * t + _C5
    den = (((_D[0] * t + _D[1]) * t + _D[2]) * t + _D[3]) * t + 1.0
    return num / den


def scalar_normal(p: float) -> float:
    """Inverse normal CDF of one ``p`` in (0, 1) (compiled by the kernel; the numpy twin is :func:`normals`)."""
    if p < P_LOW:
        return tail(math.sqrt(-2.0 * math.log(p)))
    if p > 1.0 - P_LOW:
        return -tail(math.sqrt(-2.0 * math.log(1.0 - p)))
    return central(p - 0.5)


# -- numpy --------------------------------------------------------------------------------------


def replication_keys(seed: int, replications: Sequence[int]) -> np.ndarray:
    """Keys of a block of replications, ``(R,)`` uint64: ``mix(root XOR mix(r))``."""
    root = np.random.SeedSequence(seed).generate_state(1, np.uint64)[0]
    index = np.asarray(replications, dtype=np.uint64).reshape(-1)
    return mix(root ^ mix(index))


def block_bits(keys: np.ndarray, month: int, purpose: int, n: int, first: int = 0) -> np.ndarray:
    """Raw 64-bit numbers ``(R, n)`` of indices ``first..first+n-1`` of a (month, purpose) block."""
    if not 0 <= month < MAX_MONTH:
        raise ValueError(f"month {month} is outside the generator's 0..{MAX_MONTH - 1}")
    if first < 0 or first + n > MAX_INDEX:
        raise ValueError(f"indices {first}..{first + n - 1} are outside the generator's 0..{MAX_INDEX - 1}")
    index = np.arange(first, first + n, dtype=np.uint64)
    return mix(keys[:, None] ^ mix(counter(purpose, month, index))[None, :])


def normals(p: np.ndarray) -> np.ndarray:
    """Inverse normal CDF of ``p`` in (0, 1), element by element as :func:`scalar_normal` computes it."""
    out = central(p - 0.5)
    low = p < P_LOW
    if low.any():
        out[low] = tail(np.sqrt(-2.0 * np.log(p[low])))
    high = p > 1.0 - P_LOW
    if high.any():
        out[high] = -tail(np.sqrt(-2.0 * np.log(1.0 - p[high])))
    return out


class ReplicationStreams:
    """Random numbers for a block of replications, filled row by row."""

    def __init__(self, seed: int, replications: Sequence[int]) -> None:
        self.keys = replication_keys(seed, replications)

    def uniform(self, out: np.ndarray, month: int, purpose: Purpose = Purpose.TRANSITION, lane: int = 0) -> np.ndarray:
        """Fill ``out`` (replications x companies) with U[0, 1) draws; column ``j`` takes index ``lane + j``."""
        out[...] = unit(block_bits(self.keys, month, purpose, out.shape[1], lane))
        return out

    def normal(self, out: np.ndarray, month: int, purpose: Purpose = Purpose.GROWTH) -> np.ndarray:
        """Fill ``out`` (replications x companies) with standard normal draws; column ``j`` takes index ``j``."""
        out[...] = normals(open_unit(block_bits(self.keys, month, purpose, out.shape[1])))
        return out
