"""Writing an optimisation's outputs: the winning program as a scenario file, and the tables.

``winner.yaml`` ``extends:`` the input scenario file and lists the whole
program (the levers the scenario keeps and those chosen, with their
intensities and start months), commented with the figures that justify it;
``python run.py simulate DIR/winner.yaml`` runs it. Tables are Parquet
(``trials``, ``reevaluation``, ``screening``) and ``result.json`` holds the
figures the report shows. Every file is written whole or not at all.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import yaml

from ..formatting import money
from ..scenario import Lever
from ..sweeps.storage import atomic_write_bytes, atomic_write_parquet
from .result import RESULT_FILE, OptimizationResult, roi_text
from .space import NURTURE_KEY

WINNER_FILE = "winner.yaml"


def write_outputs(result: OptimizationResult, folder: str | Path, scenario_path: str | Path | None) -> list[Path]:
    """Write the tables, ``result.json`` and (when there is one) the winning scenario into ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, table in (
        ("trials", result.trials),
        ("reevaluation", result.reevaluation.table),
        ("screening", result.screening),
    ):
        if table is None:
            continue
        path = folder / f"{name}.parquet"
        atomic_write_parquet(path, table.reset_index() if table.index.name else table)
        written.append(path)
    if result.winner is not None:
        path = folder / WINNER_FILE
        atomic_write_bytes(path, winner_yaml(result, folder, scenario_path).encode("utf-8"))
        written.append(path)
    path = folder / RESULT_FILE
    atomic_write_bytes(path, json.dumps(result.summary(), indent=2).encode("utf-8"))
    written.append(path)
    return written


def winner_yaml(result: OptimizationResult, folder: Path, scenario_path: str | Path | None) -> str:
    """The winning program as scenario text: ``extends:`` the input file when there is one."""
    scn, winner = result.scenario, result.winner
    assert winner is not None and result.winner_point is not None
    cur = scn.currency
    r = result.reevaluation
    row = result.winner_row
    o = result.objectives[0]
    d = r.differences

    def signed(x: float) -> str:
        return ("+" if x > 0 else "") + money(x, cur)

    lines = [
        f"# The best program found by `python run.py optimize` for a budget of {result.budget.describe(cur)}.",
        f"# Objective: {', '.join(ob.label for ob in result.objectives)}.",
        f"# Searched {result.settings['trials']} candidates on {result.settings['replications']} replications "
        f"(seed {result.settings['seed']}); the top {len(r.table) - 1} re-run on {r.replications} fresh ones "
        f"(seed {r.seed}), where this one won.",
    ]
    if o.money:
        lines.append(
            f"# {o.label}: {money(d[o.name]['new'], cur)} against {money(d[o.name]['own'], cur)} with the "
            f"scenario's own program: {signed(d[o.name]['mean'])} (90% interval {signed(d[o.name]['low'])} to "
            f"{signed(d[o.name]['high'])}, paired on the same futures)."
        )
    else:
        lines.append(
            f"# {o.label}: {100 * d[o.name]['new']:.1f}% against {100 * d[o.name]['own']:.1f}% with the scenario's "
            f"own program ({100 * d[o.name]['mean']:+.1f} points, 90% interval {100 * d[o.name]['low']:+.1f} to "
            f"{100 * d[o.name]['high']:+.1f})."
        )
    roi = roi_text(r.roi, d)
    payback = f"month {r.payback_month}" if r.payback_month is not None else "not within the horizon"
    lines += [
        f"# Program cost {money(float(row['program_cost_mean']), cur)} on average "
        f"(P(overspend) {100 * float(row['p_overspend']):.0f}%); contribution {signed(d['contribution_total']['mean'])}"
        f" over the horizon against today; ROI {roi}; payback {payback}.",
        f"# P(truly the best of the {int(r.table['feasible'].iloc[1:].sum())} re-run within budget) "
        f"{100 * (r.p_best or 0):.0f}%; no other is better by more than {money(r.tolerance or 0.0, cur)} "
        f"(99%, all at once).",
    ]
    body: dict[str, Any] = {}
    if scenario_path is not None:
        rel = os.path.relpath(Path(scenario_path).resolve(), folder.resolve())
        body["extends"] = Path(rel).as_posix()
        body["name"] = f"{scn.name} (optimised)"
        body["description"] = f"{scn.name} with the program chosen by `optimize`: {row['candidate']}."
        if result.space.nurture:
            body["recruitment"] = {"nurture_per_month": int(result.winner_point[NURTURE_KEY])}
    else:
        body = winner.to_dict()
        body.pop("program", None)
        body["name"] = f"{scn.name} (optimised)"
    text = "\n".join(lines) + "\n" + yaml.safe_dump(body, sort_keys=False, allow_unicode=True, width=1000)
    text += "program:\n  levers:\n"
    entries = _lever_entries(result)
    if not entries:
        text = text.replace("program:\n  levers:\n", "program:\n  levers: []  # no lever is worth its cost\n")
    for comment, entry in entries:
        text += f"    # {comment}\n"
        item = yaml.safe_dump([entry], sort_keys=False, allow_unicode=True, width=1000)
        text += "".join(f"    {line}\n" for line in item.splitlines())
    return text


def _lever_entries(result: OptimizationResult) -> list[tuple[str, dict[str, Any]]]:
    """The winner's levers (those running), short ``use:`` form where it says the same."""
    decisions = {lv.name: lv for lv in result.space.levers}
    out = []
    for lever in result.winner.program.levers:  # type: ignore[union-attr]
        if lever.intensity <= 0:
            continue
        full = lever.model_dump(mode="json")
        short: dict[str, Any] = {"use": lever.use} if lever.use else {}
        if lever.use:
            if lever.name != lever.use:
                short["name"] = lever.name
            short["intensity"] = float(lever.intensity)
            if lever.months is not None:
                short["months"] = list(lever.months)
        entry = short if lever.use and Lever.model_validate(short).model_dump(mode="json") == full else full
        first, last = lever.month_range(result.scenario.horizon_months)
        if lever.name in decisions:
            c = decisions[lever.name]
            comment = (
                f"{lever.name}: intensity {lever.intensity:.2f} (searched {c.low:g} to {c.high:g}), "
                f"months {first}-{last}"
            )
        else:
            comment = f"{lever.name}: kept as the scenario has it (not a decision)"
        out.append((comment, entry))
    return out
