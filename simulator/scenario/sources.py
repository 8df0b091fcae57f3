"""Where each value of a scenario came from: the file and line that set it, and its comment.

:func:`~simulator.scenario.loading.load_scenario` records one :class:`Source` per dotted key it was
given (sections, leaves and list items, ``program.levers[0]``): a key written in the scenario file, in a
base file it ``extends:``, set by an override (``--set`` or a keyword), or calibrated from a partner
export (a comment starting with ``calibrated:``, as ``calibrate`` writes it). A key nobody set keeps the
engine's default; :func:`source_of` says so.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

Origin = Literal["file", "base file", "override", "calibrated", "default"]
#: A comment starting with this marker was written by the calibration from a partner export.
CALIBRATED = "calibrated:"


@dataclass(frozen=True)
class Source:
    """Where one value came from. ``file`` and ``line`` (1-based) are None for overrides and defaults."""

    origin: Origin
    file: str | None = None
    line: int | None = None
    note: str = ""

    def describe(self) -> str:
        """In words, for a table of assumptions: ``baseline.yaml line 12: Walsh 2009``."""
        where = {
            "file": f"{self.file} line {self.line}",
            "base file": f"inherited from {self.file} line {self.line}",
            "calibrated": f"calibrated ({self.file} line {self.line})",
            "override": "set by an override (--set or a keyword)",
            "default": "the engine's default (MODEL.md)",
        }[self.origin]
        return f"{where}: {self.note}" if self.note else where


DEFAULT = Source("default")


def from_comment(origin: Origin, file: str, line: int, comment: str | None) -> Source:
    """The source of a key written in ``file`` at ``line`` with ``comment`` (a calibration's comment
    makes it ``calibrated``)."""
    note = (comment or "").strip()
    if note.lower().startswith(CALIBRATED):
        return Source("calibrated", file, line, note[len(CALIBRATED) :].strip())
    return Source(origin, file, line, note)


def _parent(key: str) -> str | None:
    """``a.b[2].c`` -> ``a.b[2]`` -> ``a.b`` -> ``a`` -> None."""
    cut = max(key.rfind("."), key.rfind("["))
    return key[:cut] if cut > 0 else None


def under(key: str, prefix: str) -> bool:
    """True when ``key`` is ``prefix`` or inside it (``prefix.x``, ``prefix[0]``)."""
    return key == prefix or key.startswith((f"{prefix}.", f"{prefix}["))


def replace_under(sources: Mapping[str, Source], prefix: str, source: Source) -> dict[str, Source]:
    """``sources`` with everything at or inside ``prefix`` replaced by one entry for ``prefix``."""
    out = {k: v for k, v in sources.items() if not under(k, prefix)}
    out[prefix] = source
    return out


def source_of(sources: Mapping[str, Source], key: str) -> Source:
    """The source of a value at a dotted key: its own entry, or that of the override or list item that
    set it as a whole; keys nobody set are the engine's default. A key without a comment takes the
    comment of its section when both come from the same file and line origin (``reseller:  # VARs``)."""
    own = sources.get(key)
    node = _parent(key)
    while own is None and node is not None:
        found = sources.get(node)
        # An override or a list item (a lever written as ``- use: training``) sets everything inside it.
        if found is not None and (found.origin == "override" or node.endswith("]")):
            return found
        node = _parent(node)
    if own is None:
        return DEFAULT
    if not own.note and own.origin != "override":
        parent = _parent(key)
        above = sources.get(parent) if parent else None
        if above is not None and above.note and above.file == own.file and above.origin == own.origin:
            return Source(own.origin, own.file, own.line, above.note)
    return own


def dotted(path: list[str] | tuple[str, ...]) -> str:
    """Override path parts as a dotted key: ``["program", "levers", "0", "months"]`` -> ``program.levers[0].months``."""
    out = ""
    for part in path:
        if re.fullmatch(r"\d+", part) and out:
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out
