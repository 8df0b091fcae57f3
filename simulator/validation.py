"""Arguments of the public API, validated in one place (scikit-learn's ``validate_params`` style).

A public function declares the constraints of its arguments once::

    @validate_arguments(replications=REPLICATIONS, seed=SEED)
    def simulate(scenario, replications=100, seed=0): ...

and every bad value is refused before any work with one line naming the argument, what is allowed and
what was given: ``replications must be a whole number 1 to 100,000,000 or a list of distinct
whole-number indices >= 0; got '5' (a string)``. Counts accept Python and numpy integers, never
booleans, floats or strings.
"""

from __future__ import annotations

import functools
import inspect
import math
import reprlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from .errors import ChannelError

F = TypeVar("F", bound=Callable[..., Any])
MAX_REPLICATIONS = 100_000_000  # a count is checked before its index array is built
_SHOW = reprlib.Repr()
_SHOW.maxstring = _SHOW.maxother = 40
_SHOW.maxlist = _SHOW.maxtuple = 6


def _kind(value: Any) -> str:
    """What a value is, in words, for messages."""
    if isinstance(value, bool | np.bool_):
        return "a boolean"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, float | np.floating):
        return "a float"
    if isinstance(value, int | np.integer):
        return "a whole number"
    if isinstance(value, list | tuple | range | np.ndarray):
        return "a list"
    if value is None:
        return "None"
    return f"a {type(value).__name__}"


def refusal(name: str, allowed: str, value: Any) -> ChannelError:
    """The one-line error for argument ``name``: what is allowed and what was given."""
    return ChannelError(f"{name} must be {allowed}; got {_SHOW.repr(value)} ({_kind(value)})")


def _is_whole(value: Any) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)


def _is_real(value: Any) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool | np.bool_)


@dataclass(frozen=True)
class Whole:
    """A whole number in ``[low, high]`` (``high=None``: no upper limit); ``optional`` admits None."""

    low: int = 0
    high: int | None = None
    optional: bool = False

    def describe(self) -> str:
        text = (
            f"a whole number >= {self.low:,}" if self.high is None else f"a whole number {self.low:,} to {self.high:,}"
        )
        return text + (" (or None)" if self.optional else "")

    def __call__(self, name: str, value: Any) -> int | None:
        if value is None and self.optional:
            return None
        if not _is_whole(value) or value < self.low or (self.high is not None and value > self.high):
            raise refusal(name, self.describe(), value)
        return int(value)


@dataclass(frozen=True)
class Real:
    """A finite number between ``low`` and ``high``, each end open or closed; ``optional`` admits None."""

    low: float = -math.inf
    high: float = math.inf
    low_open: bool = False
    high_open: bool = False
    optional: bool = False

    def describe(self) -> str:
        if self.low > -math.inf and self.high < math.inf and self.low_open == self.high_open:
            ends = "exclusive" if self.low_open else "inclusive"
            return f"a number between {self.low:g} and {self.high:g} ({ends})" + (" or None" if self.optional else "")
        parts = []
        if self.low > -math.inf:
            parts.append(f"{'>' if self.low_open else '>='} {self.low:g}")
        if self.high < math.inf:
            parts.append(f"{'<' if self.high_open else '<='} {self.high:g}")
        text = "a finite number" + (f" {' and '.join(parts)}" if parts else "")
        return text + (" (or None)" if self.optional else "")

    def __call__(self, name: str, value: Any) -> float | None:
        if value is None and self.optional:
            return None
        if not _is_real(value) or not math.isfinite(float(value)):
            raise refusal(name, self.describe(), value)
        x = float(value)
        below = x <= self.low if self.low_open else x < self.low
        above = x >= self.high if self.high_open else x > self.high
        if below or above:
            raise refusal(name, self.describe(), value)
        return x


@dataclass(frozen=True)
class ReplicationSet:
    """A count of replications (``0..n-1``) or an explicit list of distinct replication indices."""

    def describe(self) -> str:
        return f"a whole number 1 to {MAX_REPLICATIONS:,} or a list of distinct whole-number indices >= 0"

    def __call__(self, name: str, value: Any) -> np.ndarray:
        if _is_whole(value):
            if value < 1 or value > MAX_REPLICATIONS:
                raise refusal(name, self.describe(), value)
            return np.arange(int(value), dtype=np.int64)
        if isinstance(value, str | bytes | bool | np.bool_) or not isinstance(value, Iterable):
            raise refusal(name, self.describe(), value)
        items = list(value)
        if not items or not all(_is_whole(r) and r >= 0 for r in items):
            raise refusal(name, self.describe(), value)
        reps = np.asarray([int(r) for r in items], dtype=np.int64)
        if len(np.unique(reps)) != reps.size:
            raise refusal(name, self.describe(), value)
        return reps


@dataclass(frozen=True)
class OneOf:
    """One of a fixed set of names."""

    choices: tuple[str, ...]

    def describe(self) -> str:
        return "one of " + ", ".join(repr(c) for c in self.choices)

    def __call__(self, name: str, value: Any) -> str:
        if not isinstance(value, str) or value not in self.choices:
            raise refusal(name, self.describe(), value)
        return value


@dataclass(frozen=True)
class Flag:
    """True or False (numpy booleans too)."""

    def describe(self) -> str:
        return "True or False"

    def __call__(self, name: str, value: Any) -> bool:
        if not isinstance(value, bool | np.bool_):
            raise refusal(name, self.describe(), value)
        return bool(value)


MAX_SEED = 2**63 - 1
#: The constraints the public API shares.
REPLICATIONS = ReplicationSet()
SEED = Whole(0, MAX_SEED)
WORKERS = Whole(1, 4096, optional=True)
CONFIDENCE = Real(0.0, 1.0, low_open=True, high_open=True, optional=True)
SHARE = Real(0.0, 1.0, low_open=True, high_open=True)
POSITIVE_COUNT = Whole(1)
TOP_FRACTION = Real(0.0, 1.0, low_open=True)
FLAG = Flag()


def validate_arguments(**constraints: Callable[[str, Any], Any]) -> Callable[[F], F]:
    """Check (and normalise) the named arguments of a function before it runs.

    Each constraint is called as ``constraint(name, value)`` and returns the value to use (a numpy
    integer becomes an ``int``, a replication count an index array). Arguments left at their default
    are checked too, so a bad default cannot slip through.
    """

    def wrap(func: F) -> F:
        signature = inspect.signature(func)
        unknown = set(constraints) - set(signature.parameters)
        if unknown:
            raise TypeError(f"{func.__name__} has no argument(s) {sorted(unknown)}")

        @functools.wraps(func)
        def checked(*args: Any, **kwargs: Any) -> Any:
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            for name, constraint in constraints.items():
                bound.arguments[name] = constraint(name, bound.arguments[name])
            return func(*bound.args, **bound.kwargs)

        checked.__signature__ = signature  # type: ignore[attr-defined]
        return checked  # type: ignore[return-value]

    return wrap
