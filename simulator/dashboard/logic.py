"""What the dashboard computes and shows, as plain functions (tested without a browser).

The page (``app.py``) only lays out what these functions return. The flow:

* :func:`library` lists the scenarios to choose from; :func:`scenario_from_upload` reads an uploaded file;
* :func:`controls` and :func:`lever_settings` give the variant's sliders and switches, starting at the
  baseline's own values; :func:`build_variant` turns their values into a scenario (the baseline itself
  when nothing moved, so an unchanged variant gives exactly zero differences);
* :func:`run_pair` runs baseline and variant with :func:`simulator.compare`, on the same replications and
  seed (common random numbers);
* :func:`answers`, :func:`differences`, :func:`payoff` and :func:`payoff_lines` say which numbers to show,
  each written by :mod:`simulator.formatting`.

Every bad value raises :class:`~simulator.errors.ChannelError` with the same one line as the CLI.
"""

from __future__ import annotations

import math
import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..engine.results import SimulationResult
from ..errors import ChannelError
from ..formatting import change, figure, figure_label, money, plural, printable, share
from ..planning import CompareResult, SizingResult, compare, size_recruitment
from ..planning.sizing import DEFAULT_REPLICATIONS as SIZING_REPLICATIONS
from ..scenario import Scenario, lever_catalogue, load_scenario
from ..scenario.yaml_io import dump_yaml, parse_yaml
from ..stats import wilson_interval
from ..vocabulary import label

#: Replications of the first answer: fast on two cores; the page has a control to raise them.
DEFAULT_REPLICATIONS = 100
REPLICATION_CHOICES = (50, 100, 200, 400, 1000)
#: Environment variables through which ``run.py dashboard`` hands its arguments to the page.
ENV_SCENARIOS = "CHANNEL_DASHBOARD_SCENARIOS"
ENV_REPLICATIONS = "CHANNEL_DASHBOARD_REPLICATIONS"
ENV_SEED = "CHANNEL_DASHBOARD_SEED"
ROOT = Path(__file__).resolve().parents[2]

__all__ = [
    "DEFAULT_REPLICATIONS",
    "SIZING_REPLICATIONS",
    "Answer",
    "Control",
    "DifferenceRow",
    "LeverSetting",
    "Payoff",
    "answers",
    "build_variant",
    "controls",
    "differences",
    "excel_export",
    "gap_at_confidence",
    "identical",
    "lever_settings",
    "library",
    "payoff",
    "payoff_lines",
    "plain",
    "run_pair",
    "scenario_from_upload",
    "size_variant",
    "workbook_bytes",
]


# -- scenario text on the page --------------------------------------------------------------------------

# Markdown, LaTeX ($), Streamlit's colour and emoji directives (:red[...], :smile:) and HTML characters.
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&])")


def plain(text: object) -> str:
    """Text from a scenario file for a Streamlit element, shown as written: every character Markdown would
    read as markup is escaped, and control characters are shown escaped, so a name cannot add a link,
    a formula or styling to the page."""
    return _MARKDOWN.sub(r"\\\1", printable(str(text)))


# -- choosing a scenario -------------------------------------------------------------------------------


def library(paths: Sequence[str | Path] | None = None) -> dict[str, Path]:
    """Scenario files to choose from, by file name: ``paths`` (or those named in the environment by
    ``run.py dashboard``), else ``scenarios/*.yaml`` of the working folder, else the project's own."""
    if paths is None:
        named = os.environ.get(ENV_SCENARIOS, "")
        paths = [p for p in named.split(os.pathsep) if p]
    if not paths:
        for folder in (Path.cwd() / "scenarios", ROOT / "scenarios"):
            found = sorted(folder.glob("*.yaml"))
            if found:
                paths = found
                break
    out: dict[str, Path] = {}
    for p in map(Path, paths or ()):
        name = p.name if p.name not in out else str(p)
        out[name] = p
    # The baseline first: it is what a what-if is measured against.
    return dict(sorted(out.items(), key=lambda kv: (kv[1].stem != "baseline", kv[0])))


def load_choice(path: str | Path) -> Scenario:
    """A scenario of the library (validated; a bad file raises its one-line ChannelError)."""
    return load_scenario(Path(path))


def scenario_from_upload(filename: str, content: bytes, folder: str | Path | None = None) -> Scenario:
    """An uploaded scenario file. ``extends: other.yaml`` is looked for beside the library's files
    (``folder``), then among the project's scenarios, since an upload has no folder of its own."""
    name = Path(filename).name or "uploaded.yaml"
    try:
        return _read_upload(name, content, folder)
    except ChannelError as exc:
        raise ChannelError(f"{name}: {exc}") from None  # as ``run.py validate`` writes it, with the file's name


def _read_upload(name: str, content: bytes, folder: str | Path | None) -> Scenario:
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        raise ChannelError(f"{name} is not a UTF-8 text file") from None
    data = parse_yaml(text, name)
    if isinstance(data, dict) and isinstance(data.get("extends"), str) and not Path(data["extends"]).is_absolute():
        folders = [Path(folder)] if folder is not None else []
        folders.append(ROOT / "scenarios")
        found = [f / data["extends"] for f in folders if (f / data["extends"]).is_file()]
        data["extends"] = str((found[0] if found else folders[0] / data["extends"]).resolve())
        text = dump_yaml(data)  # the upload's own comments are lost; the base file's are kept
    with tempfile.TemporaryDirectory(prefix="dashboard-upload-") as tmp:
        path = Path(tmp) / name
        path.write_text(text, encoding="utf-8")
        return load_scenario(path)


# -- the variant's controls ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Control:
    """A slider for one scenario key: its range, step and starting value (the baseline's)."""

    key: str
    label: str
    low: float
    high: float
    step: float
    value: float
    integer: bool = False

    @property
    def decimals(self) -> int:
        """Decimals that show every step of the slider (0.005 -> 3)."""
        return 0 if self.integer else max(0, -int(Decimal(str(self.step)).normalize().as_tuple().exponent))


# key -> (label, low, high, step, integer); ranges widen to include the baseline's value.
_CONTROLS: dict[str, tuple[str, float, float, float, bool]] = {
    "recruitment.nurture_per_month": ("Prospects nurtured a month", 0, 100, 1, True),
    "recruitment.win_share": ("Win share of a nurtured prospect's signings", 0.0, 1.0, 0.01, False),
    "activation.monthly_probability": ("First-deal probability a month", 0.0, 0.5, 0.005, False),
    "activation.window_months": ("Activation window (months)", 1, 24, 1, True),
    "churn.dormancy_probability": ("Dormancy probability a month", 0.0, 0.1, 0.001, False),
    "churn.exit_probability": ("Exit probability a month", 0.0, 0.1, 0.001, False),
    "churn.reactivation_probability": ("Reactivation probability a month", 0.0, 0.2, 0.001, False),
    "churn.dormant_exit_probability": ("Exit probability of a dormant partner a month", 0.0, 0.2, 0.001, False),
    "collaboration.adoption_probability": ("Collaboration adoption probability a month", 0.0, 0.2, 0.001, False),
}
CONTROL_KEYS = tuple(_CONTROLS)


def controls(scenario: Scenario) -> list[Control]:
    """The variant's sliders for the main keys, each starting at the scenario's value."""
    out = []
    for key, (text, low, high, step, integer) in _CONTROLS.items():
        value = scenario.get(key)
        if key == "recruitment.nurture_per_month":
            high = max(high, min(scenario.market.prospects, 4 * value))
        if key == "activation.window_months":
            high = max(high, scenario.horizon_months)
        high = max(high, value)
        out.append(Control(key, text, low, high, step, value, integer))
    return out


@dataclass(frozen=True)
class LeverSetting:
    """One lever of the variant: on or off, its intensity and the months it runs (first, last)."""

    name: str
    on: bool
    intensity: float
    months: tuple[int, int]
    phase: str = ""
    note: str = ""
    in_scenario: bool = False  # the baseline runs it (else: a catalogue lever it could add)


def lever_settings(scenario: Scenario) -> list[LeverSetting]:
    """The baseline's levers (on, as written) and the rest of the catalogue (off), in catalogue order."""
    H = scenario.horizon_months
    own = {lever.name: lever for lever in scenario.program.levers}
    out = []
    for lever in scenario.program.levers:
        first, last = lever.month_range(H)
        out.append(
            LeverSetting(lever.name, True, lever.intensity, (first, max(first, last)), lever.phase, lever.note, True)
        )
    for name, entry in lever_catalogue().items():
        if name in own or any(lv.use == name for lv in scenario.program.levers):
            continue
        note = " ".join(str(entry.get("note", "")).split())
        out.append(LeverSetting(name, False, 1.0, (1, H), str(entry.get("phase", "")), note, False))
    order = {name: i for i, name in enumerate(lever_catalogue())}
    return sorted(out, key=lambda s: (order.get(s.name, len(order)), s.name))


def _same(a: float, b: float) -> bool:
    # A slider moved away and back can return its value with float noise from the step arithmetic.
    return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)


def build_variant(
    base: Scenario, keys: Mapping[str, float] | None = None, levers: Sequence[LeverSetting] | None = None
) -> Scenario:
    """The variant: ``base`` with the slider values ``keys`` (dotted key -> value) and the lever
    settings ``levers``. Only what differs from the baseline is changed, so unchanged controls give
    the baseline itself (same fingerprint, same numbers)."""
    overrides: dict[str, Any] = {}
    for key, value in (keys or {}).items():
        current = base.get(key)
        if isinstance(current, bool) or not isinstance(current, int | float):
            raise ChannelError(f"{key}: not a number a slider can set")
        if not _same(value, current):
            overrides[key.replace(".", "__")] = round(value) if isinstance(current, int) else float(value)
    if levers is not None:
        program = _program(base, levers)
        if program is not None:
            overrides["program__levers"] = program
    if not overrides:
        return base
    return base.override(**overrides, name=f"{base.name} (variant)")


def _program(base: Scenario, levers: Sequence[LeverSetting]) -> list[dict[str, Any]] | None:
    """The variant's lever list as plain data, or None when it is the baseline's own."""
    H = base.horizon_months
    own = {lever.name: lever for lever in base.program.levers}
    settings = {s.name: s for s in levers}
    out: list[dict[str, Any]] = []
    changed = False
    for lever in base.program.levers:
        s = settings.get(lever.name)
        data = lever.model_dump(mode="json")
        if s is None:
            out.append(data)
            continue
        if not s.on:
            changed = True
            continue
        if not _same(s.intensity, lever.intensity):
            data["intensity"] = float(s.intensity)
            changed = True
        if tuple(s.months) != tuple(lever.month_range(H)):
            data["months"] = [int(s.months[0]), int(s.months[1])]
            changed = True
        out.append(data)
    catalogue = lever_catalogue()
    for s in levers:
        if s.name in own or not s.on:
            continue
        if s.name not in catalogue:
            raise ChannelError(f"lever {s.name!r} is neither in the scenario nor in the lever catalogue")
        data = {"use": s.name}
        if not _same(s.intensity, 1.0):
            data["intensity"] = float(s.intensity)
        if tuple(s.months) != (1, H):
            data["months"] = [int(s.months[0]), int(s.months[1])]
        out.append(data)
        changed = True
    return out if changed else None


# -- running ------------------------------------------------------------------------------------------


def run_pair(base: Scenario, variant: Scenario, replications: int, seed: int) -> CompareResult:
    """Baseline (A) and variant (B) on the same replications and seed, with the partner scorecards."""
    return compare(base, variant, replications=replications, seed=seed, partners=True)


def size_variant(variant: Scenario, seed: int, workers: int | None = None) -> SizingResult:
    """The sizing answer for the variant, at the precision of ``run.py size`` (its default replications)."""
    # Interactive: the size command's first precision, without adding replications near the boundary (the
    # answer's range of values the replications cannot tell apart is shown with it).
    return size_recruitment(
        variant, replications=SIZING_REPLICATIONS, seed=seed, workers=workers, max_replications=SIZING_REPLICATIONS
    )


def excel_export():  # noqa: ANN201 - the module, or None
    """The reports' Excel export (``simulator.reports.exports``), or None where it is not installed."""
    import importlib

    try:
        exports = importlib.import_module("simulator.reports.exports")
    except ModuleNotFoundError as exc:
        if exc.name == "simulator.reports.exports":
            return None
        raise
    return exports if hasattr(exports, "write_workbook") and hasattr(exports, "Deliverables") else None


def workbook_bytes(pair: CompareResult, sizing: SizingResult | None = None) -> bytes:
    """The Excel workbook of the variant (with the comparison when it differs, and the sizing when made)."""
    exports = excel_export()
    if exports is None:
        raise ChannelError("the Excel export is not part of this installation")
    deliverables = exports.Deliverables(result=pair.b, comparison=None if identical(pair) else pair, sizing=sizing)
    with tempfile.TemporaryDirectory(prefix="dashboard-xlsx-") as tmp:
        return Path(exports.write_workbook(Path(tmp) / "workbook.xlsx", deliverables)).read_bytes()


def identical(result: CompareResult) -> bool:
    """True when every paired difference of every figure is exactly zero (NaN counts as equal to NaN)."""
    paired = result.paired.drop(columns="replication")
    values = paired.to_numpy(np.float64)
    same = (values == 0) | np.isnan(values)
    traj = result.trajectory["mean_diff"].to_numpy(np.float64)
    return bool(same.all() and (traj == 0).all())


# -- the numbers on the page --------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """One number on the page: its label, its text, and the value behind it (None when undefined)."""

    name: str
    label: str
    text: str
    value: float | None
    detail: str = ""


def gap_at_confidence(revenue: np.ndarray, target: float, confidence: float) -> float:
    """What the plan still needs at its confidence: target minus the ``1 - confidence`` quantile of
    revenue of the last 12 months (at 0.9, target minus P10), floored at 0; the measure of
    :attr:`simulator.planning.CapacityResult.gap_at_confidence`, here for the scenario's own run."""
    return max(float(target) - float(np.quantile(np.asarray(revenue, np.float64), 1.0 - confidence)), 0.0)


STATE_NAMES = ("signed", "active", "collaborating", "dormant", "churned")


def answers(result: SimulationResult) -> dict[str, Answer]:
    """A scenario's answers: revenue of the last 12 months (median, P10-P90), P(plan met) with its Wilson
    95% interval, the gap at the plan's confidence, concentration at the horizon (top-20% share and Gini
    among earning partners, medians) and partners by state at the horizon (means)."""
    scn, kpis = result.scenario, result.kpis
    cur = scn.currency
    rev = kpis["revenue_last_12m"].to_numpy(np.float64)
    p10, p50, p90 = (float(np.quantile(rev, q)) for q in (0.1, 0.5, 0.9))
    out = {
        "revenue_last_12m": Answer(
            "revenue_last_12m",
            f"{figure_label('revenue_last_12m')}, median",
            figure("revenue_last_12m", p50, cur),
            p50,
            f"P10-P90: {money(p10)} to {money(p90, cur)}",
        )
    }
    plan = scn.plan
    if plan.revenue_target is not None:
        met = rev >= plan.revenue_target
        low, high = wilson_interval(int(met.sum()), met.size)
        p = float(met.mean())
        out["p_plan_met"] = Answer(
            "p_plan_met",
            f"{label('p_plan_met')} ({money(plan.revenue_target, cur)})",
            figure("p_plan_met", p),
            p,
            f"95% interval {share(low)} to {share(high)}, {plural(met.size, 'replication')}",
        )
        gap = gap_at_confidence(rev, plan.revenue_target, plan.confidence)
        out["gap"] = Answer(
            "gap",
            f"Gap to plan at {share(plan.confidence, 0)} confidence",
            money(gap, cur),
            gap,
            f"target minus the P{round(100 * (1 - plan.confidence))} revenue",
        )
    for name in ("top20_share", "gini"):
        values = kpis[name].to_numpy(np.float64)
        values = values[~np.isnan(values)]
        v = float(np.median(values)) if values.size else None
        out[name] = Answer(name, f"{label(name)}, median", figure(name, v), v)
    for name in STATE_NAMES:
        v = float(kpis[name].mean())
        out[name] = Answer(name, label(name), figure(name, v), v, f"at month {scn.horizon_months}, mean")
    return out


@dataclass(frozen=True)
class DifferenceRow:
    """One figure of the paired comparison, with the numbers (``mean_diff`` ...) and their texts."""

    name: str
    label: str
    a: str
    b: str
    difference: str
    interval: str
    p_better: str
    mean_diff: float
    p05: float
    p95: float


DIFFERENCE_FIGURES = (
    "revenue_last_12m",
    "cost_last_12m",
    "contribution_last_12m",
    "plan_met",
    "signings",
    "activations",
    "active",
    "collaborating",
    "dormant",
    "churned",
    "top20_share",
    "gini",
)


def differences(result: CompareResult) -> list[DifferenceRow]:
    """The paired differences B - A the page shows (means, 90% interval, P(B better)), from ``compare``."""
    d = result.differences
    cur = result.b.scenario.currency
    rows = []
    for name in DIFFERENCE_FIGURES:
        if name not in d.index:
            continue
        r = d.loc[name]
        interval = "-" if not np.isfinite(r.p05) else f"{change(name, r.p05, cur)} to {change(name, r.p95, cur)}"
        rows.append(
            DifferenceRow(
                name=name,
                label=figure_label(name, cur),
                a=figure(name, r.mean_a, cur),
                b=figure(name, r.mean_b, cur),
                difference=change(name, r.mean_diff, cur),
                interval=interval,
                p_better=share(r.p_b_better),
                mean_diff=float(r.mean_diff),
                p05=float(r.p05),
                p95=float(r.p95),
            )
        )
    return rows


def differences_table(rows: Sequence[DifferenceRow]) -> pd.DataFrame:
    """The rows as the page's table (text only)."""
    return pd.DataFrame(
        {
            "figure": [r.label for r in rows],
            "baseline (A)": [r.a for r in rows],
            "variant (B)": [r.b for r in rows],
            "B - A": [r.difference for r in rows],
            "90% of paired differences": [r.interval for r in rows],
            "P(B better)": [r.p_better for r in rows],
        }
    )


@dataclass(frozen=True)
class Payoff:
    """What the variant adds over the horizon, from the monthly paired differences (B - A).

    ``incremental_contribution`` and ``incremental_cost`` sum months 1..horizon; ``ratio`` is their
    quotient (None when the variant costs nothing extra); ``payback_month`` is the first month from
    which the cumulative paired contribution difference stays above zero to the horizon (None when it
    never does); ``cumulative`` is that cumulative difference by month.
    """

    incremental_contribution: float
    incremental_cost: float
    ratio: float | None
    payback_month: int | None
    cumulative: pd.Series


def payoff(trajectory: pd.DataFrame) -> Payoff:
    """Incremental contribution, incremental cost, their ratio and the payback month from ``compare``'s
    ``trajectory`` (mean paired differences by month and figure)."""
    t = trajectory[trajectory["month"] >= 1]  # month 0 is today's channel: nothing to pay back yet
    contribution = t[t["figure"] == "contribution"].set_index("month")["mean_diff"].sort_index()
    cost = t[t["figure"] == "cost"].set_index("month")["mean_diff"].sort_index()
    cumulative = contribution.cumsum()
    gain, spent = float(contribution.sum()), float(cost.sum())
    ratio = gain / spent if spent > 0 else None
    positive = cumulative.to_numpy() > 0
    payback = None
    if positive.size and positive[-1]:
        # The month after the last one at or below zero (or the first month, if none is).
        below = np.flatnonzero(~positive)
        payback = int(cumulative.index[below[-1] + 1] if below.size else cumulative.index[0])
    return Payoff(gain, spent, ratio, payback, cumulative.rename("cumulative_contribution_difference"))


def payoff_lines(p: Payoff, currency: str, horizon: int) -> list[tuple[str, str]]:
    """The payoff as (label, text) pairs for the page."""
    if p.incremental_cost > 0:
        ratio = f"{p.ratio:.2f} {currency} of contribution per {currency} of extra cost"
    elif p.incremental_cost < 0:
        ratio = "the variant costs less than the baseline"
    else:
        ratio = "no extra cost"
    if p.payback_month is not None:
        payback = f"month {p.payback_month}"
    elif p.incremental_contribution == 0 and (p.cumulative == 0).all():
        payback = "nothing changes"
    else:
        payback = f"not within the {horizon}-month horizon"
    return [
        (
            f"Incremental contribution over {horizon} months",
            change("contribution_total", p.incremental_contribution, currency),
        ),
        (f"Incremental cost over {horizon} months", change("cost_total", p.incremental_cost, currency)),
        ("Incremental contribution / incremental cost", ratio),
        ("Payback (cumulative contribution difference above zero from)", payback),
    ]


def states_table(a: Mapping[str, Answer], b: Mapping[str, Answer]) -> pd.DataFrame:
    """Partners by state at the horizon, baseline and variant, from their :func:`answers`."""
    return pd.DataFrame(
        {
            "state": [a[n].label for n in STATE_NAMES],
            "baseline (A)": [a[n].text for n in STATE_NAMES],
            "variant (B)": [b[n].text for n in STATE_NAMES],
            "B - A": [change(n, b[n].value - a[n].value) for n in STATE_NAMES],
        }
    )


def changes_table(result: CompareResult) -> pd.DataFrame:
    """What differs between baseline and variant (keys and levers), as text."""
    c = result.changes
    return pd.DataFrame({"change": c["kind"], "key": c["key"], "baseline": c["a"].map(str), "variant": c["b"].map(str)})


def replications_from_env() -> int:
    """Replications of the first answer (``run.py dashboard --replications``), else the default."""
    try:
        return max(1, int(os.environ.get(ENV_REPLICATIONS, DEFAULT_REPLICATIONS)))
    except ValueError:
        return DEFAULT_REPLICATIONS


def seed_from_env() -> int:
    try:
        return max(0, int(os.environ.get(ENV_SEED, 0)))
    except ValueError:
        return 0
