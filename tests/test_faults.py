"""Faults in sweeps: kills at random moments, dead workers, unwritable output, failing chunks.

A sweep killed at any moment (``kill -9`` or Ctrl-C) and resumed gives exactly
the table of an uninterrupted run; a dead worker (local pool or Dask) is
replaced and its chunks retried; an output folder that cannot be written gives
one clear line and keeps every chunk finished so far. ``tests/test_sweeps.py``
holds the first versions of these tests (one kill, one dead pool worker, a full
disk); these add random moments, the other failure points and Dask.
"""

from __future__ import annotations

import errno
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import psutil
import pytest
from conftest import BASELINE, ROOT, small_channel, small_grid

import simulator as sim
from simulator import ChannelError
from simulator.cli import main
from simulator.sweeps import SweepDesign, open_sweep, sweep
from simulator.sweeps import executors as executors_module
from simulator.sweeps import runner as runner_module
from simulator.sweeps import storage as storage_module
from simulator.sweeps.runner import SweepError
from simulator.sweeps.storage import SweepStore

SMALL = small_channel(horizon_months=12)


@pytest.fixture(scope="module")
def design():
    return small_grid()


@pytest.fixture(scope="module")
def reference(design, tmp_path_factory):
    return sweep(design, out=tmp_path_factory.mktemp("reference"), workers=1, chunk_size=5)


def _chunk_files(folder: Path) -> list[Path]:
    return sorted((folder / "kpis").glob("chunk-*.parquet")) if (folder / "kpis").is_dir() else []


def _assert_intact(folder: Path, reference: pd.DataFrame) -> pd.DataFrame | None:
    """Every finished chunk is a complete file, counted once, and holds exactly the reference's rows."""
    if not (folder / "manifest.json").exists():
        return None
    files = _chunk_files(folder)
    store = SweepStore(folder)
    assert len(store.finished()) == len(files)  # temporary files never count as chunks
    if not files:
        return None
    partial = open_sweep(folder)
    assert not partial.duplicated(["point", "replication"]).any()
    expected = partial[["point", "replication"]].merge(reference, on=["point", "replication"], how="left")
    pd.testing.assert_frame_equal(partial, expected[partial.columns], check_exact=True)
    return partial


# -- kill -9 and Ctrl-C at random moments ------------------------------------------------------------

SWEEP_ARGS = [
    "--set",
    "horizon_months=12",
    "--grid",
    "activation.window_months=3,6,9",
    "--grid",
    "recruitment.nurture_per_month=5,20",
    "-r",
    "60",
    "--seed",
    "5",
    "--chunk-size",
    "3",
    "--workers",
    "1",
    "--no-progress",
]


def _launch(out: Path, resume: bool) -> subprocess.Popen:
    args = [sys.executable, str(ROOT / "run.py"), "sweep", str(BASELINE), *SWEEP_ARGS, "--out", str(out)]
    return subprocess.Popen(
        [*args, "--resume"] if resume else args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )


@pytest.mark.slow
def test_sweep_killed_at_random_moments_resumes_to_the_identical_table(tmp_path):
    """Kill (SIGKILL, once SIGINT) a CLI sweep at several seeded random moments, resume each time: the
    chunks on disk are always complete and right, and the final table is the uninterrupted one."""
    scenario = sim.load_scenario(BASELINE, horizon_months=12)
    grid = {"activation.window_months": [3, 6, 9], "recruitment.nurture_per_month": [5, 20]}
    reference = sweep(scenario, grid=grid, replications=60, seed=5, out=tmp_path / "whole", workers=1)
    total = 6 * 20
    rng = random.Random(20240611)
    cut = tmp_path / "cut"
    # the first moment lands in start-up (imports, manifest), the others after a random number of chunks
    moments = [("seconds", rng.uniform(0.2, 2.5), signal.SIGKILL)]
    moments += [("chunks", rng.randint(1, 20), signal.SIGKILL) for _ in range(3)]
    moments.insert(rng.randint(2, len(moments)), ("chunks", rng.randint(1, 20), signal.SIGINT))
    log = []
    for i, (kind, when, sig) in enumerate(moments):
        before = len(_chunk_files(cut))
        proc = _launch(cut, resume=i > 0)
        started = time.time()
        while proc.poll() is None and time.time() - started < 120:
            if kind == "seconds" and time.time() - started >= when:
                break
            if kind == "chunks" and len(_chunk_files(cut)) >= before + when:
                time.sleep(rng.uniform(0.0, 0.05))
                break
            time.sleep(0.005)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=120)
        log.append((kind, when, sig.name, before, len(_chunk_files(cut)), proc.returncode))
        if proc.returncode == 0:
            break  # it finished before the moment came
        if sig == signal.SIGINT:
            assert proc.returncode == 130 and "interrupted" in err and len(err.strip().splitlines()) == 1, err
        else:
            assert proc.returncode == -signal.SIGKILL, err
        _assert_intact(cut, reference)
    print("moments (kind, when, signal, chunks before, chunks after, exit code):", *log, sep="\n  ")
    assert sum(code != 0 for *_, code in log) >= 3, log
    final = _launch(cut, resume=True)
    _, err = final.communicate(timeout=300)
    assert final.returncode == 0, err
    table = _assert_intact(cut, reference)
    assert len(_chunk_files(cut)) == total and table.attrs["complete"]
    pd.testing.assert_frame_equal(open_sweep(cut), reference, check_exact=True)


def test_stale_temporary_files_are_not_taken_for_chunks(design, reference, tmp_path):
    """A kill -9 during a write leaves a hidden temporary file; resume neither counts nor reads it."""
    folder = tmp_path / "stale"

    def stop_after_three(done: int, total: int) -> None:
        if done == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        sweep(design, out=folder, workers=1, chunk_size=5, on_chunk=stop_after_three)
    assert len(_chunk_files(folder)) == 3
    for name in ("chunk-000003-00000.parquet", "chunk-000001-00002.parquet"):  # one unfinished, one finished
        (folder / "kpis" / f".tmp-99999-{name}").write_bytes(b"PAR1 half written")
    _assert_intact(folder, reference)
    resumed = sweep(design, out=folder, workers=1, resume=True)
    assert resumed.attrs["run"]["resumed"] == 3
    pd.testing.assert_frame_equal(resumed, reference, check_exact=True)


# -- unwritable output --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["simulate", "{scn}", "-r", "2", "--out", "{blocked}"],
        ["sweep", "{scn}", "--grid", "activation.window_months=3,6", "-r", "2", "--workers", "1", "--out", "{blocked}"],
        ["capacity", "{scn}", "-r", "2", "--out", "{blocked}"],
        ["compare", "{scn}", "--set", "activation.window_months=3", "-r", "2", "--out", "{blocked}"],
        ["scorecard", "{scn}", "-r", "2", "--out", "{blocked}"],
        ["report", "{scn}", "-r", "2", "--out", "{blocked}/report.html"],
    ],
    ids=["simulate", "sweep", "capacity", "compare", "scorecard", "report"],
)
def test_an_output_folder_that_cannot_be_created_is_one_clear_line(argv, tmp_path, capsys):
    """--out below a regular file cannot be created: exit 2, one line naming the folder, nothing written."""
    scn = tmp_path / "small.yaml"
    scn.write_text(sim.load_scenario(SMALL).to_yaml())
    (tmp_path / "a_file").write_text("not a folder")
    blocked = tmp_path / "a_file" / "out"
    before = sorted(p.name for p in tmp_path.iterdir())
    code = main([a.format(scn=scn, blocked=blocked) for a in argv])
    err = capsys.readouterr().err
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "a_file" in lines[0] and "Traceback" not in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert (tmp_path / "a_file").read_text() == "not a folder"


@pytest.mark.skipif(os.geteuid() == 0, reason="permission bits do not stop root")
def test_a_read_only_output_folder_is_one_clear_line(tmp_path, capsys):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        code = main(["sweep", str(BASELINE), "--grid", "activation.window_months=3", "-r", "2", "--out", str(folder)])
    finally:
        folder.chmod(0o700)
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and "Permission denied" in err, err


def _fail_kpis_after(monkeypatch, n: int, exc: OSError, where: str) -> None:
    """Make the n-th kpis chunk write fail with ``exc``, either creating the temporary file or renaming it."""
    calls = {"n": 0}
    if where == "create":

        def opening(path, *args, **kwargs):
            if "kpis" in str(path) and Path(path).name.startswith(".tmp-"):
                calls["n"] += 1
                if calls["n"] == n:
                    raise exc
            return open(path, *args, **kwargs)

        monkeypatch.setattr(storage_module, "open", opening, raising=False)  # shadows the builtin there
    else:
        real_replace = os.replace

        def replace(src, dst, *args, **kwargs):
            if "kpis" in str(dst) and Path(dst).name.startswith("chunk-"):
                calls["n"] += 1
                if calls["n"] == n:
                    raise exc
            return real_replace(src, dst, *args, **kwargs)

        monkeypatch.setattr(storage_module.os, "replace", replace)


@pytest.mark.parametrize("where", ["create", "rename"])
@pytest.mark.parametrize(
    "exc",
    [OSError(errno.EACCES, "Permission denied"), OSError(errno.EROFS, "Read-only file system")],
    ids=["EACCES", "EROFS"],
)
def test_output_becoming_unwritable_mid_sweep_keeps_earlier_chunks(
    design, reference, tmp_path, monkeypatch, exc, where
):
    """The 4th chunk cannot be written (permission or read-only file system, at creation or rename):
    a clear ChannelError naming the cause and --resume; 3 chunks intact, no temporary file; resume finishes."""
    folder = tmp_path / "sweep"
    with monkeypatch.context() as patch:
        _fail_kpis_after(patch, 4, exc, where)
        with pytest.raises(ChannelError, match=rf"cannot write results to .*{exc.strerror}.*--resume"):
            sweep(design, out=folder, workers=1, chunk_size=5, monthly=True)
    assert len(_chunk_files(folder)) == 3
    assert not list(folder.rglob(".tmp*"))
    _assert_intact(folder, reference)
    resumed = sweep(design, out=folder, workers=1, resume=True, monthly=True)
    pd.testing.assert_frame_equal(resumed, reference, check_exact=True)


def test_output_becoming_unwritable_mid_sweep_through_the_command_line(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "sweep"
    argv = ["sweep", str(BASELINE), "--set", "horizon_months=6", "--grid", "activation.window_months=3,6"]
    argv += ["-r", "10", "--chunk-size", "2", "--workers", "1", "--no-progress", "--out", str(folder)]
    with monkeypatch.context() as patch:
        _fail_kpis_after(patch, 6, OSError(errno.EACCES, "Permission denied"), "create")
        code = main(argv)
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert "Permission denied" in err and "--resume" in err
    assert len(_chunk_files(folder)) == 5
    assert main([*argv, "--resume"]) == 0
    assert len(open_sweep(folder)) == 20


# -- failing chunks, damaged files --------------------------------------------------------------------------


def test_a_chunk_that_fails_on_its_own_stops_the_sweep_with_its_reason(design, reference, tmp_path, monkeypatch):
    """A chunk raising an error of its own is not retried: the sweep stops naming the chunk and the error."""
    real = runner_module.run_chunk

    def failing(task):
        if task.point == 2:
            raise ValueError("bad luck in point 2")
        return real(task)

    folder = tmp_path / "fails"
    with monkeypatch.context() as patch:
        patch.setattr(runner_module, "run_chunk", failing)
        with pytest.raises(SweepError, match=r"point 2, replications \d+-\d+ failed: ValueError: bad luck in point 2"):
            sweep(design, out=folder, workers=1, chunk_size=5)
    assert len(_chunk_files(folder)) == 6  # points 0 and 1, three chunks each
    _assert_intact(folder, reference)
    pd.testing.assert_frame_equal(sweep(design, out=folder, workers=1, resume=True), reference, check_exact=True)


def test_a_damaged_manifest_is_one_clear_line(design, reference, tmp_path):
    folder = tmp_path / "manifest"
    sweep(design, out=folder, workers=1, chunk_size=5)
    (folder / "manifest.json").write_text('{"defin')
    with pytest.raises(ChannelError, match="not a readable sweep manifest"):
        sweep(design, out=folder, workers=1, resume=True)


def test_a_damaged_chunk_file_is_one_clear_line(design, reference, tmp_path):
    """A chunk file that is not Parquet is named in one clear error, by open_sweep and by --resume (it was
    an internal ArrowInvalid error, and resume counted the file as finished)."""
    folder = tmp_path / "damaged"
    sweep(design, out=folder, workers=1, chunk_size=5)
    victim = _chunk_files(folder)[1]
    victim.write_bytes(b"not parquet")
    with pytest.raises(ChannelError, match=victim.name):
        open_sweep(folder)
    with pytest.raises(ChannelError, match=victim.name):
        sweep(design, out=folder, workers=1, chunk_size=5, resume=True)
    victim.unlink()  # as the message says: delete it and resume
    resumed = sweep(design, out=folder, workers=1, chunk_size=5, resume=True)
    assert resumed.attrs["run"]["ran"] == 1
    pd.testing.assert_frame_equal(resumed, reference, check_exact=True)


# -- dead workers ---------------------------------------------------------------------------------------


@pytest.fixture
def recorded_pools(monkeypatch):
    """Every process pool the sweep starts (the first, and the ones replacing broken pools)."""
    pools = []
    real = executors_module.process_pool

    def recording(n):
        pool = real(n)
        pools.append(pool)
        return pool

    monkeypatch.setattr(executors_module, "process_pool", recording)
    return pools


def test_a_fork_pool_forks_its_workers_before_any_other_thread_starts():
    """Forking is only safe while Python runs one thread: a fork pool has all its workers at creation, so a
    progress bar's thread started afterwards cannot be running when they fork."""
    from simulator.engine.parallel import process_pool

    pool = process_pool(2)
    try:
        if pool._mp_context.get_start_method() != "fork":
            pytest.skip("this process already runs other threads: the pool starts from the fork server")
        assert len(pool._processes) == 2
        ticker = threading.Thread(target=time.sleep, args=(0.5,))
        ticker.start()
        assert pool.submit(os.getpid).result() in pool._processes
        assert len(pool._processes) == 2  # no fork while the other thread ran
        ticker.join()
    finally:
        pool.shutdown()


def _kill_a_worker_of(pool) -> None:
    pid = next(iter(pool._processes))  # the pool's worker processes, by pid
    os.kill(pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def slow_design():
    """Chunks of about a second each, so a worker can be killed while it is busy."""
    heavy = small_channel(horizon_months=240, market={"prospects": 3000}, recruitment={"nurture_per_month": 40})
    return SweepDesign.grid(heavy, {"activation.window_months": [3, 9]}, replications=36, seed=3)


@pytest.fixture(scope="module")
def slow_reference(slow_design, tmp_path_factory):
    return sweep(slow_design, out=tmp_path_factory.mktemp("slow"), workers=1, chunk_size=12)


@pytest.mark.slow
def test_a_pool_worker_killed_mid_chunk_is_replaced_and_its_chunk_retried(
    slow_design, slow_reference, tmp_path, recorded_pools
):
    """While both workers are busy with their second chunks, one is killed: the pool is replaced, the lost
    chunks rerun, and the table equals the serial one."""
    killed = []

    def kill_soon(done: int, total: int) -> None:
        if done == 1 and not killed:
            killed.append(True)
            threading.Timer(0.4, _kill_a_worker_of, args=(recorded_pools[-1],)).start()

    table = sweep(slow_design, out=tmp_path / "pool", workers=2, chunk_size=12, on_chunk=kill_soon)
    assert killed and len(recorded_pools) >= 2 and table.attrs["run"]["retried"] >= 1
    pd.testing.assert_frame_equal(table, slow_reference, check_exact=True)


def test_a_pool_worker_dying_between_chunks_is_retried(design, reference, tmp_path, recorded_pools):
    """The worker dies while the driver is writing a chunk, so the pool is already broken when the next chunk
    is submitted (submit itself raises BrokenProcessPool): the chunks are requeued on a fresh pool."""
    killed = []

    def kill_between_chunks(done: int, total: int) -> None:
        if done == 2 and not killed:
            killed.append(True)
            pool = recorded_pools[-1]
            _kill_a_worker_of(pool)
            deadline = time.time() + 30
            while not pool._broken and time.time() < deadline:  # the pool notices the death
                time.sleep(0.01)

    table = sweep(design, out=tmp_path / "between", workers=2, chunk_size=1, on_chunk=kill_between_chunks)
    assert killed and len(recorded_pools) >= 2 and table.attrs["run"]["retried"] >= 1
    pd.testing.assert_frame_equal(table, reference, check_exact=True)


@pytest.mark.slow
def test_a_killed_dask_worker_is_replaced_and_the_table_is_unchanged(
    slow_design, slow_reference, tmp_path, monkeypatch
):
    """A LocalCluster worker process killed mid-chunk: its nanny restarts it, Dask reruns the lost task and
    the table equals the serial one."""
    clients: list = []
    real_start = executors_module.Workers._start_dask

    def start_and_record(self):
        real_start(self)
        clients.append(self._client)

    monkeypatch.setattr(executors_module.Workers, "_start_dask", start_and_record)
    victims: list[int] = []

    def kill_soon(done: int, total: int) -> None:
        if done == 1 and not victims:
            pid = sorted(clients[0].run(os.getpid).values())[0]
            victims.append(pid)
            threading.Timer(0.4, os.kill, args=(pid, signal.SIGKILL)).start()

    table = sweep(slow_design, out=tmp_path / "dask", dask="local", workers=2, chunk_size=12, on_chunk=kill_soon)
    assert victims and not psutil.pid_exists(victims[0])
    pd.testing.assert_frame_equal(table, slow_reference, check_exact=True)
