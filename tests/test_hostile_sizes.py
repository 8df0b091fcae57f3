"""Size bombs and text that fools a terminal (issue 16, classes 4 and 8).

What a scenario can ask the engine to allocate is capped before anything is allocated: at most 127
segments (segment indices are int8), lever tables (levers x segments x months) of at most 256 MiB, result
tables that fit in half this machine's memory (the message says which ``--replications`` fits), and at
most 1,000,000 sweep points. No error message ever turns a whole user value into text. Unicode
bidirectional controls in scenario text are shown escaped, as ``\\u202e``, wherever it reaches a terminal.
"""

from __future__ import annotations

import time

import numpy as np
import psutil
import pytest
from conftest import BASELINE, small_channel

import simulator as sim
from simulator import ChannelError, ScenarioError
from simulator.cli import main
from simulator.engine import results as results_module
from simulator.engine.results import MEMORY_SHARE, result_bytes
from simulator.errors import bounded_repr
from simulator.formatting import printable
from simulator.lifecycle.program import MAX_PROGRAM_BYTES, compile_program, program_table_bytes
from simulator.scenario.schema import MAX_SEGMENTS

# -- error messages never format a whole value ------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "x" * 50_000_000,
        ["y" * 1000] * 1_000_000,
        10**20_000,
        -(10**5000),
        {f"k{i}": list(range(1000)) for i in range(10_000)},
        [[[[[[[[["deep"]]]]]]]]],
        b"\x00" * 10_000_000,
    ],
    ids=[
        "50 MB string",
        "a million long strings",
        "20,000 digits",
        "negative 5,000 digits",
        "big mapping",
        "deep",
        "bytes",
    ],
)
def test_a_huge_value_in_an_error_is_cut_before_it_is_turned_into_text(value):
    started = time.perf_counter()
    message = str(ScenarioError("must be a number", "market.prospects", value))
    assert time.perf_counter() - started < 1.0
    assert message.startswith("market.prospects = ") and len(message) < 120
    assert len(bounded_repr(value)) <= 60


@pytest.mark.parametrize(
    "value, shown", [(12, "12"), ("abc", "'abc'"), ([1, 2], "[1, 2]"), (2.5, "2.5"), (None, "None")]
)
def test_small_values_are_shown_whole(value, shown):
    assert bounded_repr(value) == shown
    assert str(ScenarioError("bad", "k", value)) == f"k = {shown}: bad"


def test_a_long_string_aliased_many_times_fails_fast_with_a_short_message(tmp_path):
    path = tmp_path / "aliased.yaml"
    path.write_text('name: &n "' + "z" * 900_000 + '"\ndescription: [' + ", ".join(["*n"] * 50) + "]\n")
    started = time.perf_counter()
    with pytest.raises(ScenarioError) as caught:
        sim.load_scenario(path)
    assert time.perf_counter() - started < 5 and len(str(caught.value)) < 300


# -- segments and lever tables ---------------------------------------------------------------------------------


def _segments(n: int) -> dict:
    scn = small_channel(horizon_months=6)
    scn["market"]["segments"] = {f"s{i}": {"share": 1 / n} for i in range(n)}
    scn["channel"].pop("segment_shares", None)
    return scn


@pytest.mark.parametrize("n, ok", [(MAX_SEGMENTS, True), (MAX_SEGMENTS + 1, False), (129, False), (1000, False)])
def test_at_most_127_segments(n, ok):
    if ok:
        scenario = sim.load_scenario(_segments(n))
        result = sim.simulate(scenario, replications=1, seed=1)
        assert result.partners["segment"].nunique() <= n and (result.partners["segment"].cat.codes >= 0).all()
    else:
        with pytest.raises(ScenarioError, match=rf"market.segments: {n:,} segments; at most 127"):
            sim.load_scenario(_segments(n))


def test_the_lever_table_estimate_is_exactly_what_is_allocated():
    scn = small_channel(horizon_months=18)
    scn["program"] = {
        "levers": [
            {"name": f"l{i}", "effects": {"activation.monthly_probability": 0.1}, "cost": {"fixed_per_month": 10}}
            for i in range(7)
        ]
    }
    schedule = compile_program(sim.load_scenario(scn))
    allocated = sum(
        a.nbytes
        for a in (
            schedule.multiplier,
            schedule.fixed_cost,
            schedule.per_partner_cost,
            schedule.per_signing_cost,
            schedule.revenue_share,
        )
    )
    assert program_table_bytes(7, 3, 18) == allocated


@pytest.mark.parametrize("levers, horizon", [(5000, 600), (2000, 600), (3000, 300)])
def test_lever_tables_past_the_cap_are_refused_before_allocating(levers, horizon):
    scn = small_channel(horizon_months=horizon)
    scn["program"] = {
        "levers": [{"name": f"l{i}", "effects": {"activation.monthly_probability": 0.01}} for i in range(levers)]
    }
    need = program_table_bytes(levers, 3, horizon)
    assert need > MAX_PROGRAM_BYTES
    before = psutil.Process().memory_info().rss
    with pytest.raises(ScenarioError, match=rf"program.levers: {levers:,} levers x 3 segments x {horizon + 1} months"):
        sim.load_scenario(scn)
    assert psutil.Process().memory_info().rss - before < need / 4  # refused without allocating the tables


# -- replications x companies -----------------------------------------------------------------------------------


def test_the_result_estimate_is_honest(baseline_path):
    """The estimate of one copy of the tables is within a factor 1.5 of what simulate() really holds."""
    scenario = sim.load_scenario(baseline_path)
    result = sim.simulate(scenario, replications=40, seed=3)
    held = sum(t.memory_usage(deep=True).sum() for t in (result.monthly, result.partners, result.lever_costs))
    one_copy = result_bytes(scenario, 40) / 2
    assert held <= one_copy <= 1.5 * held


def test_replications_past_memory_are_refused_with_the_count_that_fits(baseline_path, monkeypatch):
    scenario = sim.load_scenario(baseline_path)
    monkeypatch.setattr(results_module, "MEMORY_SHARE", 0.5)
    budget = int(psutil.virtual_memory().total * MEMORY_SHARE)
    per = result_bytes(scenario, 1)
    fits = budget // per
    with pytest.raises(ChannelError, match=rf"--replications {fits} fits") as caught:
        sim.simulate(scenario, replications=fits * 10, seed=1)
    assert "GiB" in str(caught.value)
    assert result_bytes(scenario, fits) <= budget < result_bytes(scenario, fits + 1)


def test_skipping_partners_lets_more_replications_fit(baseline_path):
    scenario = sim.load_scenario(baseline_path)
    assert result_bytes(scenario, 100, partners=False) < result_bytes(scenario, 100) / 3


def test_the_command_line_refuses_a_replication_bomb_in_one_line(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["simulate", str(BASELINE), "-r", str(10**9), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "--replications" in err and "Traceback" not in err
    assert not out.exists()


# -- bidirectional controls on the terminal ---------------------------------------------------------------------

BIDI = [
    "\u202a",
    "\u202b",
    "\u202c",
    "\u202d",
    "\u202e",
    "\u2066",
    "\u2067",
    "\u2068",
    "\u2069",
    "\u200e",
    "\u200f",
    "\u061c",
]


@pytest.mark.parametrize("char", BIDI, ids=[f"U+{ord(c):04X}" for c in BIDI])
def test_printable_escapes_every_bidirectional_control(char):
    text = f"plan{char}exe.txt"
    assert printable(text) == f"plan\\u{ord(char):04x}exe.txt"


@pytest.mark.parametrize("text", ["café", "Zürich – 2025", "数据", "\t", "emoji 🚀", "\u200d joiner"])
def test_printable_keeps_ordinary_text(text):
    assert printable(text) == text


@pytest.mark.parametrize("command", [["validate"], ["simulate", "-r", "2"]])
def test_bidirectional_controls_in_a_scenario_never_reach_the_terminal_raw(command, tmp_path, capsys):
    scn = tmp_path / "bidi.yaml"
    scn.write_text('name: "invoice\u202eexe.pdf"\nhorizon_months: 6\nmarket: {prospects: 50}\n', encoding="utf-8")
    assert "\u202e" in sim.load_scenario(scn).name
    argv = [command[0], str(scn), *command[1:]]
    if command[0] == "simulate":
        argv += ["--out", str(tmp_path / "out")]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "\\u202e" in out and not any(c in out for c in BIDI)


def test_bidirectional_controls_in_an_error_are_escaped(capsys):
    assert main(["validate", "missing\u202egnp.yaml"]) == 2
    err = capsys.readouterr().err
    assert "\\u202e" in err and "\u202e" not in err


def test_a_numpy_value_is_bounded_too():
    assert len(bounded_repr(np.arange(10**6))) <= 60
