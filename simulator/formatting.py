"""How numbers and text are written for people: the CLI, the report, charts and the dashboard share these rules.

* money to three significant figures with k / m / bn (``776k``, ``1.25m``, ``30.8m``, ``2.1bn``), whole
  units below a thousand;
* shares and probabilities as percentages with one decimal (``84.0%``); a change of a share or a
  probability in percentage points (``+14.5 points``);
* indices (Gini, HHI) as plain numbers (``0.81``, ``0.0123``);
* counts as whole numbers (``64``), except means below 10, which keep one decimal (``4.3``);
* never a negative zero (``-0.0%``, ``-0``): what rounds to zero is written without a sign;
* undefined values (None, NaN, infinite) as ``-``.

:func:`figure` and :func:`change` write any figure of the vocabulary (:mod:`simulator.vocabulary`) by its
kind, so a table never chooses a format by the name of a column.
"""

from __future__ import annotations

import math
import re

from . import vocabulary

# C0/C1 controls (escape sequences, bells) and the Unicode bidirectional controls, which reorder the
# rest of a printed line (U+202E shows "evil.exe" as "exe.live"): each is shown escaped instead.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_UNITS = ((1e9, "bn"), (1e6, "m"), (1e3, "k"))
MISSING = "-"


def _defined(x: float | None) -> bool:
    return x is not None and not (isinstance(x, float) and not math.isfinite(x)) and math.isfinite(float(x))


def _trim(text: str) -> str:
    """``50.0`` -> ``50``, ``1.20`` -> ``1.2``; leaves whole numbers alone."""
    return text.rstrip("0").rstrip(".") if "." in text else text


def _significant(x: float, digits: int = 3) -> str:
    """``x >= 0`` to ``digits`` significant figures, without trailing zeros after the point."""
    if x == 0:
        return "0"
    decimals = max(digits - 1 - math.floor(math.log10(x)), 0)
    text = f"{x:,.{decimals}f}"
    # Rounding can carry into a new digit (999.6 -> 1,000): re-round once at the new magnitude.
    if decimals and len(text.replace(",", "").replace(".", "").lstrip("0")) > digits:
        text = f"{round(x, decimals - 1):,.{max(decimals - 1, 0)}f}"
    return _trim(text)


def money(x: float | None, currency: str = "") -> str:
    """An amount to three significant figures in k / m / bn: ``776k``, ``1.25m``, ``-2.1bn USD``; ``-`` if undefined."""
    if not _defined(x):
        return MISSING
    x = float(x)
    unit = f" {currency}" if currency else ""
    size = abs(x)
    for limit, suffix in _UNITS:
        # 999,600 rounds to 1.00m, not 1,000k: choose the unit after rounding.
        if float(f"{size:.3g}") >= limit:
            text = _significant(size / limit) + suffix
            break
    else:
        text = f"{round(size):,.0f}"
    if text.strip("0.,kmbn") == "":
        return f"0{unit}"
    return f"{'-' if x < 0 else ''}{text}{unit}"


def signed_money(x: float | None, currency: str = "") -> str:
    """A change of money with its sign: ``+1.2m``, ``-830k``, ``0``."""
    text = money(x, currency)
    return text if text in (MISSING,) or text.startswith(("-", "0")) else f"+{text}"


def share(x: float | None, decimals: int = 1) -> str:
    """A share or probability as a percentage: ``84.0%``; ``-`` if undefined; never ``-0.0%``."""
    if not _defined(x):
        return MISSING
    text = f"{100 * float(x):.{decimals}f}"
    if float(text) == 0:
        text = text.lstrip("-")
    return f"{text}%"


def points(dx: float | None, decimals: int = 1) -> str:
    """A change of a share or probability in percentage points: ``+14.5 points``, ``0.0 points``."""
    if not _defined(dx):
        return MISSING
    text = f"{100 * float(dx):+.{decimals}f}"
    if float(text) == 0:
        text = text.lstrip("+-")
    return f"{text} points"


def index(x: float | None) -> str:
    """A concentration index (Gini, HHI): two decimals from 0.1 up, three significant figures below."""
    if not _defined(x):
        return MISSING
    x = float(x)
    if abs(x) >= 0.1:
        text = f"{x:.2f}"
    elif x == 0:
        text = "0"
    else:
        text = _trim(f"{x:.{2 - math.floor(math.log10(abs(x)))}f}")
    return text.lstrip("-") if float(text) == 0 else text


def signed_index(dx: float | None) -> str:
    text = index(dx)
    return text if text == MISSING or text.startswith("-") or float(text) == 0 else f"+{text}"


def quantity(x: float | None) -> str:
    """A count or a mean count: whole numbers (``64``, ``2,200``), one decimal for means below 10 (``4.3``)."""
    if not _defined(x):
        return MISSING
    x = float(x)
    text = f"{x:.1f}" if abs(x) < 10 and abs(x - round(x)) > 1e-09 else f"{round(x):,.0f}"
    return "0" if float(text.replace(",", "")) == 0 else text


def signed_quantity(dx: float | None) -> str:
    text = quantity(dx)
    return text if text == MISSING or text.startswith("-") or text == "0" else f"+{text}"


def figure(name: str, value: float | None, currency: str = "") -> str:
    """A figure of the vocabulary written by its kind (money, share, index, count, probability)."""
    kind = vocabulary.kind(name)
    if kind == "money":
        return money(value, currency)
    if kind in ("share", "probability"):
        return share(value)
    if kind == "index":
        return index(value)
    return quantity(value)


def change(name: str, dx: float | None, currency: str = "") -> str:
    """A change (B - A) of a figure, signed, by its kind: ``+1.2m``, ``+14.5 points``, ``-0.03``, ``+12``."""
    kind = vocabulary.kind(name)
    if kind == "money":
        return signed_money(dx, currency)
    if kind in ("share", "probability"):
        return points(dx)
    if kind == "index":
        return signed_index(dx)
    return signed_quantity(dx)


def figure_label(name: str, currency: str = "") -> str:
    """The figure's label, with the currency for money: ``Revenue, last 12 months (USD)``."""
    text = vocabulary.label(name)
    return f"{text} ({currency})" if currency and vocabulary.kind(name) == "money" else text


def printable(text: str) -> str:
    """Text safe for a terminal: control characters (escape sequences, bells) and bidirectional controls
    shown escaped, as ``\\x1b`` and ``\\u202e``."""
    return _CONTROL.sub(_escaped, text)


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def plural(n: int, noun: str) -> str:
    """``n`` with its noun, singular or plural: '1 lever', '3 levers', '2,200 companies'."""
    if n == 1:
        return f"1 {noun}"
    word = noun[:-1] + "ies" if noun.endswith("y") and noun[-2:-1] not in "aeiou" else noun + "s"
    return f"{n:,} {word}"
