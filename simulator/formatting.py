"""How amounts are written for people: tables, messages and reports share one style."""

from __future__ import annotations

import math
import re

# C0/C1 controls (escape sequences, bells) and the Unicode bidirectional controls, which reorder the
# rest of a printed line (U+202E shows "evil.exe" as "exe.live"): each is shown escaped instead.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def money(x: float | None, currency: str = "") -> str:
    """An amount in k / m / bn: ``1.25m``, ``830.00k``, ``-2.10bn USD``; ``-`` when undefined."""
    if x is None or not math.isfinite(x):
        return "-"
    sign = "-" if x < 0 else ""
    unit = f" {currency}" if currency else ""
    x = abs(x)
    for limit, suffix in ((1e9, "bn"), (1e6, "m"), (1e3, "k")):
        if x >= limit:
            return f"{sign}{x / limit:,.2f}{suffix}{unit}"
    return f"{sign}{x:,.0f}{unit}"


def printable(text: str) -> str:
    """Text safe for a terminal: control characters (escape sequences, bells) and bidirectional controls
    shown escaped, as ``\\x1b`` and ``\\u202e``."""
    return _CONTROL.sub(_escaped, text)


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def count(n: int, noun: str) -> str:
    """``n`` with its noun, singular or plural: '1 lever', '3 levers', '2,200 companies'."""
    if n == 1:
        return f"1 {noun}"
    plural = noun[:-1] + "ies" if noun.endswith("y") and noun[-2:-1] not in "aeiou" else noun + "s"
    return f"{n:,} {plural}"
