"""Sweeps: designs, identical tables on every executor, kill and resume, common random numbers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, small_channel, small_grid

import simulator as sim
from simulator import ChannelError, ScenarioError
from simulator.sweeps import SweepDesign, open_sweep, summarize_sweep, sweep, sweep_monthly
from simulator.sweeps import storage as storage_module

SMALL = small_channel(horizon_months=12)


def test_grid_is_a_full_factorial():
    d = SweepDesign.grid(SMALL, {"activation.window_months": [3, 6], "recruitment.win_share": [0.1, 0.2, 0.3]})
    assert len(d.points) == 6 and d.keys == ["activation.window_months", "recruitment.win_share"]
    assert d.scenario(5).activation.window_months == 6 and d.scenario(5).recruitment.win_share == 0.3


@pytest.mark.parametrize("sampler", ["latin_hypercube", "sobol"])
def test_sampled_designs_are_in_range_rounded_and_reproducible(sampler):
    ranges = {"recruitment.nurture_per_month": (5, 25), "recruitment.win_share": (0.1, 0.4)}
    a = getattr(SweepDesign, sampler)(SMALL, ranges, points=16, seed=3)
    b = getattr(SweepDesign, sampler)(SMALL, ranges, points=16, seed=3)
    pd.testing.assert_frame_equal(a.points, b.points)
    n = a.points["recruitment.nurture_per_month"]
    assert n.dtype == np.int64 and n.between(5, 25).all() and n.nunique() > 5
    assert a.points["recruitment.win_share"].between(0.1, 0.4).all()


def test_csv_points(tmp_path):
    path = tmp_path / "points.csv"
    path.write_text("activation.window_months,recruitment.win_share\n3,0.1\n9,0.35\n")
    d = SweepDesign.from_csv(SMALL, path, replications=2)
    assert d.points.to_dict("records") == [
        {"activation.window_months": 3, "recruitment.win_share": 0.1},
        {"activation.window_months": 9, "recruitment.win_share": 0.35},
    ]


def test_bad_designs_are_refused_before_running(tmp_path):
    with pytest.raises(ScenarioError, match=r"point 1 .*win_share = 1.5"):
        SweepDesign.grid(SMALL, {"recruitment.win_share": [0.2, 1.5]})
    with pytest.raises(ScenarioError, match="no such key"):
        SweepDesign.grid(SMALL, {"recruitment.win_shar": [0.2]})
    with pytest.raises(ChannelError, match="low < high"):
        SweepDesign.latin_hypercube(SMALL, {"recruitment.win_share": (0.4, 0.1)}, points=4)
    with pytest.raises(ChannelError, match="not a number"):
        SweepDesign.sobol(SMALL, {"name": (0, 1)}, points=4)


@pytest.fixture(scope="module")
def design():
    return small_grid()


@pytest.fixture(scope="module")
def serial_table(design, tmp_path_factory):
    return sweep(design, out=tmp_path_factory.mktemp("serial"), workers=1, chunk_size=5, monthly=True)


def test_table_shape_and_contents(design, serial_table):
    t = serial_table
    assert len(t) == 4 * 12
    assert list(t.columns[:4]) == ["point", "replication", "activation.window_months", "recruitment.nurture_per_month"]
    assert not t.duplicated(["point", "replication"]).any()
    for col in (
        "revenue_last_12m",
        "contribution_last_12m",
        "cost_last_12m",
        "active",
        "signings",
        "activations",
        "top20_share",
        "gini",
        "plan_met",
    ):
        assert col in t.columns
    # each point's rows are exactly simulate() of that point's scenario
    direct = sim.simulate(design.scenario(3), replications=12, seed=7, partners=False).kpis
    mine = t[t.point == 3].reset_index(drop=True)
    assert np.array_equal(mine.revenue_last_12m.to_numpy(), direct.revenue_last_12m.to_numpy())
    monthly = sweep_monthly(t.attrs["folder"])
    assert len(monthly) == 4 * 12 * 13


def test_same_table_serial_processes_and_dask(design, serial_table, tmp_path):
    pooled = sweep(design, out=tmp_path / "pool", workers=2, chunk_size=3)
    pd.testing.assert_frame_equal(serial_table, pooled, check_exact=True)
    dasked = sweep(design, out=tmp_path / "dask", dask="local", workers=2, chunk_size=4)
    pd.testing.assert_frame_equal(serial_table, dasked, check_exact=True)


def test_common_random_numbers_across_points(tmp_path):
    t = sweep(SMALL, grid={"plan.confidence": [0.8, 0.95]}, replications=6, seed=2, out=tmp_path / "crn", workers=1)
    a = t[t.point == 0].drop(columns=["point", "plan.confidence"]).reset_index(drop=True)
    b = t[t.point == 1].drop(columns=["point", "plan.confidence"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b, check_exact=True)


def test_summary_per_point(serial_table):
    s = summarize_sweep(serial_table)
    assert len(s) == 4 and (s.replications == 12).all()
    assert (s.revenue_last_12m_p10 <= s.revenue_last_12m_p90).all()
    assert ((s.p_plan_met_low <= s.p_plan_met) & (s.p_plan_met <= s.p_plan_met_high)).all()
    s2 = summarize_sweep(serial_table, target=0.0)
    assert (s2.p_plan_met == 1.0).all()


def test_existing_folder_needs_resume_and_same_definition(design, serial_table):
    folder = serial_table.attrs["folder"]
    with pytest.raises(ChannelError, match="--resume"):
        sweep(design, out=folder, workers=1)
    again = sweep(design, out=folder, workers=1, resume=True, monthly=True)
    assert again.attrs["run"]["ran"] == 0
    pd.testing.assert_frame_equal(again, serial_table, check_exact=True)
    other = small_grid(replications=13)
    with pytest.raises(ChannelError, match=r"defined differently .*replications"):
        sweep(other, out=folder, workers=1, resume=True, monthly=True)


def test_full_disk_keeps_finished_chunks_and_resumes(design, serial_table, tmp_path, monkeypatch):
    real = storage_module.atomic_write_bytes
    calls = {"n": 0}

    def flaky(path, data):
        if "kpis" in str(path):
            calls["n"] += 1
            if calls["n"] == 4:
                raise OSError(28, "No space left on device")
        return real(path, data)

    monkeypatch.setattr(storage_module, "atomic_write_bytes", flaky)
    folder = tmp_path / "disk"
    with pytest.raises(ChannelError, match=r"No space left on device.*--resume"):
        sweep(design, out=folder, workers=1, chunk_size=5, monthly=True)
    kept = sorted((folder / "kpis").glob("chunk-*.parquet"))
    assert len(kept) == 3 and not list((folder / "kpis").glob(".tmp*"))
    monkeypatch.setattr(storage_module, "atomic_write_bytes", real)
    resumed = sweep(design, out=folder, workers=1, resume=True, monthly=True)
    pd.testing.assert_frame_equal(resumed, serial_table, check_exact=True)


def _sweep_args(out):
    return [
        sys.executable,
        str(ROOT / "run.py"),
        "sweep",
        str(ROOT / "scenarios" / "baseline.yaml"),
        "--set",
        "horizon_months=12",
        "--grid",
        "activation.window_months=3,6,9",
        "--grid",
        "recruitment.nurture_per_month=5,20",
        "-r",
        "40",
        "--seed",
        "5",
        "--chunk-size",
        "4",
        "--workers",
        "1",
        "--no-progress",
        "--out",
        str(out),
    ]


def test_kill_nine_then_resume_gives_the_same_table(tmp_path):
    whole = tmp_path / "whole"
    assert subprocess.run(_sweep_args(whole), capture_output=True, timeout=600).returncode == 0
    cut = tmp_path / "cut"
    proc = subprocess.Popen(_sweep_args(cut), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and len(list((cut / "kpis").glob("chunk-*"))) < 8:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = len(list((cut / "kpis").glob("chunk-*")))
    assert 8 <= done < 60, done
    resumed = subprocess.run([*_sweep_args(cut), "--resume"], capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    a, b = open_sweep(whole), open_sweep(cut)
    assert not b.duplicated(["point", "replication"]).any()
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    refuse = subprocess.run(
        [*_sweep_args(cut)[:-2], "--seed", "6", "--out", str(cut), "--resume"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert refuse.returncode == 2 and "defined differently" in refuse.stderr
    assert len(refuse.stderr.strip().splitlines()) == 1


def test_a_killed_worker_is_retried(design, serial_table, tmp_path):
    import threading

    import psutil

    results = {}

    def run():
        results["t"] = sweep(design, out=tmp_path / "kill", workers=2, chunk_size=1)

    thread = threading.Thread(target=run)
    thread.start()
    me = psutil.Process(os.getpid())
    victim = None
    deadline = time.time() + 60
    while victim is None and time.time() < deadline:
        # pool workers are children of the fork server, itself a child of this process
        for child in me.children(recursive=True):
            if child.ppid() != os.getpid() and len(list((tmp_path / "kill" / "kpis").glob("chunk-*"))) >= 2:
                victim = child
                break
        time.sleep(0.02)
    assert victim is not None
    victim.kill()
    thread.join(timeout=300)
    t = results["t"]
    assert t.attrs["run"]["retried"] >= 1
    pd.testing.assert_frame_equal(t, serial_table, check_exact=True)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ([], "exactly one of --grid"),
        (["--lhs", "recruitment.win_share=0.1:0.4"], "needs --points"),
        (["--grid", "recruitment.win_share"], "expected key=v1,v2"),
        (["--grid", "recruitment.win_share=0.1,7"], "win_share = 7"),
        (["--lhs", "recruitment.win_share=0.4-0.1", "--points", "4"], "expected key=low:high"),
        (["--grid", "recruitment.win_share=0.1", "--workers", "0"], "must be >= 1"),
        (["--grid", "recruitment.win_share=0.1", "--csv", "x.csv"], "exactly one of"),
    ],
)
def test_sweep_command_errors(tmp_path, args, needle):
    from conftest import BASELINE, run_cli

    out = tmp_path / "out"
    proc = run_cli("sweep", str(BASELINE), *args, "--out", str(out))
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], proc.stderr
    assert not out.exists()


def test_a_sweep_without_out_leaves_no_folder_behind(tmp_path, monkeypatch):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    t = sweep(SMALL, grid={"activation.window_months": [3, 6]}, replications=3, seed=1, workers=1)
    assert len(t) == 6 and t.attrs["folder"] is None
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ChannelError, match="give out="):
        sweep(SMALL, grid={"activation.window_months": [3]}, replications=2, workers=1, monthly=True)
