"""``report``: one self-contained HTML file answering the planner's questions."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..planning import DEFAULT_REPLICATIONS
from ..progress import display
from ..reports.exports import Deliverables
from .common import (
    add_export_args,
    add_progress_arg,
    add_scenario_args,
    add_workers_arg,
    check_exports,
    console,
    load,
    positive_int,
    progress_shown,
    write_exports,
)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report",
        help="write a self-contained HTML report for a scenario",
        description="Simulate a scenario and write one HTML file (images embedded, no network needed): an "
        "executive summary, the revenue outlook against the plan, recruitment needed (--size), concentration, a "
        "what-if (--compare), charts, key figures and every assumption with where it came from.",
    )
    add_scenario_args(p)
    p.add_argument("--compare", metavar="OTHER.yaml", help="add a what-if: OTHER against SCENARIO, paired")
    p.add_argument("--size", action="store_true", help="also size the recruitment that meets the plan")
    p.add_argument(
        "--size-replications",
        type=positive_int,
        default=DEFAULT_REPLICATIONS,
        metavar="N",
        help=f"replications for --size (default {DEFAULT_REPLICATIONS}, as the size command)",
    )
    p.add_argument("--optimize", metavar="DIR", help="add the results of `optimize --out DIR` (front, program, ROI)")
    add_workers_arg(p, "processes for --size")
    p.add_argument("--out", "-o", metavar="FILE", help="output file (default results/<scenario name>-report.html)")
    add_export_args(p)
    add_progress_arg(p)
    p.set_defaults(handler=run_report)


def run_report(args: argparse.Namespace) -> int:
    from ..reports import html  # matplotlib and Jinja2 only for this command: the others start faster

    scenario = load(args)
    other = load(args, args.compare) if args.compare else None
    check_exports(args)
    out = Path(args.out) if args.out else Path("results") / f"{Path(args.scenario).stem}-report.html"
    if out.exists() and out.is_dir():
        out = out / f"{Path(args.scenario).stem}-report.html"
    if args.optimize:
        from ..optimization.result import read_result

        read_result(args.optimize)  # a folder without results is refused before the run
    out.parent.mkdir(parents=True, exist_ok=True)  # an unusable --out fails now, not after the run
    with display(progress_shown(args)):
        report = html.build_report(
            scenario,
            compare_with=other,
            size=args.size,
            replications=args.replications,
            seed=args.seed,
            workers=args.workers,
            size_replications=args.size_replications,
            optimization=args.optimize,
        )
    path = report.write(out)
    headline = "; ".join(f"{html.HEADLINE_LABELS[k]}: {v}" for k, v in report.headline.items())
    console.print(f"{scenario.name}: {headline}")
    console.print(f"wrote {path}")
    parts = report.parts
    write_exports(
        args,
        Deliverables(
            result=parts["result"], capacity=parts["capacity"], sizing=parts["sizing"], comparison=parts["comparison"]
        ),
    )
    return 0
