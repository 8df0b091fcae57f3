"""The bad-input corpus: every malformed scenario is refused with one line and exit code 2.

``tests/data/bad_scenarios/expected.json`` maps each file to a phrase its
error line must contain. Both ``validate`` and ``simulate`` are checked; a
refused ``simulate`` writes nothing.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_cli

from simulator.cli import main

CORPUS = Path(__file__).parent / "data" / "bad_scenarios"
EXPECTED: dict[str, str] = json.loads((CORPUS / "expected.json").read_text())


def test_corpus_is_large_and_complete():
    files = {p.name for p in CORPUS.glob("*.yaml")}
    assert len(files) >= 30
    assert files == set(EXPECTED)


def _refused(capsys, argv: list[str], needle: str) -> None:
    code = main(argv)
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert code == 2, (argv, err)
    assert len(lines) == 1, err
    assert needle in lines[0], lines[0]
    assert "Traceback" not in err


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bad_scenario_is_refused(name, capsys, tmp_path):
    path = str(CORPUS / name)
    _refused(capsys, ["validate", path], EXPECTED[name])
    out = tmp_path / "out"
    _refused(capsys, ["simulate", path, "-r", "2", "--out", str(out)], EXPECTED[name])
    assert not out.exists()


def test_fifty_megabyte_file(capsys, tmp_path):
    big = tmp_path / "big.yaml"
    with open(big, "w") as fh:
        fh.write("name: big\ndescription: |\n")
        line = "  " + "x" * 98 + "\n"
        fh.write(line * 500_000)
    assert big.stat().st_size > 50e6
    _refused(capsys, ["validate", str(big)], "MB")
    _refused(capsys, ["simulate", str(big), "--out", str(tmp_path / "out")], "MB")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["simulate", "{baseline}", "--set", "recruitment.win_share=2"], "recruitment.win_share = 2"),
        (["simulate", "{baseline}", "--set", "recruitment.nurture_per_month=ten"], "whole number"),
        (["simulate", "{baseline}", "--set", "program.levers=[{use: nope}]"], "unknown lever 'nope'"),
        (["simulate", "{baseline}", "--set", "horizon_months="], "horizon_months"),
        (["simulate", "{baseline}", "--set", "=3"], "expected key=value"),
        (["simulate", "{baseline}", "--replications", "many"], "not a whole number"),
        (["simulate", "{baseline}", "--replications", "-3"], "must be >= 1"),
        (["simulate", "{baseline}", "--seed", "1.5"], "not a whole number"),
        (["simulate", "{baseline}", "--bogus"], "unrecognized arguments"),
        (["size", "{baseline}", "--max-replications", "10"], "--max-replications 10: must be at least -r (400)"),
        (["size", "{baseline}", "-r", "50", "--max-replications", "49"], "--max-replications 49: must be at least -r"),
        (["validate"], "SCENARIO"),
        ([], "COMMAND"),
    ],
)
def test_bad_overrides_and_arguments(argv, needle, capsys, tmp_path):
    from conftest import BASELINE

    argv = [str(BASELINE) if a == "{baseline}" else a for a in argv]
    if argv and argv[0] == "simulate":
        argv += ["--out", str(tmp_path / "out")]
    _refused(capsys, argv, needle)
    assert not (tmp_path / "out").exists()


def test_as_a_user_runs_it(tmp_path):
    for name in ("python_object_tag.yaml", "anchors_bomb.yaml", "yaml_syntax_error.yaml"):
        proc = run_cli("simulate", str(CORPUS / name), "--out", str(tmp_path / "out"))
        assert proc.returncode == 2
        assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
        assert EXPECTED[name] in proc.stderr
    assert not (tmp_path / "out").exists()
