"""The command line as a user drives it: outputs, exit codes, one-line errors."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import BASELINE, run_cli

from simulator.formatting import plural as count


def test_simulate_writes_tables(tmp_path):
    out = tmp_path / "run"
    proc = run_cli(
        "simulate", str(BASELINE), "-r", "4", "--seed", "3", "--set", "horizon_months=12", "--out", str(out), "--csv"
    )
    assert proc.returncode == 0, proc.stderr
    assert "Revenue, last 12 months" in proc.stdout
    monthly = pd.read_parquet(out / "monthly.parquet")
    assert len(monthly) == 4 * 13
    partners = pd.read_parquet(out / "partners.parquet")
    assert {"replication", "company", "segment", "state", "revenue_t12m"} <= set(partners.columns)
    assert (out / "monthly.csv").exists() and (out / "partners.csv").exists()


def test_validate_reports_each_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("recruitment:\n  win_share: 2\n")
    proc = run_cli("validate", str(BASELINE), str(bad))
    assert proc.returncode == 2
    assert "ok: " in proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "recruitment.win_share = 2" in lines[0]
    assert "2,200 companies, 3 segments, 0 levers, 36 months" in proc.stdout


@pytest.mark.parametrize(
    ("n", "noun", "text"),
    [
        (1, "lever", "1 lever"),
        (0, "lever", "0 levers"),
        (2200, "company", "2,200 companies"),
        (1, "company", "1 company"),
    ],
)
def test_counts_read_as_english(n, noun, text):
    assert count(n, noun) == text


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["simulate", "{bad}"], "recruitment.win_share"),
        (["simulate", "{missing}"], "not found"),
        (["simulate", str(BASELINE), "--set", "activation.window_months=zero"], "activation.window_months"),
        (["simulate", str(BASELINE), "--set", "nonsense"], "expected key=value"),
        (["simulate", str(BASELINE), "--set", "activation.windw=3"], "did you mean 'window_months'"),
        (["simulate", str(BASELINE), "--replications", "0"], "must be >= 1"),
        (["simulate", str(BASELINE), "--seed", "-4"], "--seed"),
        (["simulate"], "SCENARIO"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_errors_are_one_line_exit_2_and_write_nothing(tmp_path, args, needle):
    bad = tmp_path / "bad.yaml"
    bad.write_text("recruitment:\n  win_share: 1.5\n")
    out = tmp_path / "out"
    args = [a.format(bad=bad, missing=tmp_path / "missing.yaml") for a in args]
    if args[0] == "simulate" and len(args) > 1:
        args += ["--out", str(out)]
    proc = run_cli(*args)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    err = proc.stderr.strip().splitlines()
    assert len(err) == 1, proc.stderr
    assert needle in err[0]
    assert "Traceback" not in proc.stderr
    assert not out.exists()
