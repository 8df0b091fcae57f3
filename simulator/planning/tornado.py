"""Tornado: which assumptions move a figure most, one at a time, on common random numbers.

Each key swings from a low to a high value while every other key stays at the scenario's value: its
``uncertainty:`` range where the scenario gives one (the distribution's 5th and 95th percentiles,
within the key's allowed range), otherwise -25% and +25% of its value (clipped to what the key
allows; whole-number keys rounded). Every swing runs the same replications and seed as the base
(through the sweep machinery, so on any executor), so a swing is the paired effect of the key alone.
The result is sorted by the size of the swing, in the figure's unit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import ChannelError, did_you_mean
from ..progress import display, phase
from ..scenario.keys import dotted_key
from ..scenario.loading import ScenarioLike
from ..scenario.schema import Scenario, flat_keys
from ..scenario.uncertainty import UNCERTAIN_KEYS, key_bounds
from ..validation import POSITIVE_COUNT, SEED, WORKERS, Real, validate_arguments
from ..vocabulary import VOCABULARY
from .common import as_scenario

#: The main keys a tornado swings by default.
DEFAULT_KEYS = (
    "recruitment.nurture_per_month",
    "recruitment.win_share",
    "activation.monthly_probability",
    "activation.window_months",
    "churn.dormancy_probability",
    "churn.exit_probability",
    "churn.reactivation_probability",
    "collaboration.adoption_probability",
    "growth.active",
    "growth.collaborating",
    "economics.gross_margin",
)
#: Keys that take whole numbers, and their smallest value.
_WHOLE = {"recruitment.nurture_per_month": 0, "activation.window_months": 1, "recruitment.nurture_months": 1}


@dataclass
class TornadoResult:
    """What :func:`tornado` returns: ``table`` has one row per key, largest swing first.

    Columns: ``key``, ``base`` (the scenario's value), ``low`` and ``high`` (the values swung to),
    ``source`` (``uncertainty`` or ``+-25%``), ``figure_low``, ``figure_base``, ``figure_high`` (the
    figure's mean over the replications), ``swing`` (``figure_high - figure_low``) and ``size``
    (``|swing|``).
    """

    scenario: Scenario
    kpi: str
    replications: int
    seed: int
    table: pd.DataFrame

    def plot(self):  # noqa: ANN201 - matplotlib Figure
        from ..reports.charts import tornado_chart

        return tornado_chart(self)


def swing_range(scenario: Scenario, key: str, spread: float = 0.25) -> tuple[float, float, str]:
    """Low and high values of ``key`` for a tornado, and where they come from."""
    base = scenario.get(key)
    if key in scenario.uncertainty:
        low, high = key_bounds(key, scenario.segment_names)
        d = scenario.uncertainty[key].frozen()
        return float(np.clip(d.ppf(0.05), low, high)), float(np.clip(d.ppf(0.95), low, high)), "uncertainty P5-P95"
    lo, hi = float(base) * (1 - spread), float(base) * (1 + spread)
    if key in UNCERTAIN_KEYS or key.startswith("market.segments."):
        allowed = key_bounds(key, scenario.segment_names)
        lo, hi = float(np.clip(lo, *allowed)), float(np.clip(hi, *allowed))
    if key in _WHOLE:
        lo, hi = float(max(_WHOLE[key], round(lo))), float(round(hi))
    return lo, hi, f"{spread:+.0%}".replace("+", "+-")


@validate_arguments(replications=POSITIVE_COUNT, seed=SEED, workers=WORKERS, spread=Real(0.0, 1.0, low_open=True))
def tornado(
    scenario: ScenarioLike,
    keys: Sequence[str] | None = None,
    *,
    kpi: str = "revenue_last_12m",
    replications: int = 100,
    seed: int = 0,
    spread: float = 0.25,
    workers: int | None = None,
    dask: str | None = None,
    progress: bool | None = None,
    **overrides: object,
) -> TornadoResult:
    """One-at-a-time swings of ``keys`` (default :data:`DEFAULT_KEYS`) and their effect on ``kpi``.

    The base runs without its ``uncertainty:`` section (each swing moves one key, the others held at
    their values); ranges come from that section where it names the key, else ``+-spread``.
    """
    from ..sweeps import SweepDesign, sweep

    full = as_scenario(scenario, overrides)
    base = full.without_uncertainty()
    figure = VOCABULARY.get(kpi, "kpis")
    if figure is None or (kpi == "plan_met" and base.plan.revenue_target is None):
        names = [f.name for f in VOCABULARY.figures("kpis")]
        raise ChannelError(
            f"--kpi {kpi!r}: not a horizon figure{did_you_mean(kpi, names)}; choose one of {', '.join(names)}"
        )
    chosen = [dotted_key(k) for k in (keys or DEFAULT_KEYS)]
    known = flat_keys(base)
    rows = []
    for key in dict.fromkeys(chosen):
        if key not in known:
            raise ChannelError(f"--keys {key}: no such key in the scenario{did_you_mean(key, known)}")
        value = base.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ChannelError(f"--keys {key} = {value!r}: only numeric keys can swing")
        low, high, source = swing_range(full, key, spread)
        rows.append({"key": key, "base": float(value), "low": low, "high": high, "source": source})
    if not rows:
        raise ChannelError("a tornado needs at least one key (--keys)")
    # One design: the base, then each key's low and high, as dotted-key overrides of the base.
    points = [{}]
    for r in rows:
        points += [{r["key"]: _typed(base, r["key"], r["low"])}, {r["key"]: _typed(base, r["key"], r["high"])}]
    design = SweepDesign.from_points(base, _as_frame(points, [r["key"] for r in rows], base), replications, seed)
    with display(progress), phase("tornado", total=len(points) * int(replications)):
        table = sweep(design, workers=workers, dask=dask, progress=progress)
    means = table.groupby("point")[kpi].mean().to_numpy(np.float64)
    out = pd.DataFrame(rows)
    out["figure_base"] = means[0]
    out["figure_low"] = means[1::2]
    out["figure_high"] = means[2::2]
    out["swing"] = out["figure_high"] - out["figure_low"]
    out["size"] = out["swing"].abs()
    out = out.sort_values("size", ascending=False, kind="stable").reset_index(drop=True)
    return TornadoResult(base, kpi, int(replications), int(seed), out)


def _typed(base: Scenario, key: str, value: float) -> int | float:
    return round(value) if isinstance(base.get(key), int) else float(value)


def _as_frame(points: Iterable[dict], keys: list[str], base: Scenario) -> pd.DataFrame:
    """Points as a table with every key, a point's other keys at the base value."""
    filled = [{k: p.get(k, base.get(k)) for k in keys} for p in points]
    return pd.DataFrame(filled, columns=keys)
