"""How amounts are written for people: tables, messages and reports share one style."""

from __future__ import annotations

import math


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
