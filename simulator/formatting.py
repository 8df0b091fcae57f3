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

For sentences and tables of assumptions: :func:`key_words` writes a scenario key in words ("prospects
nurtured a month", never ``recruitment.nurture_per_month``), :func:`lever_words` and :func:`describe_lever`
a lever, :func:`value_text` a scenario value (never ``5e+07``), :func:`signed_share` a growth rate
(``+3.8%``), :func:`decision_value` a sized decision, :func:`shorten` text of bounded length.
"""

from __future__ import annotations

import math
import re
from typing import Any

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


def signed_share(x: float | None, decimals: int = 1) -> str:
    """A growth rate or a relative change with its sign: ``+12.3%``, ``-4.0%``, ``0.0%`` (never ``-0.0%``)."""
    text = share(x, decimals)
    return text if text == MISSING or text.startswith("-") or float(text[:-1]) == 0 else f"+{text}"


def shorten(text: str, limit: int = 80) -> str:
    """``text`` on one line, at most ``limit`` characters: longer text is cut at a word and ends with ``…``."""
    one_line = " ".join(str(text).split())
    if len(one_line) <= limit:
        return one_line
    cut = one_line[: max(limit - 1, 1)]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:.") + "…"


#: Scenario keys in the planner's words, for sentences ("prospects nurtured a month", not
#: ``recruitment.nurture_per_month``). Keys not listed are written from their parts (:func:`key_words`).
KEY_WORDS: dict[str, str] = {
    "name": "name",
    "description": "description",
    "currency": "currency",
    "horizon_months": "months of the plan",
    "market.prospects": "prospects in the market",
    "market.vendor_signings_per_year": "vendors a prospect signs a year",
    "channel.signed": "partners signed today (no deal yet)",
    "channel.active": "active partners today",
    "channel.collaborating": "collaborating partners today",
    "channel.dormant": "dormant partners today",
    "recruitment.nurture_per_month": "prospects nurtured a month",
    "recruitment.win_share": "win share against other vendors",
    "recruitment.nurture_months": "months of nurturing",
    "recruitment.cooloff_months": "cool-off months after nurturing",
    "recruitment.scoring_accuracy": "accuracy of prospect scoring",
    "activation.monthly_probability": "chance a month of a first deal",
    "activation.window_months": "months to a first deal (activation window)",
    "churn.dormancy_probability": "chance a month of going dormant",
    "churn.exit_probability": "chance a month of leaving",
    "churn.reactivation_probability": "chance a month a dormant partner returns",
    "churn.dormant_exit_probability": "chance a month a dormant partner leaves",
    "collaboration.adoption_probability": "chance a month of joining collaboration",
    "collaboration.peer_effect": "peer effect on collaboration",
    "collaboration.lapse_probability": "chance a month of lapsing from collaboration",
    "growth.active": "yearly growth of active partners",
    "growth.collaborating": "yearly growth of collaborating partners",
    "growth.volatility": "volatility of partner growth",
    "revenue.uplift": "revenue uplift",
    "economics.gross_margin": "gross margin",
    "economics.nurture_cost_per_month": "cost of nurturing a prospect a month",
    "economics.onboarding_cost": "cost of onboarding a partner",
    "plan.revenue_target": "revenue target",
    "plan.confidence": "confidence the plan asks for",
    "program.levers": "program levers",
}
_SEGMENT_WORDS = {
    "share": "share of prospects",
    "revenue_median": "median monthly revenue",
    "revenue_sigma": "spread of revenue (lognormal sigma)",
    "activation_multiplier": "activation multiplier",
}
_LEVER_FIELD_WORDS = {
    "intensity": "intensity",
    "months": "months",
    "segments": "segments",
    "applies_to": "targets",
    "cost.per_partner_month": "cost a partner a month",
    "cost.fixed_per_month": "fixed cost a month",
    "cost.per_signing": "cost a signing",
    "cost.revenue_share": "share of revenue paid",
}


def lever_words(name: str) -> str:
    """A lever's name in words: ``presales_support`` -> ``presales support``."""
    return str(name).replace("_", " ")


def key_words(key: str) -> str:
    """A scenario key in words for a sentence.

    ``recruitment.nurture_per_month`` -> ``prospects nurtured a month``;
    ``market.segments.msp.share`` -> ``msp: share of prospects``;
    ``channel.segment_shares.msp`` -> ``msp: share of today's partners``;
    ``lever:presales_support`` -> ``the presales support lever``;
    ``lever:training.intensity`` and ``program.levers[1].intensity`` -> ``training lever: intensity``
    (the second by position); a rate named in a lever's effects by its own words.
    """
    key = str(key)
    if key.startswith("lever:"):
        name, _, field = key[len("lever:") :].partition(".")
        if not field:
            return f"the {lever_words(name)} lever"
        if field.startswith("effects."):
            return f"{lever_words(name)} lever: effect on {key_words(field[len('effects.') :])}"
        return f"{lever_words(name)} lever: {_LEVER_FIELD_WORDS.get(field, field.replace('_', ' ').replace('.', ' '))}"
    if key in KEY_WORDS:
        return KEY_WORDS[key]
    parts = key.split(".")
    if len(parts) == 4 and parts[:2] == ["market", "segments"]:
        return f"{parts[2]}: {_SEGMENT_WORDS.get(parts[3], parts[3].replace('_', ' '))}"
    if len(parts) == 3 and parts[:2] == ["channel", "segment_shares"]:
        return f"{parts[2]}: share of today's partners"
    lever = re.match(r"^program\.levers\[(\d+)\]\.?(.*)$", key)
    if lever:
        number, field = int(lever.group(1)) + 1, lever.group(2)
        return f"lever {number}: {_LEVER_FIELD_WORDS.get(field, field.replace('_', ' ').replace('.', ' '))}"
    return " ".join(p.replace("_", " ") for p in parts)


def value_text(value: object) -> str:
    """A scenario value as written in a table of assumptions: ``50,000,000``, ``0.75``, ``[1, 12]``, ``none``.

    Numbers are never in exponent notation (``5e+07``); floats keep up to six significant figures.
    """
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if not math.isfinite(value):
            return MISSING
        if value == 0:
            return "0"
        if value.is_integer() and abs(value) < 1e15:
            return f"{int(value):,}"
        decimals = max(5 - math.floor(math.log10(abs(value))), 0)
        text = _trim(f"{value:,.{decimals}f}")
        return "0" if float(text.replace(",", "")) == 0 else text
    if isinstance(value, list | tuple):
        return "[" + ", ".join(value_text(v) for v in value) + "]"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {value_text(v)}" for k, v in value.items()) or "{}"
    return str(value)


def number(x: float | None, digits: int = 3) -> str:
    """A plain number to ``digits`` significant figures with thousands separators: ``0.143``, ``1,250``, ``-2.5``."""
    if not _defined(x):
        return MISSING
    x = float(x)
    if abs(x) >= 10**digits:
        text = f"{round(x):,.0f}"
        return "0" if text in ("0", "-0") else text
    text = _significant(abs(x), digits)
    return text if text == "0" or x >= 0 else f"-{text}"


def decision_value(key: str, value: float | None, integer: bool = False) -> str:
    """A value of a sized decision: whole numbers for counts (``64``), probabilities as % (``14.3%``),
    money keys in k / m (``12k``), anything else to three significant figures (``1.35``)."""
    if not _defined(value):
        return MISSING
    if integer:
        return f"{round(float(value)):,}"
    if key.endswith("_probability") or key.endswith(("win_share", "gross_margin", "confidence")):
        return share(value)
    if key.endswith(("_cost", "cost_per_month", "revenue_target", "revenue_median")):
        return money(value)
    return number(value)


def describe_lever(lever: Any, currency: str = "") -> str:
    """A lever in words: what it changes, for whom, when and at what intensity."""
    parts = []
    effects = ", ".join(f"{signed_share(lever.intensity * x, 0)} {key_words(k)}" for k, x in lever.effects.items())
    parts.append(effects or "no effect on rates")
    targets = f"for {', '.join(s.label for s in lever.states())} partners"
    if lever.segments:
        targets += f" in {', '.join(lever.segments)} only"
    parts.append(targets)
    if lever.months is not None:
        parts.append(f"months {lever.months[0]}-{lever.months[1]}")
    if lever.intensity != 1.0:
        parts.append(f"intensity {value_text(lever.intensity)}")
    cost = lever_cost(lever, currency)
    if cost != "-":
        parts.append(f"costs {cost}")
    return "; ".join(parts)


def lever_cost(lever: Any, currency: str = "") -> str:
    """What a lever costs as its terms: ``450 a partner a month; 400 a signing``; ``-`` when free."""
    c = lever.cost
    terms = [
        (c.per_partner_month, "a partner a month"),
        (c.fixed_per_month, "a month, fixed"),
        (c.per_signing, "a signing"),
    ]
    parts = [f"{money(v, currency)} {what}" for v, what in terms if v]
    if c.revenue_share:
        parts.append(f"{share(c.revenue_share)} of the revenue of the partners it targets")
    return "; ".join(parts) or "-"
