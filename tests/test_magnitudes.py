"""Levers change rates by exactly the documented amount, and only where they are aimed.

Each test measures one mechanism in a quiet scenario (nothing else moves) and checks the number,
not the direction: the hazard is scaled (``p -> 1 - (1 - p) ** (1 + x)``), levers on one rate
multiply, intensity scales an effect linearly (``1 + k x``), ``months: [first, last]`` is inclusive
at both ends, and companies outside a lever's states or segments follow exactly the paths they
follow without it (every company has its own random numbers, so the comparison is draw for draw).
Every statistical check asserts first that the plausible wrong rule lies at least ``MIN_POWER``
standard errors away, so a test that passes could have failed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from quiet import MAX_Z, MIN_POWER, binomial_se, quiet, scaled

import simulator as sim
from simulator.errors import ScenarioError
from simulator.lifecycle.program import compile_program
from simulator.lifecycle.rates import RATE_INDEX
from simulator.lifecycle.states import State

N = 200_000  # companies in the measured state: binomial standard errors of about 0.001
TARGETED = 40_000  # enough where right and wrong differ by tens of standard errors
P = 0.3
ACTIVATION = "activation.monthly_probability"


def _month(data: dict, month: int = 1, replications: int = 1, seed: int = 1) -> pd.Series:
    m = sim.simulate(data, replications=replications, seed=seed, partners=False, concentration=False).monthly
    return m[m.month == month].sum(numeric_only=True)


def _check_rate(observed: float, trials: float, right: float, wrong: float) -> None:
    se = binomial_se(right, trials)
    assert abs(right - wrong) > MIN_POWER * se, "the test cannot tell the right rule from the wrong one"
    z = (observed / trials - right) / se
    assert abs(z) < MAX_Z, (observed / trials, right, wrong, z)


# -- hazard scaling ----------------------------------------------------------------------------

# rate, the state whose companies it moves, the flow that counts the move
PROBABILITY_RATES = [
    ("activation.monthly_probability", "signed", "activations"),
    ("churn.dormancy_probability", "active", "to_dormant"),
    ("churn.exit_probability", "active", "exits"),
    ("churn.reactivation_probability", "dormant", "reactivations"),
    ("churn.dormant_exit_probability", "dormant", "exits"),
    ("collaboration.adoption_probability", "active", "adoptions"),
    ("collaboration.lapse_probability", "collaborating", "lapses"),
]


@pytest.mark.parametrize("x", [1.5, -0.6])
@pytest.mark.parametrize(("rate", "state", "flow"), PROBABILITY_RATES)
def test_a_lever_scales_the_hazard_not_the_probability(rate, state, flow, x):
    section, key = rate.split(".")
    data = quiet(channel={state: N}, levers=[{"name": "lever", "effects": {rate: x}}], **{section: {key: P}})
    moved = _month(data)[flow]
    _check_rate(moved, N, right=scaled(P, 1 + x), wrong=P * (1 + x))


@pytest.mark.parametrize("x", [1.5, -0.6])
def test_a_win_share_lever_scales_the_hazard_of_the_win_share(x):
    """Signing hazard = signings_per_year * w' / 12 with w' = 1 - (1 - win_share) ** (1 + x)."""
    per_year, win = 6.0, 0.3
    data = quiet(
        horizon_months=2,
        market={"prospects": N, "vendor_signings_per_year": per_year},
        recruitment={"nurture_per_month": N, "win_share": win, "nurture_months": 6},
        levers=[{"name": "lever", "effects": {"recruitment.win_share": x}}],
    )
    signed = _month(data, month=2)["signings"]  # all N nurtured in month 1, first chance in month 2

    def signing(w: float) -> float:
        return -np.expm1(-per_year * w / 12)

    _check_rate(signed, N, right=signing(scaled(win, 1 + x)), wrong=signing(win * (1 + x)))


# -- stacking and intensity ----------------------------------------------------------------------


def test_levers_on_one_rate_multiply_and_touch_nothing_else():
    levers = [
        {"name": "first", "effects": {ACTIVATION: 0.5}, "applies_to": ["signed", "a"]},
        {"name": "second", "effects": {ACTIVATION: 1.0}},
    ]
    data = quiet(horizon_months=3, channel={"signed": N}, activation={"monthly_probability": P}, levers=levers)
    schedule = compile_program(sim.load_scenario(data))
    table = schedule.rate(ACTIVATION)[:, State.SIGNED]  # (months, segments a, b)
    np.testing.assert_array_equal(table, [[1.0, 1.0], [3.0, 2.0], [3.0, 2.0], [3.0, 2.0]])
    # every other rate, state and month keeps multiplier 1
    assert np.count_nonzero(schedule.multiplier != 1.0) == table.size - 2

    result = sim.simulate(data, replications=1, seed=3, concentration=False)
    p = result.partners
    # segment a: (1 + 0.5)(1 + 1.0) = 3, not 1 + 0.5 + 1.0 = 2.5; segment b: the second lever alone
    for segment, right, wrong in (("a", 3.0, 2.5), ("b", 2.0, 3.0)):
        rows = p[p.segment == segment]
        _check_rate((rows.first_deal_month == 1).sum(), len(rows), right=scaled(P, right), wrong=scaled(P, wrong))


@pytest.mark.parametrize(("intensity", "x"), [(2.0, 0.5), (0.5, -0.8), (3.0, -0.2)])
def test_intensity_scales_an_effect_linearly(intensity, x):
    lever = {"name": "lever", "effects": {ACTIVATION: x}, "intensity": intensity}
    data = quiet(channel={"signed": N}, activation={"monthly_probability": P}, levers=[lever])
    linear, compounded = 1 + intensity * x, (1 + x) ** intensity
    schedule = compile_program(sim.load_scenario(data))
    np.testing.assert_allclose(schedule.rate(ACTIVATION)[1, State.SIGNED], linear, rtol=1e-12)
    _check_rate(_month(data)["activations"], N, right=scaled(P, linear), wrong=scaled(P, compounded))


# -- month ranges --------------------------------------------------------------------------------


def test_months_are_inclusive_at_both_ends_in_the_schedule():
    lever = {"name": "lever", "effects": {ACTIVATION: 1.0}, "months": [2, 4]}
    data = quiet(horizon_months=6, channel={"signed": 10}, levers=[lever])
    table = compile_program(sim.load_scenario(data)).rate(ACTIVATION)[:, State.SIGNED, 0]
    np.testing.assert_array_equal(table, [1, 1, 2, 2, 2, 1, 1])
    last = {**lever, "months": [6, 6]}
    table = compile_program(sim.load_scenario(quiet(horizon_months=6, channel={"signed": 10}, levers=[last])))
    np.testing.assert_array_equal(table.rate(ACTIVATION)[:, State.SIGNED, 0], [1, 1, 1, 1, 1, 1, 2])
    whole = {"name": "lever", "effects": {ACTIVATION: 1.0}}  # default: months 1..horizon, never month 0
    table = compile_program(sim.load_scenario(quiet(horizon_months=6, channel={"signed": 10}, levers=[whole])))
    np.testing.assert_array_equal(table.rate(ACTIVATION)[:, State.SIGNED, 0], [1, 2, 2, 2, 2, 2, 2])


def test_an_uplift_runs_from_its_first_to_its_last_month():
    data = quiet(horizon_months=6, channel={"active": 500, "collaborating": 300})
    base = sim.simulate(data, replications=2, seed=4).monthly
    lever = {"name": "lever", "effects": {"revenue.uplift": 1.0}, "months": [2, 4]}
    doubled = sim.simulate(quiet(**data, levers=[lever]), replications=2, seed=4).monthly
    factor = np.where(base.month.between(2, 4), 2.0, 1.0)
    np.testing.assert_array_equal(doubled.revenue.to_numpy(), factor * base.revenue.to_numpy())


def test_a_probability_lever_acts_exactly_in_its_months():
    data = quiet(horizon_months=5, channel={"signed": 5000}, activation={"monthly_probability": P})
    base = sim.simulate(data, replications=1, seed=2).monthly.set_index("month")
    lever = {"name": "freeze", "effects": {ACTIVATION: -1.0}, "months": [2, 3]}
    frozen = sim.simulate(quiet(**data, levers=[lever]), replications=1, seed=2).monthly.set_index("month")
    assert frozen.activations[1] == base.activations[1] > 0  # same draws before the lever starts
    assert frozen.activations[2] == frozen.activations[3] == 0
    assert frozen.activations[4] > 0


# -- targeting: segments and states --------------------------------------------------------------


def _rows(partners: pd.DataFrame, mask: pd.Series) -> pd.DataFrame:
    return partners[mask].sort_values(["replication", "company"]).reset_index(drop=True)


@pytest.mark.parametrize(
    "targeting",
    [{"segments": ["a"]}, {"applies_to": ["signed", "a"]}],
    ids=["segments", "applies_to"],
)
def test_a_segment_lever_leaves_other_segments_draw_for_draw(targeting):
    x = 1.5
    data = quiet(horizon_months=3, channel={"signed": TARGETED}, activation={"monthly_probability": P})
    base = sim.simulate(data, replications=1, seed=6, concentration=False).partners
    lever = {"name": "lever", "effects": {ACTIVATION: x}, **targeting}
    with_lever = sim.simulate(quiet(**data, levers=[lever]), replications=1, seed=6, concentration=False).partners
    # untargeted segment: exactly the same paths, company by company
    pd.testing.assert_frame_equal(_rows(base, base.segment == "b"), _rows(with_lever, with_lever.segment == "b"))
    # ... hence statistically at the base rate, far from the rate a leak would give
    b = with_lever[with_lever.segment == "b"]
    _check_rate((b.first_deal_month == 1).sum(), len(b), right=P, wrong=scaled(P, 1 + x))
    a = with_lever[with_lever.segment == "a"]
    _check_rate((a.first_deal_month == 1).sum(), len(a), right=scaled(P, 1 + x), wrong=P)


def test_a_state_lever_leaves_other_states_draw_for_draw():
    """Dormancy acts on active and collaborating partners; a lever aimed at active ones changes only them."""
    x, p = 1.5, 0.1
    channel = {"active": TARGETED // 2, "collaborating": TARGETED // 2}
    data = quiet(horizon_months=2, channel=channel, churn={"dormancy_probability": p})
    start = sim.simulate(quiet(channel=channel, horizon_months=1), replications=1, seed=7).partners
    was = start.set_index("company").state.astype(str)
    base = sim.simulate(data, replications=1, seed=7).partners
    lever = {"name": "lever", "applies_to": ["active"], "effects": {"churn.dormancy_probability": x}}
    with_lever = sim.simulate(quiet(**data, levers=[lever]), replications=1, seed=7).partners
    pd.testing.assert_frame_equal(
        _rows(base, base.company.map(was) == "collaborating"),
        _rows(with_lever, with_lever.company.map(was) == "collaborating"),
    )
    for start_state, right, wrong in (
        ("collaborating", scaled(p, 2), scaled(scaled(p, 1 + x), 2)),  # two months, at the base rate
        ("active", scaled(p, 2 * (1 + x)), scaled(p, 2)),
    ):
        rows = with_lever[with_lever.company.map(was) == start_state]
        _check_rate((rows.state == "dormant").sum(), len(rows), right=right, wrong=wrong)


def test_an_uplift_aimed_at_one_state_and_segment_pays_only_there():
    data = quiet(horizon_months=12, channel={"active": 400, "collaborating": 400})
    base = sim.simulate(data, replications=2, seed=8).partners
    lever = {"name": "lever", "applies_to": ["collaborating"], "segments": ["b"], "effects": {"revenue.uplift": 0.25}}
    with_lever = sim.simulate(quiet(**data, levers=[lever]), replications=2, seed=8).partners
    key = ["replication", "company"]
    base, with_lever = base.sort_values(key).reset_index(drop=True), with_lever.sort_values(key).reset_index(drop=True)
    aimed = (with_lever.state == "collaborating") & (with_lever.segment == "b")
    assert aimed.sum() > 100 and (~aimed).sum() > 100
    np.testing.assert_allclose(with_lever.revenue_t12m[aimed], 1.25 * base.revenue_t12m[aimed], rtol=1e-6)
    np.testing.assert_array_equal(with_lever.revenue_t12m[~aimed], base.revenue_t12m[~aimed])
    np.testing.assert_array_equal(with_lever.run_rate, base.run_rate)  # an uplift is earned, not grown


# -- revenue uplift and growth levers -------------------------------------------------------------


def test_uplifts_multiply_and_intensity_scales_them_linearly():
    data = quiet(horizon_months=4, channel={"active": 300, "collaborating": 200})
    base = sim.simulate(data, replications=2, seed=9).monthly
    levers = [
        {"name": "first", "effects": {"revenue.uplift": 0.5}},
        {"name": "second", "effects": {"revenue.uplift": 0.2}, "intensity": 2.5},  # 1 + 2.5 * 0.2 = 1.5
    ]
    lifted = sim.simulate(quiet(**data, levers=levers), replications=2, seed=9).monthly
    steps = base.month > 0
    np.testing.assert_allclose(lifted.revenue[steps], 2.25 * base.revenue[steps], rtol=1e-6)
    np.testing.assert_array_equal(lifted.revenue[~steps], base.revenue[~steps])  # month 0: no lever


GROWTH_CHANNEL = {"active": 300, "collaborating": 300}


def _run_rate_growth(levers: list, horizon: int = 12) -> pd.DataFrame:
    """Run-rate at the horizon over potential, per company: the compound growth, exactly (no noise)."""
    data = quiet(horizon_months=horizon, channel=GROWTH_CHANNEL, levers=levers)
    p = sim.simulate(data, replications=1, seed=10).partners
    return p.assign(factor=p.run_rate / p.potential)


@pytest.mark.parametrize(
    ("levers", "active_rate", "wrong_rate"),
    [
        ([{"name": "g", "effects": {"growth.active": 0.5}}], 0.11 * 1.5, 0.11 + 0.5),
        (
            [{"name": "g", "effects": {"growth.active": 0.5}}, {"name": "h", "effects": {"growth.active": 1.0}}],
            0.11 * 3.0,
            0.11 * 2.5,
        ),
        ([{"name": "g", "effects": {"growth.active": 0.5}, "intensity": 2.0}], 0.11 * 2.0, 0.11 * 2.25),
    ],
    ids=["one", "stacked", "intensity"],
)
def test_growth_levers_scale_the_annual_rate(levers, active_rate, wrong_rate):
    p = _run_rate_growth(levers)
    active, collab = p[p.state == "active"], p[p.state == "collaborating"]
    np.testing.assert_allclose(active.factor, 1 + active_rate, rtol=1e-5)
    assert abs(active.factor.mean() - (1 + wrong_rate)) > 0.01
    np.testing.assert_allclose(collab.factor, 1.19, rtol=1e-5)  # growth.active leaves collaborating partners alone


def test_a_growth_lever_in_some_months_and_one_segment():
    lever = {"name": "g", "effects": {"growth.collaborating": 1.0}, "months": [4, 9], "segments": ["a"]}
    p = _run_rate_growth([lever])
    collab = p[p.state == "collaborating"]
    a, b = collab[collab.segment == "a"], collab[collab.segment == "b"]
    np.testing.assert_allclose(a.factor, 1.38 ** (6 / 12) * 1.19 ** (6 / 12), rtol=1e-5)
    np.testing.assert_allclose(b.factor, 1.19, rtol=1e-5)
    np.testing.assert_allclose(p[p.state == "active"].factor, 1.11, rtol=1e-5)


def test_growth_multiplier_table_is_per_state():
    data = quiet(horizon_months=2, channel=GROWTH_CHANNEL, levers=[{"name": "g", "effects": {"growth.active": 0.5}}])
    mult = compile_program(sim.load_scenario(data)).multiplier
    np.testing.assert_array_equal(mult[1:, RATE_INDEX["growth.active"], State.ACTIVE], 1.5)
    assert np.count_nonzero(mult != 1.0) == 2 * 2  # months 1..2, segments a and b, active only


@pytest.mark.parametrize(
    ("rate", "base", "x", "allowed"),
    [
        ("growth.active", 0.5, 1.0, True),  # scaled to exactly 100% a year: the cap itself is allowed
        ("growth.active", 0.5, 1.01, False),
        ("growth.collaborating", 0.5, 1.01, False),
        ("growth.active", -0.5, 0.98, True),  # -99% a year
        ("growth.active", -0.5, 1.0, False),  # -100% a year: run-rates would vanish
    ],
)
def test_levers_may_scale_growth_up_to_the_cap(rate, base, x, allowed):
    section, key = rate.split(".")
    data = quiet(levers=[{"name": "g", "effects": {rate: x}}], **{section: {key: base}})
    if allowed:
        scaled_rate = base * compile_program(sim.load_scenario(data)).rate(rate)[1, State[key.upper()]]
        np.testing.assert_allclose(scaled_rate, base * (1 + x))
    else:
        named = rate.replace(".", r"\.")
        with pytest.raises(ScenarioError, match=rf"^program\.levers: levers scale {named} to "):
            sim.load_scenario(data)
