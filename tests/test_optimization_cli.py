"""Program optimisation from the command line: killed and resumed, on every executor, and in the report."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

import pandas as pd
import pytest
from conftest import ROOT
from test_optimization import BUDGET, TOY, H

import simulator as sim

SPACE = {"a": (0.0, 2.0), "c": (0.0, 2.0), "d": (0.0, 2.0)}


def stored_trials(db) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as con:
            return int(con.execute("select count(*) from trials where state = 'COMPLETE'").fetchone()[0])
    except sqlite3.Error:  # the tables are not made yet
        return 0


def cli(*args: str) -> list[str]:
    return [sys.executable, str(ROOT / "run.py"), "optimize", *args]


@pytest.mark.slow
def test_killed_search_resumes_without_losing_or_repeating_a_trial(tmp_path):
    path = tmp_path / "toy.yaml"
    path.write_text(sim.load_scenario(TOY).to_yaml())
    out = tmp_path / "run"
    levers = ",".join(f"{k}={lo}:{hi}" for k, (lo, hi) in SPACE.items())
    args = [str(path), "--levers", levers, "--budget", str(25_000 * H), "--trials", "32", "-r", "2", "-s", "4"]
    args += ["--workers", "1", "--out", str(out), "--quiet"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(cli(*args), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while stored_trials(out / "study.db") < 8 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert proc.poll() is None, "the search finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    stored = stored_trials(out / "study.db")
    assert 8 <= stored < 32 and not (out / "winner.yaml").exists()
    done = subprocess.run(cli(*args, "--resume"), env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    trials = pd.read_parquet(out / "trials.parquet")
    assert len(trials) == 32 and not trials.duplicated(["batch", "slot"]).any()
    assert sorted(trials["trial"]) == list(range(32))  # trial numbers: none lost, none repeated
    whole = sim.optimize(path, SPACE, 25_000 * H, trials=32, replications=2, seed=4, workers=1, out=tmp_path / "w")
    cols = [c for c in whole.trials.columns]
    pd.testing.assert_frame_equal(trials[cols], whole.trials[cols])
    assert (out / "winner.yaml").read_text().split("extends:")[1] == (tmp_path / "w" / "winner.yaml").read_text().split(
        "extends:"
    )[1]


def test_same_answer_with_one_or_two_workers():
    one = sim.optimize(TOY, SPACE, 25_000 * H, trials=8, replications=3, top=3, workers=1)
    two = sim.optimize(TOY, SPACE, 25_000 * H, trials=8, replications=3, top=3, workers=2)
    pd.testing.assert_frame_equal(one.trials, two.trials)
    pd.testing.assert_frame_equal(one.reevaluation.table, two.reevaluation.table)


@pytest.mark.slow
def test_same_answer_on_dask():
    one = sim.optimize(TOY, SPACE, 25_000 * H, trials=8, replications=3, top=3, workers=1)
    dask = sim.optimize(TOY, SPACE, 25_000 * H, trials=8, replications=3, top=3, dask="local", workers=2)
    pd.testing.assert_frame_equal(one.trials, dask.trials)
    pd.testing.assert_frame_equal(one.reevaluation.table, dask.reevaluation.table)


def test_cli_prints_the_answer_and_the_report_shows_it(tmp_path):
    path = tmp_path / "toy.yaml"
    path.write_text(sim.load_scenario(TOY).to_yaml())
    out = tmp_path / "o"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    args = [str(path), "--levers", "a=1:1,b=1:1,c=1:1,d=1:1", "--budget", str(BUDGET), "--trials", "16", "-r", "2"]
    done = subprocess.run(
        cli(*args, "--workers", "1", "--out", str(out), "-q"), env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert "best program: a x1.00; c x1.00" in done.stdout and "ROI 1.77" in done.stdout
    report = tmp_path / "r.html"
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "run.py"),
            "report",
            str(path),
            "-r",
            "2",
            "--optimize",
            str(out),
            "--out",
            str(report),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    html = report.read_text()
    assert "Program optimisation" in html and "a x1.00; c x1.00" in html and "data:image/png;base64" in html


def test_report_refuses_a_folder_without_results_before_running(tmp_path, capsys):
    from simulator.cli.main import main

    path = tmp_path / "toy.yaml"
    path.write_text(sim.load_scenario(TOY).to_yaml())
    out = tmp_path / "r.html"
    assert main(["report", str(path), "--optimize", str(tmp_path / "none"), "--out", str(out)]) == 2
    assert "not an optimisation folder" in capsys.readouterr().err and not out.exists()
