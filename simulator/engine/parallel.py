"""Local parallelism shared by sweeps and sizing: worker counts and process pools."""

from __future__ import annotations

import ctypes
import ctypes.util
import multiprocessing
import os
import signal
import sys
import threading
import time
import warnings
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from typing import Any

#: Imported once by the fork server, so its workers start with the engine, sweeps and sizing loaded.
PRELOAD = ["simulator.engine.results", "simulator.sweeps.runner", "simulator.planning.sizing"]
PR_SET_PDEATHSIG = 1  # linux/prctl.h
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # malloc.h
WATCH_SECONDS = 0.5  # how often a worker checks that its parent is still there


def set_parent_death_signal() -> bool:
    """Ask Linux to SIGKILL this process when its parent dies; False where that is not available."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
    except (OSError, AttributeError):  # no usable libc: the watchdog thread still works
        return False


def reuse_freed_memory() -> bool:
    """Let glibc's malloc serve large arrays from memory this process freed, not from fresh pages.

    A kernel block allocates a few hundred MB of arrays. Above glibc's mmap threshold each is mapped
    afresh and every page faults in again: about 70,000 faults, 6% of a sizing search's CPU on the
    reference machine. Freed memory up to 512 MB is then kept for the next block. For the processes the
    engine owns (the CLI and its pool workers); False where glibc's ``mallopt`` is not there.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None)
        return bool(libc.mallopt(M_MMAP_THRESHOLD, 256 << 20) and libc.mallopt(M_TRIM_THRESHOLD, 512 << 20))
    except (OSError, AttributeError):  # another C library
        return False


def exit_with_parent(driver: int | None = None) -> None:
    """Make this worker process end when the process that started the pool ends, even by ``kill -9``.

    On Linux the kernel sends SIGKILL at the parent's death (``prctl(PR_SET_PDEATHSIG)``); everywhere,
    a daemon thread also exits the process once it has been re-parented (``os.getppid()`` changes) or
    once ``driver`` (the pool's owner) is gone. The last matters for a fork server's workers: their
    parent is the fork server, which lives on (they hold its liveness pipe) when the driver dies. A
    worker whose driver is already gone exits at once. Used as the initializer of every process pool
    (which also gives each worker one compiled thread and :func:`reuse_freed_memory`).
    """
    parent = os.getppid()
    set_parent_death_signal()
    one_thread_each()
    reuse_freed_memory()
    born = _started_at(driver) if driver is not None and driver != parent else None
    if os.getppid() != parent or parent == 1 or born == 0.0:  # gone before the signal was set
        os._exit(1)

    def gone() -> bool:
        return os.getppid() != parent or (born is not None and _started_at(driver) != born)

    def watch() -> None:
        while not gone():
            time.sleep(WATCH_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _started_at(pid: int) -> float:
    """When a live process started (0.0 when it is gone or a zombie): a pid reused later does not match."""
    import psutil

    try:
        process = psutil.Process(pid)
        return 0.0 if process.status() == psutil.STATUS_ZOMBIE else process.create_time()
    except psutil.Error:
        return 0.0


def one_thread_each() -> None:
    """A pool worker runs the compiled kernel on one thread: the pool's processes share the cores."""
    if "numba" in sys.modules:
        import numba

        numba.set_num_threads(1)
    else:
        os.environ["NUMBA_NUM_THREADS"] = "1"


def default_workers() -> int:
    """The cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def process_pool(workers: int) -> ProcessPoolExecutor:
    """A local process pool that starts fast and safely, whose workers never outlive this process.

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
    pool = ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=exit_with_parent, initargs=(os.getpid(),)
    )
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
