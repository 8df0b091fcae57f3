"""Sizing knows its precision: a range of answers its replications cannot tell apart, narrowed by more of them."""

from __future__ import annotations

import pytest
from conftest import small_channel

import simulator as sim


def small():
    return sim.load_scenario(small_channel(horizon_months=12, plan={"revenue_target": 7_000_000}))


def test_the_range_brackets_the_answer_and_its_ends_are_what_it_says():
    r = sim.size_recruitment(small(), replications=60, seed=2, workers=1, max_replications=240)
    low, high = r.value_range
    assert low <= r.value <= high
    curve = r.curve.set_index("value")
    used = curve["replications"].max()
    assert used == r.replications == 240 and set(curve["replications"]) <= {60, 120, 240}
    if low < r.value:  # the lower end cannot be told from the confidence on its replications
        assert curve.loc[low, "p_high"] >= r.confidence
    below = [v for v in curve.index if v < low]
    if below:  # the value below the range surely misses
        assert curve.loc[max(below), "p_high"] < r.confidence
    if r.pinned and r.value > 0:
        assert low == high == r.value
        assert curve.loc[r.value, "p_low"] >= r.confidence and curve.loc[r.value - 1, "p_high"] < r.confidence
    assert r.notes[0].startswith("the answer")


def test_no_budget_beyond_the_replications_is_the_fixed_search():
    fixed = sim.size_recruitment(small(), replications=60, seed=2, workers=1, max_replications=60)
    assert set(fixed.curve["replications"]) == {60} and fixed.replications == 60
    assert fixed.value_range[0] <= fixed.value <= fixed.value_range[1]


def test_a_budget_below_the_replications_is_refused_and_no_budget_given_never_is(monkeypatch):
    from simulator.errors import ChannelError
    from simulator.planning import sizing

    with pytest.raises(ChannelError, match=r"max_replications = 30: must be at least replications \(60\)"):
        sim.size_recruitment(small(), replications=60, seed=2, workers=1, max_replications=30)
    # without a budget: the default, or the replications when they are more (here the default is below them)
    monkeypatch.setattr(sizing, "DEFAULT_MAX_REPLICATIONS", 30)
    fixed = sim.size_recruitment(small(), replications=60, seed=2, workers=1)
    assert set(fixed.curve["replications"]) == {60} and fixed.replications == 60


def test_more_replications_run_on_the_same_streams():
    """A value extended from 60 to 120 replications equals the same value run on 120 from the start."""
    r = sim.size_recruitment(small(), replications=60, seed=2, workers=1, max_replications=120)
    extended = r.curve[r.curve["replications"] == 120]
    if extended.empty:
        pytest.skip("the answer was pinned on the first replications")
    v = int(extended["value"].iloc[0])
    direct = sim.simulate(small(), replications=120, seed=2, recruitment__nurture_per_month=v).kpis
    p = (direct["revenue_last_12m"] >= 7_000_000).mean()
    assert extended["p_plan_met"].iloc[0] == pytest.approx(p, abs=1e-12)


@pytest.mark.slow
def test_on_the_baseline_the_range_contains_the_answer_of_8000_fresh_replications():
    r = sim.size_recruitment("scenarios/baseline.yaml", seed=0)
    fresh = sim.size_recruitment("scenarios/baseline.yaml", seed=99, replications=8000, max_replications=8000)
    assert r.value_range[0] <= fresh.value <= r.value_range[1]


def test_an_intensity_beyond_the_sourced_range_is_flagged():
    scn = sim.load_scenario(
        small_channel(horizon_months=12, plan={"revenue_target": 7_000_000}),
        recruitment__nurture_per_month=0,
        program__levers=[{"use": "co_selling"}],
    )
    far = sim.size_recruitment(scn, decision="lever:co_selling", replications=40, seed=1, workers=1)
    assert far.reachable and far.value > 2 and far.notes[0].startswith("an extrapolation: intensity")
    near = sim.size_recruitment(
        scn, decision="lever:co_selling", replications=40, seed=1, workers=1, target=far.implied["revenue_p10"] * 0.8
    )
    assert near.value <= 2 and not any(n.startswith("an extrapolation") for n in near.notes)


@pytest.mark.parametrize("target", [7_000_000, 7_500_000])
def test_the_range_end_runs_on_every_replication_and_the_value_below_it_on_as_few_as_tell_it(target):
    """The range's lower end has all the replications and cannot be told from the confidence on them; the value
    below it surely misses, on the fewest replications (doubling from the first run's) that show it."""
    scn = sim.load_scenario(small_channel(horizon_months=12, plan={"revenue_target": target}))
    r = sim.size_recruitment(scn, replications=60, seed=2, workers=1, max_replications=240)
    curve = r.curve.set_index("value")
    low, _ = r.value_range
    assert curve.loc[low, "replications"] == r.replications == 240
    assert curve.loc[low, "p_high"] >= r.confidence
    if low == 0:
        return
    below = curve.loc[low - 1]
    assert below["p_high"] < r.confidence
    n = int(below["replications"])
    assert n in (60, 120, 240)
    if n > 60:  # on half as many it could not yet be told apart from the confidence
        half = sim.simulate(scn, replications=n // 2, seed=2, recruitment__nurture_per_month=int(low - 1)).kpis
        met = int((half["revenue_last_12m"] >= target).sum())
        assert sim.stats.wilson_interval(met, n // 2)[1] >= r.confidence


def test_a_value_that_surely_misses_or_meets_on_the_first_run_is_not_run_again():
    r = sim.size_recruitment(small(), replications=60, seed=2, workers=1, max_replications=240)
    curve = r.curve.set_index("value")
    far = curve[(curve["p_high"] < r.confidence) | (curve["p_low"] >= r.confidence)]
    low, high = r.value_range
    settled_early = far[(far.index < low - 1) | (far.index > high)]
    assert (settled_early["replications"] == 60).all()


@pytest.mark.parametrize("seed", [2, 3, 5])
def test_the_answer_meets_on_every_replication_and_its_step_below_does_not(seed):
    # Four added rounds (60 -> 480): the later ones probe the last answer and its step below first.
    r = sim.size_recruitment(small(), replications=60, seed=seed, workers=1, max_replications=480)
    curve = r.curve.set_index("value")
    assert curve.loc[r.value, "replications"] == r.replications == 480
    assert curve.loc[r.value, "p_plan_met"] >= r.confidence
    if r.value > 0:
        assert curve.loc[r.value - 1, "replications"] == 480
        assert curve.loc[r.value - 1, "p_plan_met"] < r.confidence
