"""No process outlives the sweep that started it (issue 16, class 9).

``kill -9`` of a sweep's driver used to leave its pool workers alive for good. Every pool worker now sets
a parent-death signal (Linux) and runs a watchdog thread that exits once it is re-parented, so the workers
of a killed driver go within a second or two; ``--dask local`` workers (nannies) follow their driver too,
by dask's own parent watch. Workers started from a fork server watch the driver itself. A sweep never
starts more workers than it has chunks to run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest
from conftest import BASELINE, ROOT, small_grid

from simulator.engine import parallel
from simulator.sweeps import executors as executors_module
from simulator.sweeps import sweep

GONE_WITHIN = 5.0  # seconds: the watchdog polls every 0.5 s, the death signal is immediate


def _wait_for(condition, timeout: float, step: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    return condition()


def _alive(processes: list[psutil.Process]) -> list[psutil.Process]:
    out = []
    for p in processes:
        try:
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                out.append(p)
        except psutil.NoSuchProcess:
            pass
    return out


def _kill_driver_once_it_has_workers(argv: list[str], tmp_path: Path, workers: int) -> list[psutil.Process]:
    """Start a CLI sweep, wait until its workers run chunks, kill -9 it; return its descendants."""
    out = tmp_path / "sweep"
    driver = subprocess.Popen(
        [sys.executable, str(ROOT / "run.py"), "sweep", str(BASELINE), *argv, "--no-progress", "--out", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        parent = psutil.Process(driver.pid)

        def running() -> list[psutil.Process] | None:
            kids = parent.children(recursive=True)
            started = (out / "kpis").is_dir() and any((out / "kpis").glob("chunk-*"))
            return kids if len(kids) >= workers and started else None

        kids = _wait_for(running, 90)
        assert kids, "the sweep never started its workers"
        kids = parent.children(recursive=True)
    finally:
        os.kill(driver.pid, signal.SIGKILL)
        driver.wait()
    return kids


@pytest.mark.parametrize(
    "how, workers",
    [(["--workers", "2"], 2), pytest.param(["--dask", "local"], 2, marks=pytest.mark.slow)],
    ids=["process pool", "dask local"],
)
def test_kill_nine_of_the_driver_leaves_no_worker_behind(how, workers, tmp_path):
    argv = ["--set", "horizon_months=24", "--grid", "activation.window_months=3,6,9,12", "-r", "400"]
    kids = _kill_driver_once_it_has_workers([*argv, "--chunk-size", "5", *how], tmp_path, workers)
    survivors = _wait_for(lambda: not _alive(kids), GONE_WITHIN) or _alive(kids)
    for p in _alive(kids):  # never leave them to the next test, whatever happened
        p.kill()
    assert survivors is True, f"still alive {GONE_WITHIN} s after the driver died: {survivors}"


def _pdeathsig() -> int:
    import ctypes

    value = ctypes.c_int()
    ctypes.CDLL(None).prctl(2, ctypes.byref(value), 0, 0, 0)  # PR_GET_PDEATHSIG
    return value.value


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux only")
def test_pool_workers_carry_the_parent_death_signal():
    pool = parallel.process_pool(2)
    try:
        assert pool.submit(_pdeathsig).result(timeout=60) == signal.SIGKILL
    finally:
        pool.shutdown()


def test_the_watchdog_alone_ends_a_worker_whose_parent_died(tmp_path):
    """Where no death signal exists: an intermediate process starts a pool with the signal disabled and is
    killed; its worker notices the new parent and exits."""
    script = tmp_path / "middle.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import os, sys, time
            sys.path.insert(0, {str(ROOT)!r})
            from simulator.engine import parallel
            parallel.set_parent_death_signal = lambda: False
            pool = parallel.process_pool(1)
            print(pool.submit(os.getpid).result(), flush=True)
            time.sleep(600)
            """
        )
    )
    middle = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    worker = psutil.Process(int(middle.stdout.readline()))
    assert worker.ppid() == middle.pid
    os.kill(middle.pid, signal.SIGKILL)
    middle.wait()
    gone = _wait_for(lambda: not _alive([worker]), GONE_WITHIN)
    if not gone:
        worker.kill()
    assert gone


def test_fork_server_workers_and_the_fork_server_go_with_the_driver(tmp_path):
    """A driver that already runs threads (a notebook, a progress bar) starts workers from a fork server:
    their parent is the fork server, which outlived the driver (the workers hold its liveness pipe). The
    workers watch the driver itself, so all of them, then the fork server, go when it is killed."""
    script = tmp_path / "driver.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import os, sys, threading, time
            sys.path.insert(0, {str(ROOT)!r})
            if __name__ == "__main__":
                threading.Thread(target=time.sleep, args=(600,), daemon=True).start()
                from simulator.engine import parallel
                pool = parallel.process_pool(2)
                method = pool._mp_context.get_start_method()
                print(method, pool.submit(os.getpid).result(), flush=True)
                time.sleep(600)
            """
        )
    )
    driver = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    method, worker = driver.stdout.readline().split()
    kids = psutil.Process(driver.pid).children(recursive=True)
    assert method == "forkserver" and psutil.Process(int(worker)).ppid() != driver.pid
    os.kill(driver.pid, signal.SIGKILL)
    driver.wait()
    gone = _wait_for(lambda: not _alive(kids), GONE_WITHIN)
    for p in _alive(kids):
        p.kill()
    assert gone, _alive(kids)


@pytest.fixture
def started_pools(monkeypatch):
    sizes: list[int] = []
    real = executors_module.process_pool

    def recording(n: int):
        sizes.append(n)
        return real(n)

    monkeypatch.setattr(executors_module, "process_pool", recording)
    return sizes


@pytest.mark.parametrize(
    "replications, chunk_size, workers, pools",
    [(4, 4, 40, []), (4, 2, 40, [2]), (12, 4, 2, [2]), (12, 12, 3, [])],
    ids=["1 chunk, 40 workers", "2 chunks, 40 workers", "3 chunks, 2 workers", "1 chunk, 3 workers"],
)
def test_never_more_workers_than_chunks(replications, chunk_size, workers, pools, started_pools, tmp_path):
    design = small_grid(replications)
    design = type(design)(design.base, design.points.iloc[:1], design.replications, design.seed, "points")
    table = sweep(design, out=tmp_path / "s", workers=workers, chunk_size=chunk_size)
    assert started_pools == pools and len(table) == replications
    assert table.attrs["run"]["workers"] == (f"{pools[0]} local processes" if pools else "this process")


def test_a_resume_with_one_chunk_left_starts_no_pool(started_pools, tmp_path):
    design = small_grid(8)
    folder = tmp_path / "r"

    def stop(done: int, total: int) -> None:
        if done == total - 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        sweep(design, out=folder, workers=1, chunk_size=4, on_chunk=stop)
    resumed = sweep(design, out=folder, workers=8, resume=True)
    assert started_pools == [] and resumed.attrs["run"]["ran"] == 1 and resumed.attrs["complete"]
