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
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..engine.results import simulate
from ..errors import ChannelError
from ..scenario import load_scenario
from .design import SweepDesign, point_scenario
from .executors import Workers
from .storage import Chunk, SweepStore, chunks_of

MAX_ATTEMPTS = 3


class SweepError(ChannelError):
    """A sweep that cannot finish (a chunk keeps failing)."""


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


def _worker_lost(exc: BaseException) -> bool:
    # A dead local process, or a Dask worker that died while running the task.
    return isinstance(exc, BrokenProcessPool) or type(exc).__name__ in ("KilledWorker", "CommClosedError")


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
    queue = deque(c for c in every if (c.point, c.block) not in finished)
    total, already = len(every), len(every) - len(queue)
    done = already
    attempts: Counter[Chunk] = Counter()
    in_flight: dict[Future, Chunk] = {}
    window = max(2, 2 * workers.parallelism)
    started = time.perf_counter()

    def lost(chunk: Chunk, exc: BaseException) -> None:
        """A chunk whose worker died goes back to the queue, up to MAX_ATTEMPTS times."""
        attempts[chunk] += 1
        if attempts[chunk] >= MAX_ATTEMPTS:
            # Workers that die before any chunk finishes usually could not start at all.
            hint = (
                "; if this runs from a script, call it under `if __name__ == '__main__':` "
                "(worker processes import the main module)"
                if done == already
                else ""
            )
            raise SweepError(
                f"point {chunk.point}, replications {chunk.first}-{chunk.stop - 1}: its worker died "
                f"{attempts[chunk]} times; finished chunks are kept (rerun with --resume){hint}"
            ) from exc
        queue.appendleft(chunk)

    def pool_broke(exc: BaseException) -> None:
        """Every task of a broken process pool is lost with it: requeue them all on a fresh pool."""
        for future, chunk in in_flight.items():
            future.cancel()
            lost(chunk, exc)
        in_flight.clear()
        workers.renew()

    if on_chunk is not None:
        on_chunk(done, total)
    try:
        while queue or in_flight:
            while queue and len(in_flight) < window:
                chunk = queue.popleft()
                try:
                    future = workers.executor.submit(run_chunk, chunk_task(design, chunk, monthly))
                except BrokenProcessPool as exc:  # the pool broke since the last wait
                    queue.appendleft(chunk)
                    pool_broke(exc)
                    continue
                in_flight[future] = chunk
            finished_now, _ = wait(list(in_flight), return_when=FIRST_COMPLETED)
            broken: BaseException | None = None
            for future in finished_now:
                chunk = in_flight.pop(future)
                try:
                    kpis, series = future.result()
                except Exception as exc:  # sorted here: a lost worker, or a real failure
                    if not _worker_lost(exc):
                        raise SweepError(
                            f"point {chunk.point}, replications {chunk.first}-{chunk.stop - 1} failed: "
                            f"{type(exc).__name__}: {exc}"
                        ) from exc
                    lost(chunk, exc)
                    if isinstance(exc, BrokenProcessPool):
                        broken = exc
                    continue
                store.write(chunk, kpis, series)
                done += 1
                if on_chunk is not None:
                    on_chunk(done, total)
            if broken is not None:
                pool_broke(broken)
    finally:
        for future in in_flight:
            future.cancel()
    return {
        "chunks": total,
        "resumed": already,
        "ran": done - already,
        "retried": sum(attempts.values()),
        "seconds": time.perf_counter() - started,
    }
