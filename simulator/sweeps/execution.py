"""The one executor path: tasks out to a :class:`Workers` executor, results back as they finish.

Sweeps, sizing and optimisation all run their work through :func:`execute`: a bounded window of
tasks in flight (twice the workers, so memory stays flat), each result handed to the caller as soon
as it arrives, and a task whose worker dies (a killed process, a lost Dask worker) put back in the
queue on a fresh pool and retried up to ``MAX_ATTEMPTS`` times. A task that fails for a reason of its
own stops the run with that reason. Results never depend on which worker ran a task: every task
carries its replications, and replication ``r`` draws from its own stream.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from .. import progress
from ..errors import ChannelError
from .executors import Workers

MAX_ATTEMPTS = 3


class ExecutionError(ChannelError):
    """Work that cannot finish (a task keeps failing, or its workers keep dying)."""


class LazyTasks(Sequence):
    """Tasks made when they are submitted (a chunk's scenario is a few kB: a million of them are not kept)."""

    def __init__(self, count: int, make: Callable[[int], Any]) -> None:
        self._count, self._make = count, make

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, i: int) -> Any:  # type: ignore[override]
        if not 0 <= i < self._count:
            raise IndexError(i)
        return self._make(i)


def worker_lost(exc: BaseException) -> bool:
    """A dead local process, or a Dask worker that died while running the task."""
    return isinstance(exc, BrokenProcessPool) or type(exc).__name__ in ("KilledWorker", "CommClosedError")


def execute(
    fn: Callable[[Any], Any],
    tasks: Sequence[Any],
    workers: Workers,
    on_result: Callable[[int, Any], None],
    describe: Callable[[int], str] = lambda i: f"task {i}",
    keep_note: str = "",
    runs: Callable[[int], int] = lambda i: 1,
) -> int:
    """Run ``fn(task)`` for every task on ``workers``; call ``on_result(index, result)`` as each finishes.

    Results arrive in completion order, not task order: callers key them by index. Returns how many
    times a task was retried after its worker died. ``describe(i)`` names task ``i`` in messages;
    ``keep_note`` says what survives a failure (for example "finished chunks are kept"). Each finished
    task advances the open progress phase by ``runs(i)`` (its model runs); a task run in this process
    counts nothing itself, so no run is counted twice.
    """
    queue = deque(range(len(tasks)))
    attempts: Counter[int] = Counter()
    in_flight: dict[Future, int] = {}
    window = max(2, 2 * workers.parallelism)
    finished = 0
    note = f"; {keep_note}" if keep_note else ""

    def lost(i: int, exc: BaseException) -> None:
        attempts[i] += 1
        if attempts[i] >= MAX_ATTEMPTS:
            # Workers that die before any task finishes usually could not start at all.
            hint = (
                "; if this runs from a script, call it under `if __name__ == '__main__':` "
                "(worker processes import the main module)"
                if finished == 0
                else ""
            )
            raise ExecutionError(f"{describe(i)}: its worker died {attempts[i]} times{note}{hint}") from exc
        queue.appendleft(i)

    def pool_broke(exc: BaseException) -> None:
        """Every task of a broken process pool is lost with it: requeue them all on a fresh pool."""
        for future, i in in_flight.items():
            future.cancel()
            lost(i, exc)
        in_flight.clear()
        workers.renew()

    try:
        while queue or in_flight:
            while queue and len(in_flight) < window:
                i = queue.popleft()
                try:
                    with progress.muted():  # a serial executor runs the task here, at submit
                        future = workers.executor.submit(fn, tasks[i])
                except BrokenProcessPool as exc:  # the pool broke since the last wait
                    queue.appendleft(i)
                    pool_broke(exc)
                    continue
                in_flight[future] = i
            done, _ = wait(list(in_flight), return_when=FIRST_COMPLETED)
            broken: BaseException | None = None
            for future in done:
                i = in_flight.pop(future)
                try:
                    result = future.result()
                except Exception as exc:  # sorted here: a lost worker, or a real failure
                    if not worker_lost(exc):
                        raise ExecutionError(f"{describe(i)} failed: {type(exc).__name__}: {exc}{note}") from exc
                    lost(i, exc)
                    if isinstance(exc, BrokenProcessPool):
                        broken = exc
                    continue
                on_result(i, result)
                finished += 1
                progress.current().advance(runs(i))
            if broken is not None:
                pool_broke(broken)
    finally:
        for future in in_flight:
            future.cancel()
    return sum(attempts.values())
