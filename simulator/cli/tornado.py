"""``tornado``: one-at-a-time swings of the main keys, in the figure's unit, sorted."""

from __future__ import annotations

import argparse

from rich.table import Table

from ..formatting import change, figure, figure_label
from ..planning.tornado import DEFAULT_KEYS, tornado
from .common import add_executor_args, add_progress_arg, add_scenario_args, console, load, output_folder, progress_shown


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "tornado",
        help="which assumptions move a figure most (one at a time, on the same random draws)",
        description="Swing each key from low to high (its uncertainty: range where given, else +-25%) with the "
        "others at their values, on common random numbers, and rank the keys by the swing of the figure.",
    )
    add_scenario_args(p, replications=100)
    p.add_argument("--keys", nargs="+", metavar="KEY", help=f"keys to swing (default: {', '.join(DEFAULT_KEYS)})")
    p.add_argument("--kpi", default="revenue_last_12m", help="horizon figure (default revenue_last_12m)")
    p.add_argument("--spread", type=float, default=0.25, help="swing of keys without an uncertainty range (0.25)")
    p.add_argument("--out", "-o", metavar="DIR", help="also write tornado.csv and tornado.png here")
    add_executor_args(p)
    add_progress_arg(p)
    p.set_defaults(handler=run_tornado)


def run_tornado(args: argparse.Namespace) -> int:
    scenario = load(args)
    folder = output_folder(args.out, args.scenario) if args.out else None  # checked before any run
    result = tornado(
        scenario,
        args.keys,
        kpi=args.kpi,
        replications=args.replications,
        seed=args.seed,
        spread=args.spread,
        workers=args.workers,
        dask=args.dask,
        progress=progress_shown(args),
    )
    cur, kpi = scenario.currency, args.kpi
    table = Table(
        title=f"{scenario.name}: what moves {figure_label(kpi, cur)} ({args.replications} replications, seed "
        f"{args.seed}; base {figure(kpi, result.table['figure_base'].iloc[0], cur)})",
        title_justify="left",
        header_style="bold",
    )
    for col in ("key", "low", "high", "range from", "at low", "at high", "swing"):
        table.add_column(col, justify="left" if col in ("key", "range from") else "right")
    for _, r in result.table.iterrows():
        table.add_row(
            r["key"],
            f"{r['low']:.4g}",
            f"{r['high']:.4g}",
            r["source"],
            figure(kpi, r["figure_low"], cur),
            figure(kpi, r["figure_high"], cur),
            change(kpi, r["swing"], cur),
        )
    console.print(table)
    if folder is not None:
        from ..reports.tables import write_csv

        folder.mkdir(parents=True, exist_ok=True)
        write_csv(result.table, folder / "tornado.csv")
        result.plot().savefig(folder / "tornado.png", dpi=120)
        console.print(f"wrote {folder / 'tornado.csv'}, {folder / 'tornado.png'}")
    return 0
