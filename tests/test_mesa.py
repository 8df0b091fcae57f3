"""The Mesa face: ChannelModel equals simulate(), agents read the kernel, batch_run works."""

from __future__ import annotations

import inspect

import mesa
import numpy as np
import pytest
from conftest import BASELINE, small_channel

import simulator as sim
from simulator import ChannelModel, Partner, State
from simulator.engine.kernel import MONTHLY_COLUMNS


def test_run_model_equals_simulate_replication_zero():
    scn = sim.load_scenario(small_channel())
    model = ChannelModel(scenario=scn, seed=21)
    model.run_model()
    assert model.running is False
    assert model.steps == scn.horizon_months
    collected = model.datacollector.get_model_vars_dataframe()
    assert list(collected.columns) == list(MONTHLY_COLUMNS)
    expected = sim.simulate(scn, replications=8, seed=21).replication(0)
    assert np.array_equal(collected.to_numpy(float), expected[list(MONTHLY_COLUMNS)].to_numpy(float), equal_nan=True)


def test_model_accepts_paths_and_overrides():
    model = ChannelModel(scenario=str(BASELINE), seed=1, activation__window_months=3, horizon_months=4)
    assert model.scenario.activation.window_months == 3
    model.run_model()
    assert model.month == 4 and not model.running
    model.step()  # stepping past the horizon does nothing
    assert model.month == 4


def test_agents_are_views_of_the_kernel():
    scn = sim.load_scenario(small_channel())
    model = ChannelModel(scenario=scn, seed=3)
    partners = list(model.agents)
    assert len(partners) == scn.companies
    assert all(isinstance(a, Partner) for a in partners)
    for _ in range(12):
        model.step()
    by_state = {s: 0 for s in State}
    for a in partners:
        by_state[a.state] += 1
    for s in State:
        assert by_state[s] == model.datacollector.model_vars[s.label][-1]
    revenue = sum(a.revenue for a in partners)
    assert revenue == pytest.approx(model.datacollector.model_vars["revenue"][-1], rel=1e-5)
    earning = [a for a in partners if a.state in (State.ACTIVE, State.COLLABORATING)]
    assert all(a.revenue > 0 and a.run_rate > 0 for a in earning)
    assert all(a.revenue == 0 for a in model.partners_in("dormant"))
    assert {a.segment for a in partners} == set(scn.segment_names)


def test_batch_run_one_row_per_run():
    scn = sim.load_scenario(small_channel(horizon_months=6))
    # Mesa >= 3.5 passes one seed per run (rng=[...]); 3.3 repeats runs with iterations=.
    runs = {"rng": [4, 5]} if "rng" in inspect.signature(mesa.batch_run).parameters else {"iterations": 2}
    rows = mesa.batch_run(
        ChannelModel,
        parameters={"scenario": [scn], "activation__window_months": [3, 6, 9]},
        number_processes=1,
        display_progress=False,
        **runs,
    )
    assert len(rows) == 6
    for row in rows:
        for col in ("revenue", "active", "signings", "top20_share"):
            assert col in row
    assert {r["activation__window_months"] for r in rows} == {3, 6, 9}


def test_seed_none_draws_a_reproducible_seed():
    a = ChannelModel(scenario=small_channel(horizon_months=3))
    b = ChannelModel(scenario=small_channel(horizon_months=3), seed=a.seed)
    a.run_model()
    b.run_model()
    assert a.datacollector.model_vars == b.datacollector.model_vars
