"""One syntax for keys everywhere: program.levers[0].intensity and program.levers.0.intensity alike."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import SCENARIOS, run_cli

import simulator as sim
from simulator.scenario import apply_assignments
from simulator.scenario.keys import dotted_key, key_parts, keyword_key
from simulator.sweeps import SweepDesign

OPTIMIZATION = SCENARIOS / "optimization.yaml"


@pytest.mark.parametrize(
    "spelling", ["program.levers[1].intensity", "program.levers.1.intensity", "program__levers__1__intensity"]
)
def test_three_spellings_are_one_key(spelling):
    assert key_parts(spelling) == ["program", "levers", "1", "intensity"]
    assert dotted_key(spelling) == "program.levers[1].intensity"
    assert keyword_key(spelling) == "program__levers__1__intensity"


@pytest.mark.parametrize("key", ["program.levers[1].intensity", "program.levers.1.intensity"])
def test_set_grid_decision_and_api_take_both_spellings(key):
    assert apply_assignments(OPTIMIZATION, [f"{key}=0.25"]).program.levers[1].intensity == 0.25
    assert sim.load_scenario(OPTIMIZATION).get(key) == 1.0
    design = SweepDesign.grid(OPTIMIZATION, {key: [0.5, 1.5]}, replications=2)
    assert design.keys == ["program.levers[1].intensity"]
    assert [design.scenario(i).program.levers[1].intensity for i in range(2)] == [0.5, 1.5]
    from simulator.planning.decisions import resolve

    assert resolve(sim.load_scenario(OPTIMIZATION), key).key == "program.levers[1].intensity"


def test_errors_name_list_items_in_brackets():
    with pytest.raises(sim.ScenarioError, match=r"program\.levers\[7\]: no item '7'"):
        apply_assignments(OPTIMIZATION, ["program.levers.7.intensity=1"])
    with pytest.raises(sim.ScenarioError, match=r"program\.levers\[0\]\.intensity = 'x'"):
        sim.load_scenario(OPTIMIZATION, program__levers__0__intensity="x")


def test_cli_set_with_brackets(tmp_path):
    proc = run_cli(
        "simulate", str(OPTIMIZATION), "-r", "2", "--set", "program.levers[0].intensity=0", "--set",
        "horizon_months=12", "--set", "program.levers[1].months=[7, 12]", "--out", str(tmp_path),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"replications": "5"}, "got '5' (a string)"),
        ({"replications": [0.5, 1.7]}, "(a list)"),
        ({"replications": 2.5}, "got 2.5 (a float)"),
        ({"replications": True}, "(a boolean)"),
        ({"replications": 0}, "replications must be a whole number 1 to 100,000,000"),
        ({"seed": -1}, "seed must be a whole number"),
        ({"seed": 1.0}, "(a float)"),
        ({"partners": "yes"}, "partners must be True or False"),
    ],
)
def test_api_arguments_are_refused_in_one_line(kwargs, needle):
    with pytest.raises(sim.ChannelError) as err:
        sim.simulate(OPTIMIZATION, **kwargs)
    assert needle in str(err.value) and "\n" not in str(err.value)


def test_numpy_integers_are_accepted_everywhere():
    res = sim.simulate(
        OPTIMIZATION,
        replications=np.int64(2),
        seed=np.uint32(4),
        horizon_months=np.int64(12),
        program__levers__1__months=[7, 12],
    )
    assert res.scenario.horizon_months == 12 and len(res.kpis) == 2
    assert np.array_equal(
        res.kpis.to_numpy(),
        sim.simulate(
            OPTIMIZATION, replications=2, seed=4, horizon_months=12, program__levers__1__months=[7, 12]
        ).kpis.to_numpy(),
    )
