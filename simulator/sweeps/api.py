"""The sweep API: design -> runs (streamed to disk) -> tidy table -> per-point summary."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ..engine.parallel import default_workers
from ..engine.population import Layout
from ..errors import ChannelError
from ..progress import display
from ..scenario.loading import ScenarioLike
from ..stats import QUANTILES, wilson_interval
from ..validation import FLAG, WORKERS, Whole, validate_arguments
from .design import SweepDesign
from .executors import Workers
from .runner import run_sweep
from .storage import ChunkPlan, SweepStore

CHUNK_ELEMENTS = 1 << 17  # replications x working columns per chunk
MIN_CHUNK = 10  # replications: below this, per-chunk costs dominate
SUMMARY_FIGURES = ("revenue_last_12m", "contribution_last_12m", "cost_last_12m")


def default_chunk_size(design: SweepDesign, parallelism: int = 1) -> int:
    """Replications per chunk: enough work to amortise a task, small enough to resume finely and to
    keep every worker busy to the end (about eight chunks per worker at least)."""
    width = max(Layout.of(design.base).width, 1)
    balanced = -(-design.replications * len(design.points) // (8 * max(parallelism, 1)))
    return int(max(1, min(CHUNK_ELEMENTS // width, 200, design.replications, max(balanced, MIN_CHUNK))))


def make_design(
    scenario: SweepDesign | ScenarioLike,
    *,
    grid: Mapping[str, Sequence[Any]] | None = None,
    lhs: Mapping[str, tuple[float, float]] | None = None,
    sobol: Mapping[str, tuple[float, float]] | None = None,
    csv: str | Path | None = None,
    points: int | None = None,
    replications: int = 100,
    seed: int = 0,
) -> SweepDesign:
    """A :class:`SweepDesign` from keyword arguments (exactly one of grid, lhs, sobol, csv)."""
    if isinstance(scenario, SweepDesign):
        return scenario
    given = [name for name, v in (("grid", grid), ("lhs", lhs), ("sobol", sobol), ("csv", csv)) if v]
    if len(given) != 1:
        raise ChannelError("give exactly one of --grid, --lhs, --sobol or --csv to define the points")
    if grid:
        return SweepDesign.grid(scenario, grid, replications, seed)
    if csv:
        return SweepDesign.from_csv(scenario, csv, replications, seed)
    if points is None:
        raise ChannelError(f"--{given[0]} needs --points N (how many points to sample)")
    if lhs:
        return SweepDesign.latin_hypercube(scenario, lhs, points, replications, seed)
    return SweepDesign.sobol(scenario, sobol or {}, points, replications, seed)


@validate_arguments(workers=WORKERS, resume=FLAG, monthly=FLAG, chunk_size=Whole(1, optional=True))
def sweep(
    scenario: SweepDesign | ScenarioLike,
    *,
    grid: Mapping[str, Sequence[Any]] | None = None,
    lhs: Mapping[str, tuple[float, float]] | None = None,
    sobol: Mapping[str, tuple[float, float]] | None = None,
    csv: str | Path | None = None,
    points: int | None = None,
    replications: int = 100,
    seed: int = 0,
    out: str | Path | None = None,
    workers: int | None = None,
    dask: str | None = None,
    resume: bool = False,
    monthly: bool = False,
    chunk_size: int | None = None,
    progress: bool | None = None,
    on_chunk: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """Run a sweep and return its table: one row per point and replication.

    The design is a :class:`SweepDesign`, or a scenario plus exactly one of
    ``grid={key: [values]}``, ``lhs={key: (low, high)}`` / ``sobol=...``
    with ``points=N``, or ``csv=path``. Runs go to ``out`` as a Parquet dataset
    (with ``out=None``, to a temporary folder removed once the table is
    read); ``resume=True`` finishes an interrupted sweep in the same folder. ``workers`` local processes
    (default: all cores; 1 runs here) or ``dask="local"`` / a scheduler
    address. The table's ``attrs`` hold the folder, the varied keys and run
    statistics; :func:`summarize_sweep` condenses it per point. ``progress`` shows a bar on stderr
    (None: when stderr is a terminal; see :mod:`simulator.progress`); ``on_chunk(done, total)`` is
    called as each chunk is written.
    """
    design = make_design(
        scenario, grid=grid, lhs=lhs, sobol=sobol, csv=csv, points=points, replications=replications, seed=seed
    )
    if out is None:
        if monthly:
            raise ChannelError("monthly series are kept on disk: give out=<folder> to keep them")
        with tempfile.TemporaryDirectory(prefix="sweep-") as tmp:
            table = sweep(
                design, out=tmp, workers=workers, dask=dask, chunk_size=chunk_size, progress=progress, on_chunk=on_chunk
            )
        table.attrs["folder"] = None  # the runs lived in a temporary folder, now removed
        return table
    folder = Path(out)
    hint = 8 if dask else (default_workers() if workers is None else int(workers))
    size = chunk_size if chunk_size is not None else default_chunk_size(design, hint)
    if isinstance(size, bool) or int(size) < 1:
        raise ChannelError(f"--chunk-size {size}: must be >= 1")
    left, proven = _chunks_left(folder, design, int(size), resume)  # never more workers than chunks left
    # The executor first: an unusable --dask address fails before anything is written.
    with Workers(workers, dask, tasks=left) as pool, display(progress):
        store, size = SweepStore.prepare(folder, design, int(size), monthly, resume)
        finished = store.finished(check=True) if proven is None else proven
        stats = run_sweep(design, store, size, pool, monthly, on_chunk, finished)
        stats["workers"] = pool.description
    table = open_sweep(folder)
    table.attrs["run"] = stats
    return table


def _chunks_left(
    folder: Path, design: SweepDesign, chunk_size: int, resume: bool
) -> tuple[int, set[tuple[int, int]] | None]:
    """How many chunks will run, and on a resume the proven finished ones, read without writing anything.

    A folder that cannot be resumed counts as all chunks left: ``SweepStore.prepare`` refuses it next.
    """
    store = SweepStore(folder)
    if resume and store.manifest_path.exists():
        try:
            finished = store.finished(check=True)
            return len(store.plan) - len(finished), finished
        except ChannelError:
            pass
    return len(ChunkPlan(len(design.points), design.replications, chunk_size)), None


def open_sweep(folder: str | Path) -> pd.DataFrame:
    """The table of a sweep on disk (its proven chunks), sorted by point and replication.

    Every chunk is checked against the sweep's journal (content hash, point, replications), so each
    (point, replication) appears at most once and only as it was written; a damaged, replaced or foreign
    file is refused with its name. A sweep still running or interrupted opens with
    ``attrs["complete"] = False`` and ``attrs["missing"]``: the ``(point, first, stop)`` replication
    ranges not yet on disk.
    """
    store = _opened(folder)
    table, missing = store.read("kpis")
    table.attrs.update(
        folder=str(store.folder),
        keys=list(store.manifest()["definition"]["keys"]),
        complete=not missing,
        missing=[(c.point, c.first, c.stop) for c in missing],
    )
    return table


def sweep_monthly(folder: str | Path) -> pd.DataFrame:
    """The monthly series of a sweep run with ``monthly=True`` (proven chunks only, as :func:`open_sweep`)."""
    store = _opened(folder)
    if not store.manifest()["monthly"]:
        raise ChannelError(f"{folder}: this sweep kept no monthly series (run it with --monthly)")
    table, missing = store.read("monthly")
    table.attrs.update(complete=not missing, missing=[(c.point, c.first, c.stop) for c in missing])
    return table


def _opened(folder: str | Path) -> SweepStore:
    store = SweepStore(folder)
    if not store.manifest_path.exists():
        raise ChannelError(f"{folder}: not a sweep folder (no manifest.json)")
    store.check_points()
    return store


def summarize_sweep(
    table: pd.DataFrame,
    figures: Iterable[str] = SUMMARY_FIGURES,
    target: float | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Per point: the varied values, mean and P10/P50/P90 of each figure, and P(plan met).

    P(plan met) uses the table's ``plan_met`` column, or ``revenue_last_12m >=
    target`` when a target is given, with a Wilson ``confidence`` interval.
    """
    keys = list(table.attrs.get("keys") or [c for c in table.columns if "." in c])
    grouped = table.groupby("point", sort=True)
    out = grouped[keys].first() if keys else pd.DataFrame(index=grouped.size().index)
    out["replications"] = grouped.size()
    for fig in figures:
        if fig not in table.columns:
            raise ChannelError(f"no figure {fig!r} in the sweep table")
        g = grouped[fig]
        out[f"{fig}_mean"] = g.mean()
        for name, q in QUANTILES.items():
            out[f"{fig}_{name}"] = g.quantile(q)
    met = None
    if target is not None:
        met = table["revenue_last_12m"] >= target
    elif "plan_met" in table.columns:
        met = table["plan_met"].astype(bool)
    if met is not None:
        k = met.groupby(table["point"]).sum()
        n = out["replications"]
        out["p_plan_met"] = k / n
        low, high = wilson_interval(k.to_numpy(), n.to_numpy(), confidence)
        out["p_plan_met_low"], out["p_plan_met_high"] = low, high
    return out
