"""``sweep`` and ``sensitivity``: Monte Carlo over scenario variants, locally or on Dask."""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
from rich.table import Table

from ..errors import ChannelError
from ..formatting import figure_label, key_words, money, number, points, share, value_text
from ..reports.tables import write_csv
from ..scenario import Scenario
from ..sweeps import make_design, sensitivity, summarize_sweep, sweep
from ..sweeps.design import parse_grid, parse_ranges
from ..vocabulary import kind as figure_kind
from .common import (
    add_executor_args,
    add_progress_arg,
    add_scenario_args,
    console,
    fmt,
    load,
    positive_int,
    progress_shown,
)

SHOW_POINTS = 20


def _add_execution_args(p: argparse.ArgumentParser) -> None:
    add_executor_args(p)
    p.add_argument("--resume", action="store_true", help="finish an interrupted run in the same --out folder")
    add_progress_arg(p)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "sweep",
        help="run scenario variants x replications (grid, LHS, Sobol or CSV points)",
        description="Run a sweep: every point of a design times R replications on common random numbers, "
        "streamed to a Parquet dataset in --out (resumable with --resume).",
    )
    add_scenario_args(p, replications=100)
    design = p.add_argument_group("design (choose one)")
    design.add_argument(
        "--grid",
        action="append",
        default=[],
        metavar="KEY=V1,V2,...",
        help="values of a key; several --grid make a full factorial",
    )
    design.add_argument(
        "--lhs",
        action="append",
        default=[],
        metavar="KEY=LOW:HIGH",
        help="a range sampled by Latin hypercube (with --points)",
    )
    design.add_argument(
        "--sobol",
        action="append",
        default=[],
        metavar="KEY=LOW:HIGH",
        help="a range sampled by scrambled Sobol (with --points)",
    )
    design.add_argument("--csv", metavar="FILE", help="explicit points: one column per key, one row per point")
    design.add_argument("--points", type=positive_int, metavar="N", help="points to sample for --lhs / --sobol")
    p.add_argument("--out", "-o", metavar="DIR", help="output folder (default sweeps/<scenario name>)")
    p.add_argument("--monthly", action="store_true", help="also keep the monthly series of every run")
    p.add_argument("--chunk-size", type=positive_int, metavar="R", help="replications per chunk (default: automatic)")
    _add_execution_args(p)
    p.set_defaults(handler=run_sweep_command)

    s = sub.add_parser(
        "sensitivity",
        help="Sobol or Morris sensitivity of a figure to scenario keys (SALib)",
        description="Global sensitivity analysis: sample the ranges, run each point (replications averaged, "
        "common random numbers), and report Sobol S1/ST or Morris mu*/sigma with a bar chart.",
    )
    add_scenario_args(s, replications=20)
    s.add_argument(
        "--range",
        "--bounds",
        action="append",
        default=[],
        dest="ranges",
        metavar="KEY=LOW:HIGH",
        help="a key and its range (repeat for each key)",
    )
    s.add_argument("--kpi", default="revenue_last_12m", help="figure to explain (default revenue_last_12m)")
    s.add_argument("--method", choices=("sobol", "morris"), default="sobol")
    s.add_argument(
        "--samples",
        type=positive_int,
        metavar="N",
        help="Sobol base sample (power of two, default 64) or Morris trajectories (default 10)",
    )
    s.add_argument("--out", "-o", metavar="DIR", help="output folder (default results/<scenario name>-sensitivity)")
    _add_execution_args(s)
    s.set_defaults(handler=run_sensitivity_command)


def run_sweep_command(args: argparse.Namespace) -> int:
    scenario = load(args)
    design = make_design(
        scenario,
        grid=parse_grid(args.grid) if args.grid else None,
        lhs=parse_ranges(args.lhs, "--lhs") if args.lhs else None,
        sobol=parse_ranges(args.sobol, "--sobol") if args.sobol else None,
        csv=args.csv,
        points=args.points,
        replications=args.replications,
        seed=args.seed,
    )
    out = Path(args.out) if args.out else Path("sweeps") / Path(args.scenario).stem
    table = sweep(
        design,
        out=out,
        workers=args.workers,
        dask=args.dask,
        resume=args.resume,
        monthly=args.monthly,
        chunk_size=args.chunk_size,
        progress=progress_shown(args),
    )
    run = table.attrs["run"]
    rate = run["ran"] / run["seconds"] if run["seconds"] > 0 else float("nan")
    console.print(
        f"{len(design.points)} points x {design.replications} replications = {len(table):,} runs; "
        f"{run['ran']} chunks in {run['seconds']:.1f} s ({rate:.2f} chunks/s) on {run['workers']}"
        + (f", {run['resumed']} chunks already on disk" if run["resumed"] else "")
        + (f", {run['retried']} retried after a worker died" if run["retried"] else "")
    )
    target = scenario.plan.revenue_target
    summary = summarize_sweep(table)
    console.print(_points_table(summary, design.keys, scenario, target is not None))
    if len(summary) > SHOW_POINTS:
        console.print(f"(first {SHOW_POINTS} of {len(summary)} points)")
    console.print(f"table: {out / 'kpis'} (Parquet dataset; simulator.open_sweep('{out}') reads it)")
    return 0


def _points_table(summary: pd.DataFrame, keys: list[str], scenario: Scenario, with_plan: bool) -> Table:
    table = Table(
        title=f"{scenario.name}: revenue, last 12 months ({scenario.currency}), per point",
        title_justify="left",
        header_style="bold",
    )
    table.add_column("point", justify="right")
    for key in keys:
        table.add_column(key, justify="right")
    for col in ("mean", "P10", "P50", "P90"):
        table.add_column(col, justify="right")
    if with_plan:
        table.add_column("P(plan met) [95% CI]", justify="right")
    for point, row in summary.head(SHOW_POINTS).iterrows():
        cells = [str(point), *(_value(row[k]) for k in keys)]
        cells += [fmt("revenue", row[f"revenue_last_12m_{c}"]) for c in ("mean", "p10", "p50", "p90")]
        if with_plan:
            cells.append(f"{share(row.p_plan_met)} [{share(row.p_plan_met_low)}, {share(row.p_plan_met_high)}]")
        table.add_row(*cells)
    return table


def _value(v: object) -> str:
    return value_text(v)


def run_sensitivity_command(args: argparse.Namespace) -> int:
    scenario = load(args)
    if not args.ranges:
        raise ChannelError("sensitivity needs at least one --range KEY=LOW:HIGH")
    out = Path(args.out) if args.out else Path("results") / f"{Path(args.scenario).stem}-sensitivity"
    result = sensitivity(
        scenario,
        parse_ranges(args.ranges, "--range"),
        kpi=args.kpi,
        method=args.method,
        samples=args.samples,
        replications=args.replications,
        seed=args.seed,
        workers=args.workers,
        dask=args.dask,
        out=out / "runs",
        resume=args.resume,
        progress=progress_shown(args),
    )
    table = Table(
        title=f"Sensitivity of {figure_label(args.kpi, scenario.currency)} ({args.method}, "
        f"{len(result.samples)} points x {args.replications} replications)",
        title_justify="left",
        header_style="bold",
    )
    table.add_column("what")
    table.add_column("key")
    for col in result.table.columns:
        table.add_column(col, justify="right")
    for key, row in result.table.iterrows():
        table.add_row(key_words(str(key)), str(key), *(_index_cell(args.kpi, str(col), v) for col, v in row.items()))
    console.print(table)
    write_csv(result.table, out / "sensitivity.csv", index=True)
    result.plot().savefig(out / "sensitivity.png", dpi=120)
    console.print(f"wrote {out / 'sensitivity.csv'}, {out / 'sensitivity.png'}")
    return 0


def _index_cell(kpi: str, column: str, value: float) -> str:
    """A sensitivity index in the kpi's terms: Morris effects (mu, mu*, sigma) are changes of the kpi, so
    money for a money kpi (``1.2m``) and points for a share or a probability; Sobol indices are shares of
    the variance (``0.42``)."""
    if column.startswith(("S1", "ST", "S2")):
        return number(value, 2)
    kind = figure_kind(kpi)
    if kind == "money":
        return money(value)
    if kind in ("share", "probability"):
        return points(value)
    return number(value)
