"""The calibrated scenario as a YAML file a strategist can read and edit.

Every fitted value carries a comment with its estimator, the partners and
events behind it and its 95% interval; every value not fitted says where it
came from. The comments are the scenario's source notes, so the HTML report
shows them in its appendix. ``channel.partner_list`` and the
``uncertainty:`` section are written live when the engine reads them;
before that, the channel is written as counts per state and the
``uncertainty:`` section as comments, so the file always loads.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from ..scenario import load_scenario
from ..scenario.schema import Channel, Scenario

if TYPE_CHECKING:
    from .calibrate import CalibrationResult


def engine_reads() -> tuple[bool, bool]:
    """Whether the engine's scenario schema has ``channel.partner_list`` and ``uncertainty``."""
    return "partner_list" in Channel.model_fields, "uncertainty" in Scenario.model_fields


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(value, ensure_ascii=False)  # a JSON string or list is valid flow YAML


def _comment(text: str | None) -> str:
    return f"  # {' '.join(text.split())}" if text else ""


def _emit(data: dict[str, Any], notes: dict[str, str], path: str, indent: int, lines: list[str]) -> None:
    pad = " " * indent
    for key, value in data.items():
        dotted = f"{path}.{key}" if path else key
        note = notes.get(dotted)
        if isinstance(value, dict) and value:
            lines.append(f"{pad}{key}:{_comment(note)}")
            _emit(value, notes, dotted, indent + 2, lines)
        else:
            lines.append(f"{pad}{key}: {_scalar(value if value != {} else {})}{_comment(note)}")


def scenario_yaml(result: CalibrationResult, partner_list_path: str) -> str:
    """The text of the calibrated scenario file (checked by loading it back)."""
    reads_list, reads_uncertainty = engine_reads()
    data = result.scenario_dict(
        with_partner_list=reads_list, with_uncertainty=reads_uncertainty, partner_list_path=partner_list_path
    )
    uncertainty = data.pop("uncertainty", None)
    notes = result.notes()
    fits = result.fitted
    h = result.history
    lines = [
        f"# Calibrated from {result.export.source} up to {result.as_of} with `python run.py calibrate`.",
        f"# Revenue history {h.first_month} to {h.as_of}; {len(h.partner_id):,} partners; a partner is dormant "
        f"after {result.dormant_after} months without revenue.",
        "# Each fitted value says how it was estimated, from how many partners and events, and its 95% interval.",
    ]
    if not reads_list:
        lines.append(
            f"# Today's channel is {partner_list_path} (beside this file); this engine starts from counts per "
            "state, so the counts below summarise it."
        )
    body: list[str] = []
    _emit(data, notes, "", 0, body)
    lines += body
    dist = uncertainty if uncertainty is not None else result.uncertainty()
    if dist:
        prefix = "" if reads_uncertainty else "# "
        lines.append("")
        lines.append("# The fits' sampling distributions: each replication draws its own value of these keys.")
        if not reads_uncertainty:
            lines.append("# (Commented out: this engine does not read an uncertainty section yet.)")
        lines.append(f"{prefix}uncertainty:")
        for key, spec in dist.items():
            fit = fits.get(key)
            why = f"  # {fit.events:,} events" if fit is not None else ""
            lines.append(f"{prefix}  {key}: {json.dumps(spec)}{why}")
    text = "\n".join(lines) + "\n"
    from ..scenario.yaml_io import parse_yaml

    parsed = parse_yaml(text, "calibrated scenario")
    if reads_list:
        parsed["channel"] = result.scenario_dict(with_partner_list=False, with_uncertainty=False)["channel"]
    load_scenario(parsed)  # what is written must load: refuse here rather than write a broken file
    return text
