"""``optimize``: the best mix of levers for a budget, robust to the noise of the simulation."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.table import Table

from ..errors import ChannelError
from ..formatting import money
from .common import add_scenario_args, add_workers_arg, console, load, output_folder, positive_int


def _range(text: str, flag: str) -> tuple[int, int]:
    low, colon, high = text.partition(":")
    try:
        if not colon:
            raise ValueError
        return int(low), int(high)
    except ValueError:
        raise ChannelError(f"{flag} {text!r}: expected low:high in whole numbers, e.g. {flag} 5:40") from None


def _budget(text: str) -> float:
    try:
        return float(text.replace(",", "").replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an amount") from None


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "optimize",
        help="find the best mix of levers (and intensities) for a budget",
        description="Search the levers of the catalogue (or the scenario) switched on or off, at an intensity in a "
        "range, for the program that does best on the objective within the budget; every candidate runs on the "
        "same replications (common random numbers), the top ones are re-run on fresh replications against the "
        "scenario's own program, and the winner is written as a scenario file. Trials are kept in DIR/study.db: "
        "--resume continues a stopped search.",
    )
    add_scenario_args(p, replications=100)
    p.add_argument(
        "--levers",
        required=True,
        metavar="LIST|all",
        help="levers to decide: all, or names with optional intensity ranges, e.g. partner_portal,events=0.5:1.5 "
        "(default range 0:2)",
    )
    p.add_argument("--budget", required=True, type=_budget, metavar="AMOUNT", help="the most the program may cost")
    p.add_argument("--budget-per-year", action="store_true", help="the budget is per plan year, not for the horizon")
    p.add_argument(
        "--objective",
        default="contribution",
        metavar="NAME[,NAME]",
        help="contribution (default), contribution_12m, contribution_p10, revenue, revenue_total, revenue_p10, "
        "p_plan_met, cost; several (comma-separated) give a Pareto front",
    )
    p.add_argument("--nurture", metavar="LOW:HIGH", help="also decide recruitment.nurture_per_month in this range")
    p.add_argument(
        "--start-months",
        nargs="?",
        const="all",
        metavar="LOW:HIGH",
        help="also decide each lever's start month (default: any month of the horizon)",
    )
    p.add_argument("--trials", type=positive_int, default=100, metavar="N", help="candidates to search (default 100)")
    p.add_argument("--top", type=positive_int, default=10, metavar="K", help="candidates re-run fresh (default 10)")
    p.add_argument("--screen", action="store_true", help="first drop levers without effect (Morris screening)")
    where = p.add_mutually_exclusive_group()
    add_workers_arg(where, "local worker processes; 1 runs in this process")
    where.add_argument(
        "--dask",
        metavar="ADDRESS",
        help="run on a Dask cluster: a scheduler address (tcp://host:8786) or 'local' for a LocalCluster on 127.0.0.1",
    )
    p.add_argument("--out", "-o", metavar="DIR", help="output folder (default results/<scenario name>-optimize)")
    p.add_argument("--resume", action="store_true", help="continue the search stored in --out")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress lines")
    p.set_defaults(handler=run_optimize)


def run_optimize(args: argparse.Namespace) -> int:
    from ..optimization import optimize
    from ..optimization.result import roi_text

    scenario = load(args)
    folder = output_folder(args.out or str(Path("results") / f"{Path(args.scenario).stem}-optimize"), args.scenario)
    nurture = _range(args.nurture, "--nurture") if args.nurture else None
    starts: bool | tuple[int, int] = False
    if args.start_months:
        starts = True if args.start_months == "all" else _range(args.start_months, "--start-months")

    def progress(message: str) -> None:
        if not args.quiet:
            print(message, file=sys.stderr, flush=True)

    result = optimize(
        scenario,
        args.levers,
        args.budget,
        objective=args.objective,
        per_year=args.budget_per_year,
        nurture=nurture,
        start_months=starts,
        trials=args.trials,
        replications=args.replications,
        seed=args.seed,
        top=args.top,
        workers=args.workers,
        dask=args.dask,
        out=folder,
        resume=args.resume,
        screen=args.screen,
        extends=False if args.assignments else args.scenario,
        on_progress=progress,
    )
    cur = result.scenario.currency
    if result.screening is not None and len(result.screening):
        console.print(
            "screening: "
            + "; ".join(f"{r.lever} mu*={money(r.mu_star)}" for r in result.screening.itertuples())
            + f"; dropped: {', '.join(result.dropped) or 'none'} (mu* below 5% of the largest)"
        )
    console.print(_table(result, cur))
    console.print(result.message)
    win = result.winner_row
    if win is not None:
        r = result.reevaluation
        d = r.differences
        c = d["contribution_total"]
        roi = roi_text(r.roi, d)
        payback = f"month {r.payback_month}" if r.payback_month is not None else "not within the horizon"
        console.print(
            f"against the scenario's own program (paired, {r.replications} fresh replications): contribution "
            f"{_signed(c['mean'], cur)} (90% interval {_signed(c['low'], cur)} to {_signed(c['high'], cur)}), "
            f"program cost {_signed(d['program_cost']['mean'], cur)}; ROI {roi}; payback {payback}"
        )
        console.print(
            f"P(truly the best of those re-run) {100 * (r.p_best or 0):.0f}%; no other is better by more than "
            f"{money(r.tolerance or 0.0, cur)} (99%); mean program cost {money(float(win['program_cost_mean']), cur)} "
            f"for a budget of {result.budget.describe(cur)}; P(overspend) {100 * float(win['p_overspend']):.0f}%"
        )
        console.print(f"wrote {folder / 'winner.yaml'}, trials.parquet, reevaluation.parquet, study.db")
        return 0
    console.print(f"wrote {folder / 'trials.parquet'}, reevaluation.parquet, study.db (no winner)")
    return 1


def _signed(x: float, currency: str) -> str:
    return ("+" if x > 0 else "") + money(x, currency)


def _table(result, currency: str) -> Table:  # noqa: ANN001 - OptimizationResult
    t = result.reevaluation.table
    table = Table(
        title=f"Top candidates re-run on {result.reevaluation.replications} fresh replications",
        title_justify="left",
        header_style="bold",
    )
    table.add_column("trial", justify="right")
    table.add_column("program")
    for o in result.objectives:
        table.add_column(o.name, justify="right")
    table.add_column(f"cost ({currency})", justify="right")
    table.add_column("P(over)", justify="right")
    table.add_column("P(best)", justify="right")
    for i, row in t.iterrows():
        mark = " *" if i == result.reevaluation.winner else ""
        cells = [money(row[o.name]) if o.money else f"{100 * row[o.name]:.1f}%" for o in result.objectives]
        p_best = "-" if row["p_best"] != row["p_best"] else f"{100 * row['p_best']:.0f}%"
        table.add_row(
            "today" if row["trial"] < 0 else f"{int(row['trial'])}{mark}",
            str(row["candidate"]) + ("" if row["feasible"] else " (over budget)"),
            *cells,
            money(row["program_cost_mean"]),
            f"{100 * row['p_overspend']:.0f}%",
            p_best,
        )
    return table
