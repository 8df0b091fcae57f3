"""Local parallelism shared by sweeps and sizing: worker counts and process pools."""

from __future__ import annotations

import multiprocessing
import os
import threading
import warnings
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from typing import Any

#: Imported once by the fork server, so its workers start with the engine, sweeps and sizing loaded.
PRELOAD = ["simulator.engine.results", "simulator.sweeps.runner", "simulator.planning.sizing"]


def default_workers() -> int:
    """The cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def process_pool(workers: int) -> ProcessPoolExecutor:
    """A local process pool that starts fast and safely.

    Forking is the cheapest start (the engine is already imported) and is safe
    while this process runs a single thread. Otherwise (a progress bar, a
    notebook kernel) workers fork from a fork server that has imported the
    engine once; where neither exists they are spawned.
    """
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        context = multiprocessing.get_context("fork")
    elif "forkserver" in methods:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(PRELOAD)
    else:
        context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context)
    if context.get_start_method() == "fork":
        # A fork pool forks its workers at the first submit: do it now, while Python runs one thread
        # here (a progress bar started next would make the fork unsafe). Python 3.12+ still warns,
        # counting the native threads of BLAS and Arrow: those are idle and reset themselves in the child.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", r"This process .* is multi-threaded", DeprecationWarning)
            pool.submit(os.getpid)
    return pool


class SerialExecutor(Executor):
    """Runs each task at submit time, in this process (one worker)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as exc:  # noqa: BLE001 - handed to the caller through the future, as a pool would
            future.set_exception(exc)
        return future
