"""Errors a user can act on.

Every error the engine raises for bad input is a :class:`ChannelError` whose
message is one line: what is wrong, with the key and the value, and what is
allowed instead. The CLI prints that line and exits with code 2.
"""

from __future__ import annotations

import difflib
import reprlib
from collections.abc import Iterable


class _BoundedRepr(reprlib.Repr):
    def repr_int(self, x: int, level: int) -> str:
        if x.bit_length() > 128:  # never convert a huge integer to decimal (slow, and refused past 4300 digits)
            return f"<a whole number of about {int(x.bit_length() * 0.30103):,} digits>"
        return super().repr_int(x, level)


_REPR = _BoundedRepr()
_REPR.maxstring = _REPR.maxother = 60
_REPR.maxlist = _REPR.maxtuple = _REPR.maxdict = _REPR.maxset = _REPR.maxfrozenset = 6
_REPR.maxlevel = 3
_REPR.maxlong = 40  # digits of a huge integer


def bounded_repr(value: object, limit: int = 60) -> str:
    """``repr(value)`` cut to about ``limit`` characters, without ever building the whole repr first.

    A user value can be huge (a long string aliased thousands of times, an integer of thousands of
    digits): only its first items and characters are turned into text.
    """
    shown = _REPR.repr(value)
    return shown if len(shown) <= limit else shown[: limit - 3] + "..."


class ChannelError(Exception):
    """Base class of the errors a user can fix by changing their input."""

    def __init__(self, message: str) -> None:
        # One line, always: the CLI prints it as it is.
        super().__init__(" ".join(str(message).split()))


class ScenarioError(ChannelError, ValueError):
    """A scenario (file, dict or override) that cannot be used as it is."""

    _NO_VALUE = object()

    def __init__(self, message: str, key: str | None = None, value: object = _NO_VALUE) -> None:
        self.key = key
        self.problem = " ".join(str(message).split())
        if value is not ScenarioError._NO_VALUE:
            shown = bounded_repr(value)
            key = f"{key} = {shown}" if key else f"value {shown}"
        super().__init__(f"{key}: {message}" if key else message)


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """Return ``" (did you mean 'x'?)"`` for the closest choice, or ``""``."""
    choices = list(choices)
    close = difflib.get_close_matches(str(word), choices, n=1, cutoff=0.6)
    if not close:  # a shortened key ("windw"): a unique choice sharing its first letters
        stem = str(word)[:4]
        close = [c for c in choices if len(stem) >= 3 and c.startswith(stem)]
        close = close if len(close) == 1 else []
    return f" (did you mean '{close[0]}'?)" if close else ""


def one_of(choices: Iterable[str]) -> str:
    """Format allowed names for an error message."""
    return ", ".join(sorted(choices))
