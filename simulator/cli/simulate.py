"""``simulate`` and ``validate``: run a scenario, check scenario files."""

from __future__ import annotations

import argparse
import sys

from ..engine.results import SimulationResult, check_result_memory, simulate
from ..errors import ChannelError
from ..formatting import money, plural, printable, quantity
from ..scenario import apply_assignments
from ..vocabulary import VOCABULARY
from .common import (
    add_export_args,
    add_scenario_args,
    add_set_arg,
    check_exports,
    console,
    load,
    output_folder,
    summary_table,
    write_exports,
)


def summary_rows() -> tuple[str, ...]:
    """The horizon figures the summary shows: the vocabulary's summary figures (P(plan met) by its summary name)."""
    return tuple("p_plan_met" if f.name == "plan_met" else f.name for f in VOCABULARY.figures("kpis") if f.summary)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "simulate",
        help="run a scenario and write its tables",
        description="Run Monte Carlo replications of a scenario, print a summary and "
        "write the monthly and partner tables as Parquet.",
    )
    add_scenario_args(p)
    p.add_argument("--out", "-o", metavar="DIR", help="output folder (default results/<scenario name>)")
    p.add_argument("--csv", action="store_true", help="also write CSV files")
    p.add_argument("--no-partners", action="store_true", help="skip the per-partner scorecard table")
    add_export_args(p)
    p.set_defaults(handler=run_simulate)

    v = sub.add_parser(
        "validate", help="check scenario files", description="Validate scenario files; exit code 2 if any is invalid."
    )
    v.add_argument("scenarios", nargs="+", metavar="SCENARIO")
    add_set_arg(v)
    v.set_defaults(handler=run_validate)


def run_simulate(args: argparse.Namespace) -> int:
    scenario = load(args)
    folder = output_folder(args.out, args.scenario)
    check_result_memory(scenario, args.replications, not args.no_partners)  # refused before --out is made
    check_exports(args)
    folder.mkdir(parents=True, exist_ok=True)  # an unusable --out fails now, not after the run
    result = simulate(scenario, replications=args.replications, seed=args.seed, partners=not args.no_partners)
    target = scenario.plan.revenue_target
    title = f"{scenario.name}: {args.replications} replications, seed {args.seed}, {scenario.horizon_months} months" + (
        f", plan {money(target, scenario.currency)}" if target is not None else ""
    )
    written = result.to_parquet(folder, csv=args.csv)  # written first: a full disk fails before any output
    console.print(summary_table(result.summary(), title, scenario.currency, summary_rows()))
    if scenario.program.tiers:
        console.print(tier_line(result))
    console.print("wrote " + ", ".join(str(p) for p in written))
    from ..reports.exports import Deliverables

    write_exports(args, Deliverables(result=result))
    return 0


def run_validate(args: argparse.Namespace) -> int:
    failed = 0
    for path in args.scenarios:
        try:
            scn = apply_assignments(path, args.assignments)
        except ChannelError as exc:
            print(printable(f"error: {path}: {exc}"), file=sys.stderr)
            failed += 1
            continue
        console.print(
            f"ok: {path} ({scn.name}: {plural(scn.companies, 'company')}, "
            f"{plural(len(scn.market.segments), 'segment')}, {plural(len(scn.program.levers), 'lever')}, "
            f"{plural(scn.horizon_months, 'month')})"
        )
    return 2 if failed else 0


def tier_line(result: SimulationResult) -> str:
    """Partners by tier at the horizon and the tiers' yearly cost, means over replications, in one line."""
    scn = result.scenario
    tiers = result.tiers
    end = tiers[tiers.month == scn.horizon_months].groupby("tier", observed=False)["partners"].mean()
    cost = tiers["cost"].sum() / max(len(result.replications), 1) / (scn.horizon_months / 12)
    shown = ", ".join(f"{name} {quantity(end[name])}" for name in scn.program.tier_names)
    return (
        f"Partners by tier at month {scn.horizon_months} (mean): {shown}; "
        f"tier rebates and MDF {money(cost, scn.currency)} a year"
    )
