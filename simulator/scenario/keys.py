"""Scenario keys in their three spellings, converted in one place.

* dotted, as written on the command line and shown in messages: ``program.levers[0].intensity``
  (``program.levers.0.intensity`` is read too);
* keyword, as a Python keyword argument (scikit-learn's nested-parameter style):
  ``program__levers__0__intensity``;
* parts, the path into the scenario data: ``["program", "levers", "0", "intensity"]``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..errors import ScenarioError

_PART = re.compile(r"\.|\[|\]|__")


def key_parts(key: str) -> list[str]:
    """The path of a key in any spelling: ``program.levers[0].intensity`` -> ``[program, levers, 0, intensity]``."""
    parts = [p for p in _PART.split(str(key).strip()) if p != ""]
    if not parts:
        raise ScenarioError(f"{key!r} is not a scenario key; write it like activation.window_months")
    return parts


def keyword_key(key: str | Sequence[str]) -> str:
    """The keyword spelling: ``program.levers[0].intensity`` -> ``program__levers__0__intensity``."""
    return "__".join(key_parts(key) if isinstance(key, str) else list(key))


def dotted_key(key: str | Sequence[str]) -> str:
    """The dotted spelling shown to people, list items in brackets: ``program.levers[0].intensity``."""
    out = ""
    for part in key_parts(key) if isinstance(key, str) else [str(p) for p in key]:
        if part.isdigit():
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out
