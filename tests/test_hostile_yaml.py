"""Hostile YAML and text inputs (issue 16, classes 3 and 4): one clear line and exit 2, never a crash.

Explicit tags with values they cannot hold, numbers of thousands of digits, control characters in a file
or a ``--set`` value, NUL in a path, ``extends:`` through a symlink loop or onto a special file, tags
beyond plain YAML, and alias bombs under any container (their expansion is measured on the node graph
before anything is constructed): each is one ScenarioError naming the file or ``--set`` argument and the
problem. The CLI prints it on one line, exits with 2, shows no traceback and writes nothing.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from conftest import BASELINE

from simulator import ScenarioError, load_scenario
from simulator.cli import main
from simulator.scenario.loading import apply_assignments
from simulator.scenario.yaml_io import MAX_NODES, parse_yaml

HEAD = "name: hostile\nhorizon_months: 12\n"


def _bomb(levels: int = 9, tag: str = "") -> str:
    """Billion laughs: each level lists the previous one ten times."""
    lines = ['a0: &a0 "lol"']
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} {tag}[{', '.join([f'*a{i - 1}'] * 10)}]")
    return "\n".join(lines) + "\n"


FILES = {
    "!!int with letters": (HEAD + "market:\n  prospects: !!int abc\n", "line 4: 'abc' is not a whole number"),
    "!!int empty": (HEAD + "market:\n  prospects: !!int ''\n", "is not a whole number"),
    "!!float with letters": (HEAD + "economics:\n  gross_margin: !!float x\n", "'x' is not a number"),
    "!!bool maybe": (HEAD + "plan:\n  revenue_target: !!bool maybe\n", "'maybe' is not true or false"),
    "!!bool yes (YAML 1.1)": (HEAD + "plan:\n  revenue_target: !!bool yes\n", "'yes' is not true or false"),
    "5,000-digit integer": (HEAD + "market:\n  prospects: " + "9" * 5000 + "\n", "5,000 digits"),
    "5,000-digit negative integer": (HEAD + "market:\n  prospects: -" + "1" * 5000 + "\n", "5,000 digits"),
    "31-digit hexadecimal": (HEAD + "market:\n  prospects: 0x" + "f" * 31 + "\n", "33 digits"),
    "NUL in the file": (HEAD + "description: a\x00b\n", "line 3, column 15: the control character U\\+0000"),
    "ESC in the file": (HEAD + "description: \x1b[2J\n", "control character U\\+001B"),
    "BEL in the file": ("name: \x07\n", "control character U\\+0007"),
    "DEL in the file": ("name: a\x7f\n", "control character U\\+007F"),
    "!!timestamp": (HEAD + "description: !!timestamp 2020-01-01\n", "tag:yaml.org,2002:timestamp"),
    "!!timestamp garbage": (HEAD + "description: !!timestamp abc\n", "tag:yaml.org,2002:timestamp"),
    "!!binary garbage": (HEAD + "description: !!binary '%%%'\n", "tag:yaml.org,2002:binary"),
    "!!set": (HEAD + "description: !!set {a, b}\n", "tag:yaml.org,2002:set"),
    "!!omap": (HEAD + "market: !!omap [prospects: 10]\n", "tag:yaml.org,2002:omap"),
    "!!pairs": (HEAD + "market: !!pairs [prospects: 10]\n", "tag:yaml.org,2002:pairs"),
    "alias bomb in lists": (HEAD + _bomb(), f"more than {MAX_NODES:,} values"),
    "alias bomb in mappings": (
        HEAD
        + "b0: &b0 {x: 1, y: 2}\n"
        + "".join(f"b{i}: &b{i} {{p: *b{i - 1}, q: *b{i - 1}, r: *b{i - 1}}}\n" for i in range(1, 14)),
        f"more than {MAX_NODES:,} values",
    ),
    "alias bomb through merge keys": (
        HEAD
        + "m0: &m0 {k: [1, 2, 3, 4, 5, 6, 7, 8]}\n"
        + "".join(
            f"m{i}: &m{i} {{<<: *m{i - 1}, k{i}: [*m{i - 1}, *m{i - 1}, *m{i - 1}, *m{i - 1}]}}\n" for i in range(1, 12)
        ),
        "more than",
    ),
    "long string aliased many times": (
        HEAD + 's: &s "' + "x" * 200_000 + '"\n' + "t: [" + ", ".join(["*s"] * 60) + "]\n",
        "million characters of text",
    ),
    "alias that contains itself": (HEAD + "loop: &l [1, *l]\n", "an alias refers to the value that contains it"),
    "nested too deep through aliases": (
        HEAD + "d0: &d0 [1]\n" + "".join(f"d{i}: &d{i} [*d{i - 1}]\n" for i in range(1, 40)),
        "nested more than 32 levels",
    ),
}


@pytest.mark.parametrize("case", FILES, ids=list(FILES))
def test_a_hostile_file_is_one_line_exit_2_and_nothing_written(case, tmp_path, capsys):
    text, needle = FILES[case]
    path = tmp_path / "hostile.yaml"
    path.write_bytes(text.encode())
    started = time.perf_counter()
    with pytest.raises(ScenarioError, match=needle) as caught:
        load_scenario(path)
    assert time.perf_counter() - started < 10  # a hang guard: every case is refused well under a second
    assert str(path) in str(caught.value) and len(str(caught.value)) < 400
    out = tmp_path / "out"
    assert main(["simulate", str(path), "-r", "1", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err and "internal error" not in err, err
    assert not out.exists()


SETS = {
    "NUL": ("name=a\x00b", "--set name line 1, column 2: the control character U\\+0000"),
    "ESC": ("name=\x1b[2J", "--set name.*U\\+001B"),
    "!!int abc": ("market.prospects=!!int abc", "--set market.prospects.*'abc' is not a whole number"),
    "!!float x": ("economics.gross_margin=!!float x", "'x' is not a number"),
    "!!bool maybe": ("plan.revenue_target=!!bool maybe", "'maybe' is not true or false"),
    "5,000 digits": ("market.prospects=" + "7" * 5000, "--set market.prospects.*5,000 digits"),
    "!!set": ("description=!!set {a}", "--set description.*tag:yaml.org,2002:set"),
    "alias bomb": (
        "description=[&a [1,1,1,1,1,1,1,1,1,1], &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a], &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b],"
        " &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c], [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]]",
        "more than",
    ),
}


@pytest.mark.parametrize("case", SETS, ids=list(SETS))
def test_a_hostile_set_value_is_one_line_exit_2(case, tmp_path, capsys):
    assignment, needle = SETS[case]
    with pytest.raises(ScenarioError, match=needle):
        apply_assignments(BASELINE, [assignment])
    out = tmp_path / "out"
    assert main(["simulate", str(BASELINE), "--set", assignment, "-r", "1", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err and "internal error" not in err, err
    assert not out.exists()


def _extends(tmp_path: Path, target: str) -> Path:
    path = tmp_path / "child.yaml"
    path.write_text(f"extends: {target}\nname: child\n")
    return path


def _symlink_loop(tmp_path: Path) -> str:
    (tmp_path / "loop_a.yaml").symlink_to(tmp_path / "loop_b.yaml")
    (tmp_path / "loop_b.yaml").symlink_to(tmp_path / "loop_a.yaml")
    return "loop_a.yaml"


def _fifo(tmp_path: Path) -> str:
    os.mkfifo(tmp_path / "pipe.yaml")
    return "pipe.yaml"


EXTENDS = {
    "a symlink loop": (_symlink_loop, "cannot be followed|leads nowhere"),
    "a FIFO": (_fifo, "is not a regular file"),
    "/dev/zero": (lambda tmp: "/dev/zero", "/dev/zero is not a regular file"),
    "a folder": (lambda tmp: ".", "is a folder"),
    "a NUL in the name": (lambda tmp: '"base\\0.yaml"', "cannot hold a NUL"),
    "a missing file": (lambda tmp: "nowhere.yaml", "not found"),
    "itself": (lambda tmp: "child.yaml", "a cycle"),
}


@pytest.mark.parametrize("case", EXTENDS, ids=list(EXTENDS))
def test_extends_of_a_file_that_cannot_be_read_is_one_line(case, tmp_path, capsys):
    make, needle = EXTENDS[case]
    path = _extends(tmp_path, make(tmp_path))
    started = time.perf_counter()
    with pytest.raises(ScenarioError, match=needle):
        load_scenario(path)
    assert time.perf_counter() - started < 10  # a FIFO is never opened (it would block)
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err and "internal error" not in err, err


@pytest.mark.parametrize(
    "path, needle",
    [("a\x00b.yaml", "cannot hold a NUL"), ("{loop}", "leads nowhere"), ("/dev/null", "not a regular file")],
)
def test_a_scenario_path_that_cannot_be_a_file_is_one_line(path, needle, tmp_path, capsys):
    path = path.format(loop=tmp_path / _symlink_loop(tmp_path))
    with pytest.raises(ScenarioError, match=needle):
        load_scenario(path)
    assert main(["simulate", path, "-r", "1", "--out", str(tmp_path / "out")]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "text, value",
    [
        ("!!int 12", 12),
        ("!!int 0x1f", 31),
        ("!!int -0o17", -15),
        ("!!float 2", 2.0),
        ("!!float .inf", float("inf")),
        ("!!bool true", True),
        ("!!bool False", False),
        ("9" * 30, int("9" * 30)),
        ("{a: &x [1, 2], b: *x}", {"a": [1, 2], "b": [1, 2]}),
    ],
)
def test_plain_tags_and_honest_aliases_still_read(text, value):
    assert parse_yaml(text) == value


def test_an_alias_heavy_but_small_document_is_measured_not_walked():
    """A DAG of 30 levels of two aliases each would be 2**30 nodes walked; it is refused at once."""
    text = "x0: &x0 [1]\n" + "".join(f"x{i}: &x{i} [*x{i - 1}, *x{i - 1}]\n" for i in range(1, 31))
    started = time.perf_counter()
    with pytest.raises(ScenarioError, match="more than"):
        parse_yaml(text)
    assert time.perf_counter() - started < 5
