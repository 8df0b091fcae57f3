"""The planning commands as a user drives them: capacity, size, compare, scorecard.

Most run in this process through ``main`` (what ``run.py`` calls) to keep the
suite fast; one runs ``python run.py`` end to end.
"""

from __future__ import annotations

import subprocess

import pandas as pd
import pytest
import yaml
from conftest import run_cli, small_channel

from simulator.cli import main


@pytest.fixture
def cli(capsys):
    def run(*args: str) -> subprocess.CompletedProcess:
        code = main([str(a) for a in args])
        out, err = capsys.readouterr()
        return subprocess.CompletedProcess(list(args), code, out, err)

    return run


@pytest.fixture
def small_file(tmp_path):
    path = tmp_path / "small.yaml"
    path.write_text(yaml.safe_dump(small_channel(plan={"revenue_target": 9_000_000})))
    return path


def test_capacity_prints_bands_and_the_gap(small_file, tmp_path):
    out = tmp_path / "cap"
    # end to end, as a user runs it
    proc = run_cli("capacity", str(small_file), "-r", "20", "--seed", "2", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "recruitment off" in proc.stdout and "Growth a year" in proc.stdout
    assert "the plan (9m USD in the last 12 months) is met in" in proc.stdout
    traj = pd.read_csv(out / "capacity_trajectory.csv")
    assert set(traj.figure) >= {"revenue", "revenue_t12m"} and traj.month.max() == 24


def test_size_prints_the_curve_the_answer_and_what_it_implies(cli, small_file):
    proc = cli("size", str(small_file), "-r", "40", "--seed", "1", "--workers", "1")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "P(plan met)" in out and "95% interval" in out and "answer" in out
    assert "prospects a month; the plan is then met in" in " ".join(out.split()) and "partners a year" in out
    assert "Recruitment cost a year" in out


def test_size_unreachable_is_said_plainly(cli, small_file):
    proc = cli("size", str(small_file), "-r", "10", "--target", "5bn", "--workers", "1")
    assert proc.returncode == 0, proc.stderr
    assert "The plan is not reachable: the best value tried" in " ".join(proc.stdout.split())
    assert "meets it in 0.0% of futures" in " ".join(proc.stdout.split())
    assert "limit: the market" in " ".join(proc.stdout.split())


def test_size_another_decision(cli, small_file):
    proc = cli(
        "size",
        str(small_file),
        "-r",
        "20",
        "--decision",
        "activation.window_months",
        "--target",
        "8m",
        "--workers",
        "1",
    )
    assert proc.returncode == 0, proc.stderr
    assert "activation.window_months" in proc.stdout


def test_compare_one_file_with_set_and_two_files(cli, small_file, tmp_path):
    proc = cli("compare", str(small_file), "--set", "activation.window_months=9", "-r", "10")
    assert proc.returncode == 0, proc.stderr
    assert "activation.window_months" in proc.stdout and "P(B better)" in proc.stdout
    other = tmp_path / "other.yaml"
    data = small_channel(plan={"revenue_target": 9_000_000})
    data["program"] = {"levers": [{"use": "presales_support"}]}
    other.write_text(yaml.safe_dump(data))
    out = tmp_path / "cmp"
    proc = cli("compare", str(small_file), str(other), "-r", "10", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "lever:presales_support" in proc.stdout
    diff = pd.read_csv(out / "differences.csv", index_col="figure")
    assert diff.loc["activations", "mean_diff"] > 0
    changes = pd.read_csv(out / "changes.csv")
    assert changes.kind.tolist() == ["lever added"]


def test_compare_same_file_is_all_zero(cli, small_file, tmp_path):
    out = tmp_path / "same"
    proc = cli("compare", str(small_file), str(small_file), "-r", "5", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "nothing: A and B are the same scenario" in proc.stdout
    diff = pd.read_csv(out / "differences.csv", index_col="figure")
    assert (diff.mean_diff.dropna() == 0).all()


def test_scorecard_writes_csv(cli, small_file, tmp_path):
    out = tmp_path / "card"
    proc = cli("scorecard", str(small_file), "-r", "5", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    table = pd.read_csv(out / "scorecard.csv")
    assert {"segment", "tier", "partners", "activation_rate", "revenue_share"} <= set(table.columns)
    assert set(table.tier) == {"top 20%", "next 30%", "bottom 50%", "no revenue", "all"}
    assert "top-20% share" in proc.stdout
    path = tmp_path / "elsewhere" / "card.csv"
    proc = cli("scorecard", str(small_file), "-r", "3", "--csv", str(path))
    assert proc.returncode == 0, proc.stderr
    assert path.exists()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["size", "{nt}"], "set plan.revenue_target"),
        (["size", "{f}", "--target", "-3"], "--target '-3'"),
        (["size", "{f}", "--target", "lots"], "--target 'lots'"),
        (["size", "{f}", "--confidence", "1.5"], "between 0 and 1"),
        (["size", "{f}", "--confidence", "high"], "--confidence 'high'"),
        (["size", "{f}", "--decision", "activation.windw_months"], "did you mean 'activation.window_months'"),
        (["size", "{f}", "--decision", "churn.exit_probability"], "cannot be sized"),
        (["size", "{f}", "--decision", "lever:nope"], "no lever named 'nope'"),
        (["capacity", "{f}", "--confidence", "0"], "between 0 and 1"),
        (["compare", "{f}", "--set", "activation.window_months=0"], "activation.window_months"),
        (["compare", "{f}", "{missing}"], "not found"),
        (["scorecard", "{f}", "--out", "x", "--csv", "y"], "not allowed with"),
    ],
)
def test_planning_errors_are_one_line_exit_2(cli, small_file, tmp_path, args, needle):
    no_target = tmp_path / "nt.yaml"
    no_target.write_text(yaml.safe_dump(small_channel(plan={"revenue_target": None})))
    args = [a.format(f=small_file, nt=no_target, missing=tmp_path / "missing.yaml") for a in args]
    proc = cli(*args, "-r", "2")
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    err = proc.stderr.strip().splitlines()
    assert len(err) == 1 and needle in err[0], proc.stderr
    assert "Traceback" not in proc.stderr


def test_help_lists_the_planning_commands():
    from simulator.cli.main import build_parser

    text = build_parser().format_help()
    for command in ("capacity", "size", "compare", "scorecard"):
        assert command in text
