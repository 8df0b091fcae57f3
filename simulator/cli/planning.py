"""``capacity``, ``size``, ``compare`` and ``scorecard``: the planning answers on the command line."""

from __future__ import annotations

import argparse
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
from rich.table import Table
from rich.text import Text

from ..errors import ChannelError
from ..formatting import (
    change,
    decision_value,
    describe_lever,
    figure_label,
    index,
    key_words,
    money,
    number,
    quantity,
    share,
    signed_money,
    signed_share,
    value_text,
)
from ..planning import DEFAULT_MAX_REPLICATIONS, DEFAULT_REPLICATIONS, capacity, compare, scorecard, size_recruitment
from ..planning.compare import CompareResult
from ..planning.sizing import SizingResult
from ..progress import display
from ..reports.exports import Deliverables
from ..reports.tables import write_csv
from ..scenario import apply_assignments
from ..vocabulary import better
from .common import (
    add_executor_args,
    add_export_args,
    add_progress_arg,
    add_replication_args,
    add_scenario_args,
    add_set_arg,
    check_exports,
    console,
    fmt,
    load,
    output_folder,
    positive_int,
    progress_shown,
    write_exports,
)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "capacity",
        help="what today's channel delivers with recruitment off",
        description="Run the scenario with recruitment off (recruitment.nurture_per_month = 0): revenue "
        "trajectory with P10/P50/P90, the growth today's channel delivers, P(plan met) without recruiting "
        "and the gap to the plan.",
    )
    add_scenario_args(p)
    _add_plan_args(p)
    p.add_argument("--out", "-o", metavar="DIR", help="also write capacity_trajectory.csv and capacity_runs.csv here")
    p.set_defaults(handler=run_capacity)

    s = sub.add_parser(
        "size",
        help="the recruitment needed to meet the plan with a stated confidence",
        description="Find the smallest recruitment.nurture_per_month (or --decision KEY) for which "
        "P(revenue of the last 12 months >= target) >= confidence, on common random numbers.",
    )
    add_scenario_args(s, replications=DEFAULT_REPLICATIONS)
    _add_plan_args(s)
    s.add_argument(
        "--decision",
        metavar="KEY",
        help="key to size instead of recruitment.nurture_per_month, e.g. activation.window_months, "
        "activation.monthly_probability, lever:presales_support or program.levers[0].intensity",
    )
    s.add_argument("--tolerance", type=float, metavar="T", help="precision of a continuous decision (default per key)")
    s.add_argument(
        "--max-replications",
        type=positive_int,
        metavar="N",
        help="add replications near the boundary up to N to pin the answer, at least -r "
        f"(default {DEFAULT_MAX_REPLICATIONS:,}, or -r when it is more)",
    )
    add_executor_args(s)
    add_export_args(s)
    add_progress_arg(s)
    s.set_defaults(handler=run_size)

    c = sub.add_parser(
        "compare",
        help="two scenarios on the same random draws",
        description="Run A and B on the same random draws and report the paired differences B - A. "
        "With one file, B is A with the --set overrides; with two, --set changes B.",
    )
    c.add_argument("scenario", metavar="A", help="scenario YAML file (the baseline)")
    c.add_argument("other", metavar="B", nargs="?", help="scenario YAML file to compare (default: A with --set)")
    add_set_arg(c)
    c.add_argument(
        "--set-both",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        dest="both",
        help="override a key in both A and B (e.g. --set-both horizon_months=24)",
    )
    add_replication_args(c)
    c.add_argument("--out", "-o", metavar="DIR", help="also write differences.csv and changes.csv here")
    add_export_args(c)
    add_progress_arg(c)
    c.set_defaults(handler=run_compare)

    k = sub.add_parser(
        "scorecard",
        help="partner performance per segment and revenue tier",
        description="Partner performance scorecard at the horizon per segment and revenue tier (top 20%, "
        "next 30%, bottom 50% of earning partners, no revenue), averaged over replications.",
    )
    add_scenario_args(k)
    where = k.add_mutually_exclusive_group()
    where.add_argument("--out", "-o", metavar="DIR", help="folder for scorecard.csv (default results/<scenario>)")
    where.add_argument("--csv", metavar="PATH", help="write the CSV to this file instead")
    k.set_defaults(handler=run_scorecard)


def _add_plan_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--target", type=str, metavar="X", help="revenue wanted in the last 12 months (default plan.revenue_target)"
    )
    parser.add_argument(
        "--confidence", type=str, metavar="C", help="probability the plan must be met with (default plan.confidence)"
    )
    parser.add_argument(
        "--year",
        type=positive_int,
        metavar="Y",
        help="with yearly targets (plan.revenue_targets): meet plan year Y's target (default: every year's)",
    )


_AMOUNT = re.compile(r"^\s*([0-9][0-9_,]*(?:\.[0-9]*)?(?:e[+-]?[0-9]+)?)\s*(k|m|mn|bn|b)?\s*$", re.IGNORECASE)


def parse_amount(text: str | None, option: str = "--target") -> float | None:
    """``50000000``, ``50e6``, ``50,000,000``, ``50m``, ``1.2bn`` or ``800k`` as a number."""
    if text is None:
        return None
    match = _AMOUNT.match(text)
    if not match:
        raise ChannelError(f"{option} {text!r}: must be an amount > 0, e.g. 50000000, 50e6 or 50m")
    number = float(match.group(1).replace(",", "").replace("_", ""))
    scale = {None: 1.0, "k": 1e3, "m": 1e6, "mn": 1e6, "b": 1e9, "bn": 1e9}[(match.group(2) or "").lower() or None]
    value = number * scale
    if not math.isfinite(value) or value <= 0:
        raise ChannelError(f"{option} {text!r}: must be an amount > 0, e.g. 50000000, 50e6 or 50m")
    return value


def parse_probability(text: str | None, option: str = "--confidence") -> float | None:
    if text is None:
        return None
    try:
        value = float(text.strip().rstrip("%")) / (100.0 if text.strip().endswith("%") else 1.0)
    except ValueError:
        raise ChannelError(f"{option} {text!r}: must be a probability between 0 and 1, e.g. 0.9") from None
    if not 0.0 < value < 1.0:
        raise ChannelError(f"{option} {text!r}: must be between 0 and 1 (exclusive), e.g. 0.9")
    return value


# -- capacity ---------------------------------------------------------------------------


def run_capacity(args: argparse.Namespace) -> int:
    scenario = load(args)
    target, conf = parse_amount(args.target), parse_probability(args.confidence)
    folder = output_folder(args.out, args.scenario) if args.out else None
    cap = capacity(
        scenario, replications=args.replications, seed=args.seed, target=target, confidence=conf, year=args.year
    )
    cur = scenario.currency
    H = scenario.horizon_months
    title = (
        f"{scenario.name}: today's channel, recruitment off ({args.replications} replications, "
        f"seed {args.seed}, {H} months)"
    )
    table = Table(title=title, title_justify="left", header_style="bold")
    table.add_column("figure")
    for col in ("mean", "P10", "P50", "P90"):
        table.add_column(col, justify="right")
    summary = cap.summary()
    labels = {
        "revenue_t12m_today": f"Revenue, last 12 months, today ({cur})",
        "revenue_last_12m": f"Revenue, last 12 months, month {H} ({cur})",
        "growth_rate": "Growth a year (trailing 12 months)",
        "gap_to_plan": f"Gap to plan: target - revenue ({cur})",
    }
    for figure, label in labels.items():
        if figure not in summary.index:
            continue
        r = summary.loc[figure]
        cells = [signed_share(r[c]) if figure == "growth_rate" else money(r[c]) for c in ("mean", "p10", "p50", "p90")]
        table.add_row(label, *cells)
    if cap.target is not None:
        q = round(100 * (1 - cap.confidence))
        table.add_row("P(plan met) without recruiting", share(cap.p_plan_met), "", "", "")
        table.add_row(
            f"Gap at {share(cap.confidence, 0)} confidence: target - P{q} ({cur})",
            money(cap.gap_at_confidence),
            "",
            "",
            "",
        )
    console.print(table)

    months = sorted({*range(0, H + 1, 6 if H > 12 else 1), H})
    traj = cap.trajectory.set_index(["figure", "month"])
    t = Table(title="Trailing-12-month revenue and earning partners by month", title_justify="left")
    t.add_column("month", justify="right")
    for col in ("mean", "P10", "P50", "P90"):
        t.add_column(f"revenue {col}", justify="right")
    t.add_column("earning partners", justify="right")
    for m in months:
        r = traj.loc[("revenue_t12m", m)]
        earning = traj.loc[("earning_partners", m), "mean"] if ("earning_partners", m) in traj.index else np.nan
        t.add_row(str(m), *(money(r[c]) for c in ("mean", "p10", "p50", "p90")), fmt("earning_partners", earning))
    console.print(t)
    if cap.target is not None:
        q = round(100 * (1 - cap.confidence))
        console.print(
            f"Without recruiting, the plan ({money(cap.target)} {cur} in the last 12 months) is met in "
            f"{share(cap.p_plan_met)} of replications. To meet it with {share(cap.confidence, 0)} confidence, "
            f"recruitment must add about {money(cap.gap_at_confidence)} {cur} (the target minus P{q} revenue)."
        )
    else:
        console.print("No plan.revenue_target (or --target): P(plan met) and the gap are not computed.")
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        write_csv(cap.trajectory, folder / "capacity_trajectory.csv")
        write_csv(cap.per_replication, folder / "capacity_runs.csv")
        console.print(f"wrote {folder / 'capacity_trajectory.csv'}, {folder / 'capacity_runs.csv'}")
    return 0


# -- size -------------------------------------------------------------------------------


def run_size(args: argparse.Namespace) -> int:
    if args.max_replications is not None and args.max_replications < args.replications:
        raise ChannelError(
            f"--max-replications {args.max_replications:,}: must be at least -r ({args.replications:,}), the "
            "replications every value starts with (the search only adds to them)"
        )
    scenario = load(args)
    target, conf = parse_amount(args.target), parse_probability(args.confidence)
    check_exports(args)
    with display(progress_shown(args)):
        result = size_recruitment(
            scenario,
            target=target,
            confidence=conf,
            year=args.year,
            decision=args.decision,
            replications=args.replications,
            seed=args.seed,
            workers=args.workers,
            dask=args.dask,
            tolerance=args.tolerance,
            max_replications=args.max_replications,
        )
    console.print(_curve_table(result))
    console.print(result.message, style="bold" if result.reachable else "bold red")
    if result.reachable or result.decision == "recruitment.nurture_per_month":
        console.print(_implied_table(result))
    for note in result.notes:
        console.print(f"note: {note}")
    console.print(f"({len(result.curve)} values tried in {result.seconds:.1f} s)")
    write_exports(args, Deliverables(sizing=result))
    return 0


def _curve_table(result: SizingResult) -> Table:
    cur = result.scenario.currency
    title = (
        f"{result.scenario.name}: P(revenue of the last 12 months >= {money(result.target)} {cur}) by "
        f"{key_words(result.decision)} ({result.decision}); confidence {share(result.confidence, 0)}, "
        f"{result.replications:,} replications, seed {result.seed}, same draws for every value"
    )
    table = Table(title=title, title_justify="left", header_style="bold")
    table.add_column(key_words(result.decision), justify="right")
    table.add_column("P(plan met)", justify="right")
    table.add_column("95% interval", justify="right")
    table.add_column("", justify="center")
    for col in ("revenue P10", "revenue P50", "signings a year", "recruiting cost a year"):
        table.add_column(col, justify="right")
    for _, r in result.curve.iterrows():
        value = decision_value(result.decision, r["value"], result.integer)
        is_answer = result.reachable and r["value"] == result.value
        table.add_row(
            Text(value, style="bold") if is_answer else value,
            share(r["p_plan_met"]),
            f"{share(r['p_low'])}-{share(r['p_high'])}",
            "answer" if is_answer else ("meets" if r["meets"] else ""),
            money(r["revenue_p10"]),
            money(r["revenue_p50"]),
            quantity(r["signings_per_year"]),
            money(r["recruitment_cost_per_year"]),
        )
    return table


def _implied_table(result: SizingResult) -> Table:
    cur = result.scenario.currency
    where = "at the answer" if result.reachable else "at the best value"
    imp = result.implied
    table = Table(title=f"What it implies {where} (means over replications)", title_justify="left")
    table.add_column("figure")
    table.add_column("value", justify="right")
    rows = [
        ("Partners signed a year", quantity(imp["signings_per_year"])),
        ("Recruited partners with a first deal a year", quantity(imp["first_deals_per_year"])),
        ("Prospects entering nurturing a month", quantity(imp["nurtured_per_year"] / 12)),
        (f"Recruitment cost a year ({cur})", money(imp["recruitment_cost_per_year"])),
        (f"Recruitment cost over the horizon ({cur})", money(imp["recruitment_cost_total"])),
        (f"Revenue, last 12 months, P10 / P50 ({cur})", f"{money(imp['revenue_p10'])} / {money(imp['revenue_p50'])}"),
        (f"  from recruited partners, mean ({cur})", money(imp["recruited_revenue_mean"])),
    ]
    for label, value in rows:
        table.add_row(label, value)
    return table


# -- compare ----------------------------------------------------------------------------


def run_compare(args: argparse.Namespace) -> int:
    a = apply_assignments(args.scenario, args.both)
    if args.other is None:
        if not args.assignments:
            console.print("note: no B and no --set: comparing A with itself (every difference is 0)")
        b = apply_assignments(a, args.assignments)
        b_name = f"{a.name} with " + ", ".join(args.assignments) if args.assignments else a.name
    else:
        b = apply_assignments(apply_assignments(args.other, args.both), args.assignments)
        b_name = b.name
    folder = output_folder(args.out, args.scenario) if args.out else None
    check_exports(args)
    with display(progress_shown(args)):
        result = compare(a, b, replications=args.replications, seed=args.seed, partners=bool(args.charts or args.xlsx))
    cur = a.currency

    changes = Table(title=f"What changed from A ({a.name}) to B ({b_name})", title_justify="left")
    for col in ("kind", "what", "key", "A", "B"):
        changes.add_column(col)
    for _, r in result.changes.iterrows():
        va, vb = value_text(r["a"]), value_text(r["b"])
        if r["kind"] in ("lever added", "lever removed"):  # the lever in words, as the report says it
            side = b if r["kind"] == "lever added" else a
            lever = next(lv for lv in side.program.levers if f"lever:{lv.name}" == r["key"])
            va, vb = (
                (va, describe_lever(lever, cur)) if r["kind"] == "lever added" else (describe_lever(lever, cur), vb)
            )
        changes.add_row(r["kind"], key_words(r["key"]), r["key"], va, vb)
    if result.changes.empty:
        changes.add_row("-", "nothing: A and B are the same scenario", "", "", "")
    console.print(changes)

    title = (
        f"B - A on the same draws ({args.replications} replications, seed {args.seed}); "
        "90% interval of the paired difference"
    )
    table = Table(title=title, title_justify="left", header_style="bold")
    table.add_column("figure")
    for col in ("A mean", "B mean", "B - A mean", "90% interval", "P(B better)", "P(B worse)"):
        table.add_column(col, justify="right")
    diff = result.differences
    for figure in diff.index:
        r = diff.loc[figure]
        label = figure_label(figure, cur)
        if better(figure) == -1:
            label += " (lower is better)"
        show = "p_plan_met" if figure == "plan_met" else figure
        table.add_row(
            label,
            fmt(show, r["mean_a"]),
            fmt(show, r["mean_b"]),
            change(show, r["mean_diff"]),
            "-" if figure == "plan_met" else f"{change(show, r['p05'])} .. {change(show, r['p95'])}",
            share(r["p_b_better"]),
            share(r["p_b_worse"]),
        )
    console.print(table)
    console.print(_returns_table(result, cur))
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        write_csv(result.differences, folder / "differences.csv", index=True)
        write_csv(result.changes, folder / "changes.csv")
        console.print(f"wrote {folder / 'differences.csv'}, {folder / 'changes.csv'}")
    write_exports(args, Deliverables(result=result.a, comparison=result))
    return 0


def _returns_table(result: CompareResult, currency: str) -> Table:
    """What B returns against A over the horizon: incremental contribution and cost, ROI, NPV, payback."""
    r = result.returns
    H = min(result.a.scenario.horizon_months, result.b.scenario.horizon_months)
    table = Table(title=f"What B returns against A over {H} months (paired)", title_justify="left", header_style="bold")
    for col in ("figure", "mean", "90% interval"):
        table.add_column(col, justify="left" if col == "figure" else "right")
    for name, label in (
        ("incremental_contribution", "Incremental contribution"),
        ("incremental_cost", "Incremental cost"),
    ):
        row = r.loc[name]
        interval = f"{signed_money(row['p05'])} .. {signed_money(row['p95'])}"
        table.add_row(f"{label} ({currency})", signed_money(row["mean"]), interval)
    roi = r.loc["roi"]
    table.add_row(
        "ROI (contribution per unit of extra cost)",
        number(roi["mean"]),
        f"{number(roi['p05'])} .. {number(roi['p95'])}",
    )
    npv = r.loc["npv"]
    rate = result.b.scenario.economics.discount_rate
    table.add_row(
        f"NPV at {share(rate, 0)} a year ({currency})",
        signed_money(npv["mean"]),
        f"{signed_money(npv['p05'])} .. {signed_money(npv['p95'])}",
    )
    pay = r.loc["payback_month"]
    paid = pay["p_paid_back"]

    def month(x: float) -> str:
        return f"beyond month {H}" if not math.isfinite(x) else f"month {x:.0f}"

    table.add_row(
        f"Payback (median; {share(paid, 0)} of replications pay back)",
        month(pay["p50"]),
        f"P10 {month(pay['p10'])}, P90 {month(pay['p90'])}",
    )
    return table


# -- scorecard --------------------------------------------------------------------------


def _scorecard_table(frame: pd.DataFrame, title: str, currency: str) -> Table:
    """A scorecard table (per segment or program tier, and revenue tier) for the console."""
    group = frame.columns[0]  # segment or program_tier
    table = Table(title=title, title_justify="left", header_style="bold")
    for col in (
        group.replace("_", " "),
        "tier",
        "partners",
        "recruited",
        "activation rate",
        "months to first deal (median)",
        "growth 12m (mean)",
        f"revenue per partner ({currency})",
        "share of revenue",
    ):
        table.add_column(col, justify="left" if col in (group.replace("_", " "), "tier") else "right")
    for _, r in frame.iterrows():
        total = r[group] == "all" or r["tier"] == "all"
        cells = [
            r[group],
            r["tier"],
            quantity(r["partners"]),
            quantity(r["recruited"]),
            share(r["activation_rate"]),
            "-" if pd.isna(r["median_months_to_first_deal"]) else quantity(round(r["median_months_to_first_deal"])),
            signed_share(r["growth_12m"]),
            money(r["revenue_t12m_per_partner"]),
            share(r["revenue_share"]),
        ]
        table.add_row(*[Text(c, style="bold") for c in cells] if total else cells)
    return table


def run_scorecard(args: argparse.Namespace) -> int:
    scenario = load(args)
    path = Path(args.csv) if args.csv else output_folder(args.out, args.scenario) / "scorecard.csv"
    if path.exists() and path.is_dir():
        raise ChannelError(f"--csv {path}: is a folder; give a file name such as {path / 'scorecard.csv'}")
    card = scorecard(scenario, replications=args.replications, seed=args.seed)
    title = (
        f"{scenario.name}: partner scorecard at month {scenario.horizon_months} "
        f"(means over {args.replications} replications, seed {args.seed})"
    )
    console.print(_scorecard_table(card.table, title, scenario.currency))
    if card.by_tier is not None:
        console.print(_scorecard_table(card.by_tier, f"{scenario.name}: the same by program tier", scenario.currency))
    conc = card.concentration
    if not conc.empty:
        parts = []
        for col, label in (
            ("top_share", "top-20% share"),
            ("gini", "Gini"),
            ("hhi", "HHI"),
            ("effective_partners", "effective partners"),
            ("share_earning_nothing", "signed partners earning nothing"),
        ):
            v = conc[col].dropna()
            if v.empty:
                continue
            write = {"effective_partners": quantity, "gini": index, "hhi": index}.get(col, share)
            lo, hi = v.quantile(0.1), v.quantile(0.9)
            shown, band = write(v.mean()), f"{write(lo)}-{write(hi)}"
            parts.append(f"{label} {shown} (P10-P90 {band})")
        console.print(f"Concentration at month {scenario.horizon_months} (earning partners): " + "; ".join(parts))
    written = card.to_csv(path)
    console.print(f"wrote {written}")
    if card.by_tier is not None:
        console.print(f"wrote {card.tier_csv_path(written)}")
    return 0
