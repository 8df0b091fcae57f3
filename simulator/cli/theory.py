"""``theory``: the scenario's simulated figures against the model's closed forms."""

from __future__ import annotations

import argparse
import math

from rich.table import Table

from ..analytic import theory_check
from ..formatting import money
from .common import add_scenario_args, console, load

Z_ALARM = 4.0  # more standard errors than this is not chance at any replication count used here


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "theory",
        help="simulated figures against their closed forms",
        description="Simulate the scenario under the conditions each closed form needs (recruitment, peer "
        "effect or levers off, as the table says) and print simulated means, closed forms and their difference "
        "in standard errors (|z| above 3 deserves a look, above 4 is a disagreement).",
    )
    add_scenario_args(p, replications=400)
    p.set_defaults(handler=run_theory)


def _value(kind: str, x: float) -> str:
    if kind == "money":
        return money(x)
    if kind in ("share", "probability"):
        return f"{x:.4f}"
    return f"{x:,.2f}"


def run_theory(args: argparse.Namespace) -> int:
    scenario = load(args)
    table = theory_check(scenario, replications=args.replications, seed=args.seed)
    out = Table(
        title=f"{scenario.name}: simulated vs closed form, {args.replications} replications, seed {args.seed}",
        title_justify="left",
        header_style="bold",
    )
    out.add_column("figure")
    for column in ("simulated", "closed form", "diff. (SE)"):
        out.add_column(column, justify="right")
    out.add_column("conditions")
    for row in table.itertuples():
        z = "exact" if row.std_error == 0 and row.z == 0 else f"{row.z:+.2f}"
        out.add_row(row.figure, _value(row.kind, row.simulated), _value(row.kind, row.closed_form), z, row.conditions)
    console.print(out)
    worst = table["z"].abs().max()
    if not math.isfinite(worst) or worst > Z_ALARM:
        console.print(f"the simulation disagrees with theory: |z| up to {worst:.1f}")
        return 1
    return 0
