"""Running a sweep: chunks out to an executor, results streamed to disk.

The driver keeps a bounded window of chunks in flight (twice the workers),
writes each finished chunk as soon as it arrives and forgets it, so memory
does not grow with the size of the sweep. A chunk whose worker dies is put
back in the queue (a broken process pool is replaced) and retried up to
``MAX_ATTEMPTS`` times; a chunk that fails for a reason of its own stops the
sweep with that reason. Finished chunks are never lost: on ``--resume`` they
are skipped.

Workers receive a :class:`ChunkTask`: the point's scenario as plain data,
the seed, the replication range and the point's values. They never touch
the output folder: results come back to the driver, which writes them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..engine.results import simulate
from ..progress import phase
from ..scenario import load_scenario
from .design import SweepDesign, point_scenario
from .execution import ExecutionError, LazyTasks, execute
from .executors import Workers
from .storage import Chunk, SweepStore, chunks_of

SweepError = ExecutionError  # a sweep that cannot finish (a chunk keeps failing)


@dataclass(frozen=True)
class ChunkTask:
    """What a worker receives: everything needed to run one chunk, nothing more."""

    point: int
    first: int
    stop: int
    seed: int
    scenario: dict[str, Any]  # the point's full scenario, as plain data
    values: dict[str, Any]  # the point's values of the varied keys
    monthly: bool


def run_chunk(task: ChunkTask) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Run one chunk (in a worker): horizon figures per replication, and optionally the monthly series."""
    scenario = load_scenario(task.scenario)
    result = simulate(scenario, replications=range(task.first, task.stop), seed=task.seed, partners=False)
    kpis = _keyed(result.kpis, task)
    monthly = _keyed(result.monthly, task) if task.monthly else None
    return kpis, monthly


def _keyed(frame: pd.DataFrame, task: ChunkTask) -> pd.DataFrame:
    front = pd.DataFrame({"point": task.point}, index=frame.index)
    for key, value in task.values.items():
        front[key] = value
    out = pd.concat([front, frame], axis=1)
    cols = ["point", "replication", *task.values, *[c for c in frame.columns if c != "replication"]]
    return out[cols]


def chunk_task(design: SweepDesign, chunk: Chunk, monthly: bool) -> ChunkTask:
    values = design.values(chunk.point)
    return ChunkTask(
        point=chunk.point,
        first=chunk.first,
        stop=chunk.stop,
        seed=design.seed,
        scenario=point_scenario(design.base, values).to_dict(),
        values=values,
        monthly=monthly,
    )


def run_sweep(
    design: SweepDesign,
    store: SweepStore,
    chunk_size: int,
    workers: Workers,
    monthly: bool = False,
    on_chunk: Callable[[int, int], None] | None = None,
    finished: set[tuple[int, int]] | None = None,
) -> dict[str, Any]:
    """Run every chunk not yet on disk; return counts and timings.

    ``on_chunk(done, total)`` is called after each chunk is written (progress); ``finished`` is
    ``store.finished(check=True)`` when the caller has it already.
    """
    every = chunks_of(design, chunk_size)
    finished = store.finished(check=True) if finished is None else finished
    todo = [c for c in every if (c.point, c.block) not in finished]
    total, already = len(every), len(every) - len(todo)
    done = already
    started = time.perf_counter()

    def write(i: int, result: tuple[pd.DataFrame, pd.DataFrame | None]) -> None:
        nonlocal done
        store.write(todo[i], *result)
        done += 1
        if on_chunk is not None:
            on_chunk(done, total)

    if on_chunk is not None:
        on_chunk(done, total)
    runs = len(design.points) * design.replications
    with phase("sweep", total=runs, done=runs - sum(c.stop - c.first for c in todo)):
        retried = execute(
            run_chunk,
            LazyTasks(len(todo), lambda i: chunk_task(design, todo[i], monthly)),
            workers,
            write,
            describe=lambda i: f"point {todo[i].point}, replications {todo[i].first}-{todo[i].stop - 1}",
            keep_note="finished chunks are kept (rerun with --resume)",
            runs=lambda i: todo[i].stop - todo[i].first,
        )
    return {
        "chunks": total,
        "resumed": already,
        "ran": done - already,
        "retried": retried,
        "seconds": time.perf_counter() - started,
    }
