"""Progress bars (issue 13): one mechanism for sweep, size, compare, report and tornado.

The bar counts model runs (one scenario, one replication) where the work is handed out: a finished
task in ``execute()``, a simulated month in ``simulate()``. These tests check its counts against the
work done exactly, that it never changes a number or a file, that it draws on a terminal only, and
that ``--no-progress`` silences it there.
"""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import ROOT, small_channel

import simulator as sim
from simulator import progress
from simulator.planning import compare, size_recruitment
from simulator.sweeps import SweepDesign, sweep
from simulator.sweeps.execution import execute
from simulator.sweeps.executors import Workers


def _lines() -> list:
    """The lines (rich tasks) of the display open here."""
    shown = progress._active()
    assert shown is not None, "no display open"
    return list(shown.bar.tasks)


# -- counts --------------------------------------------------------------------------------------


def test_a_sweep_on_one_worker_counts_every_run_once(capsys):
    """On one worker the chunks run in this process, through simulate(), which counts its own months:
    execute() mutes that, so the line reads exactly points x replications, not twice that."""
    design = SweepDesign.grid(small_channel(horizon_months=12), {"activation.window_months": [3, 6, 9]}, 7, seed=2)
    with progress.display(True):
        sweep(design, workers=1, chunk_size=3)
        (line,) = _lines()
    assert (line.description, line.completed, line.total) == ("sweep", 21, 21)
    assert "21/21" in capsys.readouterr().err


def test_a_resumed_sweep_starts_from_the_runs_already_on_disk(tmp_path):
    design = SweepDesign.grid(small_channel(horizon_months=12), {"activation.window_months": [3, 6]}, 6, seed=2)
    sweep(design, out=tmp_path, workers=1, chunk_size=2, progress=False)
    manifest = tmp_path / "manifest.json"
    assert manifest.exists()
    with progress.display(True):
        table = sweep(design, out=tmp_path, workers=1, chunk_size=2, resume=True)
        (line,) = _lines()
    assert table.attrs["run"]["resumed"] == 6 and table.attrs["run"]["ran"] == 0
    assert (line.completed, line.total) == (12, 12)  # every run was on disk: nothing ran, nothing counted twice


def test_execute_advances_the_open_line_by_each_finished_task_runs():
    tasks = [3, 5, 11, 2]
    got = {}
    with progress.display(True), Workers(1, None) as pool, progress.phase("work", total=sum(tasks)):
        execute(abs, tasks, pool, got.__setitem__, runs=lambda i: tasks[i])
        (line,) = _lines()
    assert got == {0: 3, 1: 5, 2: 11, 3: 2}
    assert (line.completed, line.total) == (21, 21)


def test_compare_fills_one_line_with_both_runs_and_its_numbers_do_not_change():
    a = small_channel()
    b = small_channel(activation={"window_months": 9})
    quiet = compare(a, b, replications=30, seed=4)
    with progress.display(True):
        shown = compare(a, b, replications=30, seed=4)
        (line,) = _lines()
    assert (line.description, line.completed, line.total) == ("compare A and B", 60, 60)
    pd.testing.assert_frame_equal(quiet.differences, shown.differences)
    pd.testing.assert_frame_equal(quiet.paired, shown.paired)


def test_sizing_counts_the_replications_of_every_value_it_tried():
    """The total is found as the search goes: at the end it is the sum of each value's replications."""
    scenario = small_channel()
    quiet = size_recruitment(scenario, replications=40, seed=1, workers=1, max_replications=80)
    with progress.display(True):
        shown = size_recruitment(scenario, replications=40, seed=1, workers=1, max_replications=80)
        (line,) = _lines()
    runs = int(shown.curve["replications"].sum())
    assert runs >= 40 * len(shown.curve)
    assert (line.description, line.completed, line.total) == ("size", runs, runs)
    assert line.fields["note"] == f"{len(shown.curve)} values tried"
    assert shown.value == quiet.value
    pd.testing.assert_frame_equal(quiet.curve, shown.curve)


def test_simulate_counts_each_block_of_replications_once():
    """Every block's replications are counted as it finishes, ending exactly at the replications."""
    from simulator import simulate
    from simulator.engine import results

    seen = []
    scn = sim.load_scenario(small_channel(horizon_months=12))
    with progress.display(True), progress.phase("simulate", total=37) as line:
        real = line.advance
        line.advance = lambda runs=1: (seen.append(runs), real(runs))  # type: ignore[method-assign]
        original = results.block_size
        results.block_size = lambda scenario, engine=None: 10  # four blocks: 10, 10, 10 and 7 replications
        try:
            simulate(scn, replications=37, seed=0)
        finally:
            results.block_size = original
    assert seen == [10, 10, 10, 7]


# -- silence -------------------------------------------------------------------------------------


def test_no_display_when_stderr_is_not_a_terminal_nor_when_muted(capsys):
    design = SweepDesign.grid(small_channel(horizon_months=12), {"activation.window_months": [3, 6]}, 4, seed=2)
    with progress.display(None):  # pytest's stderr is not a terminal
        assert progress._active() is None and progress.current() is progress.SILENT
        sweep(design, workers=1)
    with progress.display(False):  # --no-progress wins over a library call's own progress=True
        sweep(design, workers=1, progress=True)
        assert progress._active() is None
    assert capsys.readouterr().err == ""


def test_a_forked_worker_never_draws_the_parents_bar(monkeypatch):
    with progress.display(True), progress.phase("work", total=5):
        assert progress.current() is not progress.SILENT
        monkeypatch.setattr(progress.os, "getpid", lambda: -1)  # as a process forked from here sees it
        assert progress.current() is progress.SILENT
        monkeypatch.undo()


def test_a_refusal_before_any_work_leaves_stderr_empty(capsys):
    with pytest.raises(ValueError), progress.display(True):
        raise ValueError("refused")
    assert capsys.readouterr().err == ""


# -- the commands, on a terminal and off it -------------------------------------------------------

_TIMING = re.compile(r"\d+(\.\d+)? s\b|\(\d+\.\d+ chunks/s\)")  # the lines that report seconds


def _run(argv: list[str], cwd: Path, terminal: bool) -> tuple[str, bytes, str]:
    """Run ``run.py ARGV`` with stdout to a file and stderr to a pseudo-terminal (or a pipe): returns
    stdout, what reached stderr, and stdout without its timings."""
    out = cwd / "stdout.txt"
    command = [sys.executable, str(ROOT / "run.py"), *argv]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "160"}
    with open(out, "w") as stdout:
        if terminal:
            master, slave = pty.openpty()
            proc = subprocess.Popen(command, stdout=stdout, stderr=slave, stdin=subprocess.DEVNULL, cwd=cwd, env=env)
            os.close(slave)
            seen = b""
            while True:
                try:
                    chunk = os.read(master, 1 << 16)
                except OSError:  # the child closed the terminal
                    break
                if not chunk:
                    break
                seen += chunk
            os.close(master)
            assert proc.wait(timeout=300) == 0, seen.decode(errors="replace")
        else:
            proc = subprocess.run(command, stdout=stdout, stderr=subprocess.PIPE, cwd=cwd, env=env, timeout=300)
            assert proc.returncode == 0, proc.stderr.decode(errors="replace")
            seen = proc.stderr
    text = out.read_text()
    return text, seen, _TIMING.sub("<time>", text)


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()} if folder.exists() else {}


@pytest.fixture(scope="module")
def scenario_files(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("scenarios")
    a, b = folder / "a.yaml", folder / "b.yaml"
    a.write_text(yaml.safe_dump(small_channel()))
    b.write_text(yaml.safe_dump(small_channel(activation={"window_months": 9}, name="b")))
    return a, b


COMMANDS = {
    "size": (["size", "{a}", "-r", "30", "--max-replications", "60", "-w", "1"], "size"),
    "compare": (["compare", "{a}", "{b}", "-r", "30", "--out", "{out}"], "compare A and B"),
    "report": (["report", "{a}", "-r", "20", "--compare", "{b}", "--out", "{out}/report.html"], "compare A and B"),
    "tornado": (
        ["tornado", "{a}", "-r", "10", "-w", "1", "--keys", "activation.window_months", "--out", "{out}"],
        "tornado",
    ),
    "sweep": (
        ["sweep", "{a}", "--grid", "activation.window_months=3,6", "-r", "10", "-w", "1", "--out", "{out}/sweep"],
        "sweep",
    ),
}


@pytest.mark.parametrize("command", list(COMMANDS))
def test_the_bar_shows_on_a_terminal_only_and_changes_no_output(command, scenario_files, tmp_path):
    template, label = COMMANDS[command]
    results = {}
    for mode in ("terminal", "pipe", "muted"):
        folder = tmp_path / mode
        folder.mkdir()
        argv = [a.format(a=scenario_files[0], b=scenario_files[1], out="out") for a in template]
        if mode == "muted":
            argv.append("--no-progress")
        _, err, masked = _run(argv, folder, terminal=mode != "pipe")
        files = _files(folder / "out")
        results[mode] = (masked, err, files)
    shown = results["terminal"][1].decode()
    assert label in shown and re.search(r"(\d+)/\1 runs", re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", shown)), shown
    assert results["pipe"][1] == b"" and results["muted"][1] == b""  # nothing on stderr off a terminal or muted
    assert results["terminal"][0] == results["pipe"][0] == results["muted"][0]  # stdout, timings aside
    if command != "sweep":  # a sweep's Parquet files record when they were written
        assert results["terminal"][2] == results["pipe"][2] == results["muted"][2]
    else:
        tables = [pd.read_parquet(Path(tmp_path / m / "out" / "sweep" / "kpis")) for m in results]
        for t in tables[1:]:
            pd.testing.assert_frame_equal(tables[0], t)
    if command in ("compare", "tornado", "report"):
        assert results["pipe"][2], "the command wrote no files"


def test_every_command_of_issue_13_takes_no_progress():
    from simulator.cli.main import build_parser

    parser = build_parser()
    for command in ("size", "compare", "report", "tornado", "sweep", "sensitivity"):
        args = parser.parse_args([command, "x.yaml", "--no-progress"])
        assert args.no_progress is True


def test_numbers_of_a_sweep_do_not_depend_on_the_bar():
    design = SweepDesign.grid(small_channel(horizon_months=12), {"activation.window_months": [3, 6]}, 8, seed=5)
    quiet = sweep(design, workers=1, progress=False)
    with progress.display(True):
        shown = sweep(design, workers=1)
    np.testing.assert_array_equal(quiet["revenue_last_12m"].to_numpy(), shown["revenue_last_12m"].to_numpy())
