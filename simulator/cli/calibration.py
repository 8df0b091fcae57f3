"""``calibrate``, ``synth-export`` and ``backtest``: a scenario from a partner export, and its test."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import ChannelError
from .common import add_replication_args, console, positive_int, seed_value


def _month(text: str) -> str:
    import pandas as pd

    try:
        pd.Timestamp(text)
    except (ValueError, TypeError):
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None
    return text


def _export_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "export", metavar="EXPORT", help="partner export: a folder of CSV/Parquet tables or an .xlsx workbook"
    )
    p.add_argument(
        "--as-of",
        type=_month,
        metavar="YYYY-MM-DD",
        help="read the channel at this date (default: the end of the revenue history)",
    )
    p.add_argument(
        "--dormant-after",
        type=positive_int,
        default=3,
        metavar="N",
        help="months without revenue after which a partner is dormant "
        "(default 3; 1 reads every quiet month as dormant)",
    )
    p.add_argument(
        "--base",
        metavar="SCENARIO",
        help="scenario giving every key the export cannot speak to (default: MODEL.md defaults)",
    )


def register(sub: argparse._SubParsersAction) -> None:
    c = sub.add_parser(
        "calibrate",
        help="fit a scenario to a partner export",
        description="Read a PRM partner export (EXPORT.md), rebuild each partner's monthly history, fit the model's "
        "rates with censoring and left truncation, and write a scenario file (every fitted value with its estimator, "
        "data and 95% interval), the partner list at the as-of date beside it, and optionally a calibration report.",
    )
    _export_args(c)
    c.add_argument("--out", "-o", required=True, metavar="SCENARIO.yaml", help="scenario file to write")
    c.add_argument("--report", metavar="FILE.html", help="also write the calibration report")
    c.set_defaults(handler=run_calibrate)

    s = sub.add_parser(
        "synth-export",
        help="write a partner export simulated from a scenario",
        description="Simulate one history of a scenario and write it as a partner export (EXPORT.md): partners, "
        "revenue, prospects and collaboration tables.",
    )
    s.add_argument("scenario", metavar="SCENARIO", help="scenario YAML file")
    s.add_argument("--out", "-o", required=True, metavar="DIR", help="folder to write the tables into")
    s.add_argument("--months", type=positive_int, default=48, metavar="N", help="months of history (default 48)")
    s.add_argument("--seed", "-s", type=seed_value, default=0, metavar="S", help="random seed (default 0)")
    s.add_argument(
        "--messy", action="store_true", help="add what real exports hold (duplicates, gaps, credit notes, ...)"
    )
    s.add_argument("--format", choices=("csv", "parquet"), default="csv", help="file format (default csv)")
    s.set_defaults(handler=run_synth_export)

    b = sub.add_parser(
        "backtest",
        help="calibrate on the past, simulate the holdout months, compare with what happened",
        description="Calibrate on the export cut HOLDOUT months before the as-of date, simulate those months from the "
        "channel as it stood then, and report how often the actual months fell inside the simulated bands.",
    )
    _export_args(b)
    b.add_argument("--holdout", type=positive_int, default=12, metavar="N", help="months held out (default 12)")
    add_replication_args(b, 200)
    b.add_argument("--out", "-o", metavar="DIR", help="output folder (default results/<export name>-backtest)")
    b.set_defaults(handler=run_backtest)


def run_calibrate(args: argparse.Namespace) -> int:
    from ..calibration import calibrate

    out = Path(args.out)
    if out.suffix.lower() not in (".yaml", ".yml"):
        raise ChannelError(f"--out {out}: a scenario file ends in .yaml")
    result = calibrate(args.export, as_of=args.as_of, dormant_after=args.dormant_after, base=args.base)
    written = result.write(out, report=args.report)
    aside = sum(a.count for a in result.set_aside)
    console.print(
        f"{result.export.source.name}: {len(result.history.partner_id):,} partners, history "
        f"{result.history.first_month} to {result.as_of}; {len(result.fits)} keys fitted, {aside:,} rows set aside, "
        f"{len(result.warnings)} warnings"
    )
    for warning in result.warnings:
        console.print(f"warning: {warning}")
    console.print("wrote " + ", ".join(str(p) for p in written))
    return 0


def run_synth_export(args: argparse.Namespace) -> int:
    from ..calibration import synthetic_export
    from .common import load

    args.assignments = []
    export = synthetic_export(load(args), months=args.months, seed=args.seed, messy=args.messy)
    folder = export.write(args.out, fmt=args.format)
    sizes = ", ".join(f"{name} {len(t):,}" for name, t in export.tables.items())
    console.print(f"wrote {folder}: {sizes} rows; history {export.first_month} to {export.as_of}")
    return 0


def run_backtest(args: argparse.Namespace) -> int:
    from ..calibration import backtest

    folder = Path(args.out) if args.out else Path("results") / f"{Path(args.export).stem}-backtest"
    if folder.exists() and not folder.is_dir():
        raise ChannelError(f"--out {folder}: exists and is not a folder")
    bt = backtest(
        args.export,
        holdout=args.holdout,
        as_of=args.as_of,
        dormant_after=args.dormant_after,
        base=args.base,
        replications=args.replications,
        seed=args.seed,
    )
    console.print(
        f"backtest {bt.cut} -> {bt.as_of}: {bt.p10_p90:.0%} of actual months inside P10-P90, "
        f"{bt.p25_p75:.0%} inside P25-P75"
    )
    for metric, r in bt.coverage.iterrows():
        console.print(
            f"  {metric}: P10-P90 {r.in_p10_p90:.0%}, P25-P75 {r.in_p25_p75:.0%}, MAPE of median {r.mape:.1%}"
        )
    console.print("wrote " + ", ".join(str(p) for p in bt.write(folder)))
    return 0
