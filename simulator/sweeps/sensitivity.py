"""Global sensitivity analysis (SALib): which scenario keys move a figure, and how much.

Design (SALib's sample of the key ranges) -> runs (a sweep, replications
averaged per point on common random numbers) -> analysis (Sobol first-order
and total indices with confidence intervals, or Morris mu* and sigma) -> a
table and a bar chart. Each step hands the next a table, so each can be used
alone; ``model=`` replaces the simulation by any function of the scenario
(useful to check the machinery on a function with known indices).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ChannelError, did_you_mean
from ..scenario import Scenario
from ..scenario.loading import ScenarioLike
from ..validation import POSITIVE_COUNT, SEED, WORKERS, Whole, validate_arguments
from ..vocabulary import kpi_columns
from .design import SweepDesign, _ranges, is_integer_key, point_scenario

METHODS = ("sobol", "morris")


@dataclass
class SensitivityResult:
    """Indices per key (``table``), the evaluated points (``samples``) and how they were made."""

    method: str
    kpi: str
    table: pd.DataFrame
    samples: pd.DataFrame
    ranges: dict[str, tuple[float, float]]

    def plot(self):  # noqa: ANN201 - matplotlib Figure
        """Bar chart of the indices (see :func:`simulator.reports.charts.sensitivity_chart`)."""
        from ..reports.charts import sensitivity_chart

        return sensitivity_chart(self)


def problem(ranges: Mapping[str, tuple[float, float]]) -> dict[str, Any]:
    return {"num_vars": len(ranges), "names": list(ranges), "bounds": [list(b) for b in ranges.values()]}


def sample(
    base: Scenario, ranges: Mapping[str, tuple[float, float]], method: str, samples: int, seed: int
) -> np.ndarray:
    """SALib's sample of the ranges: Saltelli/Sobol (N * (D + 2) rows) or Morris trajectories."""
    if method == "sobol":
        from SALib.sample import sobol as sobol_sample

        if samples < 2 or samples & (samples - 1):
            raise ChannelError(f"--samples {samples}: Sobol analysis needs a power of two (e.g. 64, 128)")
        return sobol_sample.sample(problem(ranges), samples, calc_second_order=False, seed=seed)
    from SALib.sample import morris as morris_sample

    if samples < 2:
        raise ChannelError(f"--samples {samples}: Morris analysis needs at least 2 trajectories")
    return morris_sample.sample(problem(ranges), samples, num_levels=4, seed=seed)


def analyze(
    ranges: Mapping[str, tuple[float, float]], method: str, x: np.ndarray, y: np.ndarray, seed: int
) -> pd.DataFrame:
    """SALib analysis of outputs ``y`` at inputs ``x``: one row per key."""
    if not np.isfinite(y).all():
        raise ChannelError("the figure is not defined at some sampled points (NaN); choose another --kpi")
    if method == "sobol":
        from SALib.analyze import sobol as sobol_analyze

        res = sobol_analyze.analyze(problem(ranges), y, calc_second_order=False, seed=seed)
        cols = ("S1", "S1_conf", "ST", "ST_conf")
    else:
        from SALib.analyze import morris as morris_analyze

        res = morris_analyze.analyze(problem(ranges), x, y, num_levels=4, seed=seed)
        cols = ("mu_star", "mu_star_conf", "sigma", "mu")
    table = pd.DataFrame({c: np.asarray(res[c], dtype=float) for c in cols}, index=pd.Index(list(ranges), name="key"))
    return table


@validate_arguments(replications=POSITIVE_COUNT, seed=SEED, workers=WORKERS, samples=Whole(1, optional=True))
def sensitivity(
    scenario: ScenarioLike,
    ranges: Mapping[str, tuple[float, float]],
    *,
    kpi: str = "revenue_last_12m",
    method: str = "sobol",
    samples: int | None = None,
    replications: int = 20,
    seed: int = 0,
    workers: int | None = None,
    dask: str | None = None,
    out: str | Path | None = None,
    resume: bool = False,
    progress: bool | None = None,
    model: Callable[[Scenario], float] | None = None,
) -> SensitivityResult:
    """Sobol (S1, ST with confidence intervals) or Morris (mu*, sigma) indices of ``kpi``.

    ``ranges`` maps dotted keys to ``(low, high)``. Each sampled point is run
    for ``replications`` replications on common random numbers and the
    figure is averaged over them (``kpi`` is a column of the sweep table, e.g.
    ``revenue_last_12m``, ``contribution_last_12m``, ``top20_share``,
    ``activations``). ``samples`` is the Sobol base sample N (a power of two,
    default 64; N * (D + 2) points) or the number of Morris trajectories
    (default 10; r * (D + 1) points). ``model(scenario) -> float`` replaces
    the simulation.
    """
    if method not in METHODS:
        raise ChannelError(f"--method {method!r}: use one of {', '.join(METHODS)}")
    base, bounds = _ranges(scenario, ranges, 1)
    if model is None:  # the figure must be one the sweep reports: checked before any run
        figures = [*kpi_columns(), *(["plan_met"] if base.plan.revenue_target is not None else [])]
        if kpi not in figures:
            raise ChannelError(
                f"--kpi {kpi!r}: not a figure of the sweep{did_you_mean(str(kpi), figures)}; choose one of "
                f"{', '.join(figures)}"
            )
    n = samples if samples is not None else (64 if method == "sobol" else 10)
    x = sample(base, bounds, method, int(n), seed)
    points = _points(base, bounds, x)
    if model is not None:
        y = np.array([float(model(point_scenario(base, row))) for row in points.to_dict("records")])
    else:
        from .api import sweep

        design = SweepDesign(
            base, points, int(replications), int(seed), f"{method}-sensitivity", {k: list(v) for k, v in bounds.items()}
        )
        table = sweep(design, out=out, workers=workers, dask=dask, resume=resume, progress=progress)
        y = table.groupby("point")[kpi].mean().astype(float).to_numpy()
    result_table = analyze(bounds, method, x, y, seed)
    samples_table = points.copy()
    samples_table[kpi] = y
    return SensitivityResult(method, kpi, result_table, samples_table, bounds)


def _points(base: Scenario, bounds: Mapping[str, tuple[float, float]], x: np.ndarray) -> pd.DataFrame:
    columns = {}
    for j, key in enumerate(bounds):
        col = x[:, j]
        columns[key] = np.round(col).astype("int64") if is_integer_key(base, key) else col
    table = pd.DataFrame(columns)
    table.index = pd.RangeIndex(len(table), name="point")
    return table
