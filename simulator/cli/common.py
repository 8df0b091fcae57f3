"""Arguments and output helpers shared by the commands."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd
from rich.console import Console
from rich.table import Table

from ..formatting import figure as figure_text
from ..formatting import figure_label, printable
from ..scenario import Scenario, apply_assignments


class PlainConsole(Console):
    """A rich console for text that may come from scenario files: no markup, so '[...]' prints as
    written, and control characters shown escaped, so a name cannot drive the terminal."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(markup=False, highlight=False, emoji=False, **kwargs)

    def render_str(self, text: str, **kwargs: Any) -> Any:
        return super().render_str(printable(text), **kwargs)


# Wide enough for the tables when the output is a file or a pipe (rich defaults to 80 columns).
# Lines are never wrapped (a script can read each one whole); tables still fit the width.
console = PlainConsole(soft_wrap=True, width=None if sys.stdout.isatty() else 120)


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be >= 1")
    return value


def seed_value(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 0 <= value <= 2**63 - 1:
        raise argparse.ArgumentTypeError(f"{value} must be between 0 and 2**63 - 1")
    return value


def add_scenario_args(parser: argparse.ArgumentParser, replications: int = 200) -> None:
    """SCENARIO, --set, --replications and --seed."""
    parser.add_argument("scenario", metavar="SCENARIO", help="scenario YAML file")
    add_set_arg(parser)
    add_replication_args(parser, replications)


def add_replication_args(parser: argparse.ArgumentParser, replications: int = 200) -> None:
    """--replications and --seed."""
    parser.add_argument(
        "--replications",
        "-r",
        type=positive_int,
        default=replications,
        metavar="N",
        help=f"Monte Carlo replications (default {replications})",
    )
    parser.add_argument("--seed", "-s", type=seed_value, default=0, metavar="S", help="random seed (default 0)")
    parser.add_argument(
        "--threads",
        type=positive_int,
        metavar="N",
        help="threads of the compiled engine in this process (default: all cores); the numbers do not change",
    )


def prepare_engine(args: argparse.Namespace) -> None:
    """Before a command runs the engine: its thread count, a one-line notice when it must compile first, and
    large arrays reused from freed memory (:func:`simulator.engine.parallel.reuse_freed_memory`)."""
    if not hasattr(args, "threads"):
        return
    from ..engine import compiled
    from ..engine.parallel import reuse_freed_memory

    reuse_freed_memory()
    compiled.set_threads(args.threads)
    compiled.announce = lambda: print(
        f"compiling the engine once, about {compiled.COMPILE_SECONDS} s (later runs load it from numba's cache)",
        file=sys.stderr,
        flush=True,
    )


def add_workers_arg(parser: argparse.ArgumentParser | argparse._ActionsContainer, what: str) -> None:
    """--workers N / -w N: local processes for ``what``."""
    parser.add_argument("--workers", "-w", type=positive_int, metavar="N", help=f"{what} (default: all cores)")


def add_executor_args(
    parser: argparse.ArgumentParser, what: str = "local worker processes; 1 runs in this process"
) -> None:
    """--workers N | --dask ADDRESS|local: where the work runs (the one executor path)."""
    where = parser.add_mutually_exclusive_group()
    add_workers_arg(where, what)
    where.add_argument(
        "--dask",
        metavar="ADDRESS",
        help="run on a Dask cluster: a scheduler address (tcp://host:8786) or 'local' for a LocalCluster on 127.0.0.1",
    )


def add_progress_arg(parser: argparse.ArgumentParser) -> None:
    """--no-progress: no progress bar (it shows on stderr only when stderr is a terminal anyway)."""
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def progress_shown(args: argparse.Namespace) -> bool | None:
    """The ``show`` of :func:`simulator.progress.display` for a command: never with --no-progress, else on
    a terminal."""
    return False if args.no_progress else None


def add_set_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        dest="assignments",
        help="override a scenario key, e.g. --set activation.window_months=9 (repeatable)",
    )
    parser.add_argument(
        "--no-uncertainty",
        action="store_true",
        help="leave out the scenario's uncertainty: section (parameters fixed: the future's noise alone)",
    )


def load(args: argparse.Namespace, path: str | None = None) -> Scenario:
    """The scenario named on the command line, with its --set overrides."""
    scenario = apply_assignments(path or args.scenario, args.assignments)
    return scenario.without_uncertainty() if getattr(args, "no_uncertainty", False) else scenario


def output_folder(value: str | None, scenario_path: str) -> Path:
    """Where to write results: --out, or results/<scenario file name>; made and checked writable now,
    before any run, so an unusable folder fails at once with one line (and no table printed first)."""
    import tempfile

    from ..errors import ChannelError

    folder = Path(value) if value else Path("results") / Path(scenario_path).stem
    if folder.exists() and not folder.is_dir():
        raise ChannelError(f"--out {folder}: exists and is not a folder")
    # Nothing is created yet (a refusal later must leave nothing behind): the nearest existing folder
    # on the way must be a folder this process can write in.
    existing = next((p for p in (folder, *folder.parents) if p.exists()), Path("."))
    if not existing.is_dir():
        raise ChannelError(f"--out {folder}: cannot write there ({existing} is not a folder)")
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as exc:
        raise ChannelError(f"--out {folder}: cannot write there ({exc.strerror or exc})") from None
    return folder


def fmt(figure: str, value: float, currency: str = "") -> str:
    """Format a figure for a table by its kind in the vocabulary (money, share, index, count)."""
    return figure_text(figure, value, currency)


def summary_table(summary: pd.DataFrame, title: str, currency: str, rows: Iterable[str] | None = None) -> Table:
    """A rich table of a summary (figure x mean/p10/p50/p90)."""
    table = Table(title=title, title_justify="left", header_style="bold")
    table.add_column("figure")
    for col in ("mean", "P10", "P50", "P90"):
        table.add_column(col, justify="right")
    for figure in rows if rows is not None else summary.index:
        if figure not in summary.index:
            continue
        r = summary.loc[figure]
        label = figure_label(figure, currency)
        table.add_row(label, *(fmt(figure, r[c]) for c in ("mean", "p10", "p50", "p90")))
    return table


def add_export_args(parser: argparse.ArgumentParser) -> None:
    """--charts DIR and --xlsx FILE: the deliverables for slides and spreadsheets."""
    parser.add_argument("--charts", metavar="DIR", help="also write every chart as PNG and SVG in this folder")
    parser.add_argument("--xlsx", metavar="FILE", help="also write an Excel workbook (summary, monthly bands, ...)")


def check_exports(args: argparse.Namespace) -> None:
    """Refuse unusable --charts / --xlsx paths before any work is done."""
    from ..errors import ChannelError

    charts = getattr(args, "charts", None)
    if charts and Path(charts).exists() and not Path(charts).is_dir():
        raise ChannelError(f"--charts {charts}: exists and is not a folder")
    xlsx = getattr(args, "xlsx", None)
    if xlsx:
        path = Path(xlsx)
        if path.is_dir():
            raise ChannelError(f"--xlsx {xlsx}: is a folder; give a file name such as {path / 'plan.xlsx'}")
        if path.suffix.lower() != ".xlsx":
            raise ChannelError(f"--xlsx {xlsx}: the workbook's name must end in .xlsx")
        if path.parent.exists() and not path.parent.is_dir():
            raise ChannelError(f"--xlsx {xlsx}: {path.parent} is not a folder")


def write_exports(args: argparse.Namespace, deliverables: Any) -> None:
    """Write what --charts and --xlsx asked for, and say where."""
    from ..reports.exports import write_charts, write_workbook

    if getattr(args, "charts", None):
        written = write_charts(args.charts, deliverables)
        console.print(
            f"wrote {len(written)} chart files in {args.charts} ({', '.join(p.name for p in written[:4])}, ...)"
        )
    if getattr(args, "xlsx", None):
        console.print(f"wrote {write_workbook(args.xlsx, deliverables)}")
