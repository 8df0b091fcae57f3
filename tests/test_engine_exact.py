"""The engine's bookkeeping, exactly: where moves lead, collaboration months, growth over 12 months.

Written to kill the mutants that survived the number-pinning tests (docs/TESTING.md): each test
fixes a rule whose every constant matters, in a deterministic scenario (probabilities 0 or 1,
switched on and off by levers, growth without noise).
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import BASELINE
from quiet import quiet

import simulator as sim
from simulator.engine.kernel import INTEGER_COLUMNS, ChannelKernel
from simulator.lifecycle.moves import MAX_MOVES, destinations
from simulator.lifecycle.recruitment import monthly_signing_probability
from simulator.lifecycle.states import State

P, N, S, A, C, D, X = (int(s) for s in State)  # prospect, nurturing, signed, active, collaborating, dormant, churned


def test_where_each_move_leads():
    # columns: random moves 0, 1, 2, then the deadline (no random move)
    expected = [
        [P, P, P, P],  # prospects are moved by recruitment, not by a random move
        [S, N, N, P],  # nurturing: signs, or its nurture period ends
        [A, S, S, D],  # signed: first deal, or the activation window closes
        [D, X, C, A],  # active: dormant, churned, collaborating
        [D, X, A, C],  # collaborating: dormant, churned, lapses to active
        [A, X, D, D],  # dormant: back to active, or churned
        [X, X, X, X],  # churned is absorbing
    ]
    table = destinations()
    assert table.dtype == np.int8 and table.shape == (7, MAX_MOVES + 1)
    np.testing.assert_array_equal(table, expected)


def test_monthly_signing_probability_by_hand():
    scn = sim.load_scenario(quiet(market={"vendor_signings_per_year": 2.5}, recruitment={"win_share": 0.3}))
    # 1 - exp(-2.5 * 0.3 / 12) = 1 - exp(-0.0625)
    assert monthly_signing_probability(scn) == pytest.approx(0.06058693718652422, rel=1e-12)


def _certain_collaboration(horizon: int, levers: list[dict]) -> dict:
    """40 active and 60 collaborating partners, adoption and lapses certain (p = 1) unless ``levers`` switch
    them off: every company's path is known by hand."""
    return quiet(
        horizon_months=horizon,
        channel={"active": 40, "collaborating": 60},
        collaboration={"adoption_probability": 1.0, "lapse_probability": 1.0},
        levers=levers,
    )


def test_collaborating_months_count_every_month_end_spent_collaborating():
    """Adoption and lapses are certain (p = 1) and levers switch them off, so every path is known:
    today's active partners adopt in month 3, everyone collaborating lapses in month 5, and every
    active partner adopts again in month 6."""
    horizon = 10
    levers = [
        {"name": "late_adoption", "effects": {"collaboration.adoption_probability": -1.0}, "months": [1, 2]},
        {"name": "no_early_lapse", "effects": {"collaboration.lapse_probability": -1.0}, "months": [1, 4]},
        {"name": "no_late_lapse", "effects": {"collaboration.lapse_probability": -1.0}, "months": [6, horizon]},
    ]
    result = sim.simulate(_certain_collaboration(horizon, levers), replications=2, seed=1)
    m = result.replication(0).set_index("month")
    assert m.adoptions.tolist() == [0, 0, 0, 40, 0, 0, 100, 0, 0, 0, 0]
    assert m.lapses.tolist() == [0, 0, 0, 0, 0, 100, 0, 0, 0, 0, 0]
    p = result.partners
    assert (p.state == "collaborating").all() and (p.months_in_state == horizon - 6).all()
    was_active = p.company < 40  # today's partners are laid out by state: active first, then collaborating
    # month-ends 3, 4 and 6..10 for today's active partners; 1..4 and 6..10 for today's collaborating ones
    np.testing.assert_array_equal(p.months_collaborating[was_active], 2 + 5)
    np.testing.assert_array_equal(p.months_collaborating[~was_active], 4 + 5)


@pytest.mark.parametrize("engine", ["compiled", "numpy"])
def test_collaborating_months_add_up_over_several_finished_stints(engine):
    """Two stints end before the horizon (lapses in months 5 and 8), so the count must add each finished
    stint to the ones before, not keep only the last: adoption is certain from month 3, lapses only in
    months 5 and 8."""
    horizon = 12
    levers = [
        {"name": "late_adoption", "effects": {"collaboration.adoption_probability": -1.0}, "months": [1, 2]},
        {"name": "keep_1_4", "effects": {"collaboration.lapse_probability": -1.0}, "months": [1, 4]},
        {"name": "keep_6_7", "effects": {"collaboration.lapse_probability": -1.0}, "months": [6, 7]},
        {"name": "keep_9_12", "effects": {"collaboration.lapse_probability": -1.0}, "months": [9, horizon]},
    ]
    result = sim.simulate(_certain_collaboration(horizon, levers), replications=2, seed=3, engine=engine)
    m = result.replication(1).set_index("month")
    assert m.adoptions.tolist() == [0, 0, 0, 40, 0, 0, 100, 0, 0, 100, 0, 0, 0]
    assert m.lapses.tolist() == [0, 0, 0, 0, 0, 100, 0, 0, 100, 0, 0, 0, 0]
    p = result.partners
    was_active = p.company < 40
    # today's active partners: month-ends 3-4, 6-7 and 9-12; today's collaborating ones: 1-4, 6-7 and 9-12
    np.testing.assert_array_equal(p.months_collaborating[was_active], 2 + 2 + 4)
    np.testing.assert_array_equal(p.months_collaborating[~was_active], 4 + 2 + 4)


def test_growth_over_12_months_is_the_run_rate_ratio():
    data = quiet(
        horizon_months=12,
        market={"segments": {"a": {"share": 0.5}, "b": {"share": 0.5, "revenue_median": 0.5, "revenue_sigma": 0.0}}},
        channel={"active": 200, "signed": 200},
        activation={"monthly_probability": 0.5},
    )
    p = sim.simulate(data, replications=1, seed=2).partners
    assert p.growth_12m.dtype == np.float64 and p.revenue_t12m.dtype == np.float64
    today = p[p.first_deal_month == 0]
    assert len(today) == 200 and (today.potential[today.segment == "b"] == np.float32(0.5)).all()
    np.testing.assert_allclose(today.growth_12m, 0.11, rtol=1e-5)  # small run-rates (0.5 a month) too
    new = p[p.first_deal_month > 0]
    assert len(new) > 100 and new.growth_12m.isna().all()  # no run-rate a year ago: unknown, not infinite


@pytest.mark.parametrize("horizon", [6, 11])
def test_growth_over_12_months_is_unknown_before_a_year(horizon):
    p = sim.simulate(quiet(horizon_months=horizon, channel={"active": 50}), replications=1, seed=3).partners
    assert p.growth_12m.dtype == np.float64 and p.growth_12m.isna().all()


def test_tables_keep_their_types_and_a_kernel_measures_concentration_by_default():
    data = quiet(horizon_months=3, channel={"active": 30, "collaborating": 10}, churn={"exit_probability": 0.2})
    result = sim.simulate(data, replications=2, seed=4)
    for col in INTEGER_COLUMNS:
        assert result.monthly[col].dtype == np.int64, col
    money = ["revenue", "revenue_t12m", "margin", "cost", "cost_program", "contribution", "gini", "hhi"]
    assert (result.monthly[money].dtypes == np.float64).all()
    kernel = ChannelKernel(sim.load_scenario(data), 4, [0, 1]).run()
    assert np.isfinite(kernel.record["gini"]).all() and (kernel.record["earning_partners"] > 0).all()
    np.testing.assert_array_equal(kernel.record["gini"], result.monthly.gini.to_numpy().reshape(2, 4))


def test_without_concentration_the_figures_are_marked_missing():
    data = quiet(horizon_months=2, channel={"active": 30})
    m = sim.simulate(data, replications=1, seed=5, concentration=False).monthly
    assert (m.earning_partners == -1).all() and (m.signed_partners == -1).all()
    assert m[["top20_share", "gini", "hhi", "top20_share_all", "gini_all"]].isna().all().all()


def test_a_kernel_refuses_to_step_past_the_horizon():
    kernel = ChannelKernel(sim.load_scenario(quiet(horizon_months=2, channel={"active": 3})), 0, [0]).run()
    assert kernel.done and kernel.month == 2
    with pytest.raises(RuntimeError, match=r"horizon \(2 months\)"):
        kernel.step()


def test_a_single_partner_grows_like_many():
    p = sim.simulate(quiet(horizon_months=12, channel={"active": 1}), replications=1, seed=6).partners
    np.testing.assert_allclose(p.run_rate / p.potential, 1.11, rtol=1e-5)


def test_growth_over_the_last_12_months_of_a_longer_horizon():
    p = sim.simulate(quiet(horizon_months=18, channel={"active": 100}), replications=1, seed=7).partners
    np.testing.assert_allclose(p.growth_12m, 0.11, rtol=1e-5)
    np.testing.assert_allclose(p.run_rate / p.potential, 1.11**1.5, rtol=1e-5)


def test_a_dormant_partner_without_a_deal_comes_back_with_its_first_deal():
    """Windows of one month close at month 1; returns in month 2 are first deals, not reactivations."""
    data = quiet(
        horizon_months=2,
        channel={"signed": 2000, "dormant": 2000},
        activation={"window_months": 1},
        churn={"reactivation_probability": 0.5},
    )
    result = sim.simulate(data, replications=1, seed=8)
    m = result.monthly.set_index("month")
    assert m.window_expiries[1] == 2000 and m.activations[1] == 0
    back = result.partners[result.partners.first_deal_month == 2]
    assert m.activations[2] == len(back) > 500  # every returner without a deal is a first deal ...
    # ... and only today's dormant partners (who have had deals) count as reactivations
    returned_today = result.partners[(result.partners.company >= 2000) & (result.partners.state == "active")]
    assert m.reactivations[2] + m.reactivations[1] == len(returned_today) > 500
    np.testing.assert_array_equal(back.run_rate, back.potential)  # and starts at its potential
    assert (back.time_to_first_deal == 2).all()


def test_fit_scores_of_a_market_without_spread_in_potential_are_noise():
    accuracy = 0.6
    data = quiet(
        horizon_months=2,
        market={"prospects": 20_000, "vendor_signings_per_year": 120.0},
        recruitment={"nurture_per_month": 20_000, "win_share": 1.0, "scoring_accuracy": accuracy},
    )
    data["market"]["segments"] = {"only": {"share": 1.0, "revenue_sigma": 0.0}}
    p = sim.simulate(data, replications=1, seed=9).partners
    assert len(p) > 19_900 and np.isfinite(p.fit_score).all()
    assert abs(p.fit_score.std() - np.sqrt(1 - accuracy**2)) < 0.02  # the noise term alone: 0.8


def test_signed_partners_are_the_channel_plus_former_partners_still_earning():
    """Prospects cycling through nurturing never count; partners who left this year still earn, so they count."""
    data = quiet(
        horizon_months=3,
        market={"prospects": 100},
        channel={"active": 30, "signed": 20, "dormant": 10},
        recruitment={"nurture_per_month": 20, "win_share": 0.0, "nurture_months": 1, "cooloff_months": 0},
        churn={"exit_probability": 0.3},
    )
    m = sim.simulate(data, replications=3, seed=10).monthly
    assert (m.churned[m.month == 3] > 0).all() and (m.nurture_expiries.sum() > 0)
    assert (m.signed_partners == 60).all()  # 20 signed + 30 active (or left, earning this year) + 10 dormant
    assert (m.earning_partners == 30).all()


@pytest.mark.parametrize("engine", ["compiled", "numpy"])
def test_monthly_concentration_is_the_measure_of_the_trailing_revenue(engine):
    """Each recorded concentration figure is concentration_rows of that month's trailing revenue among the
    signed-or-earning partners: checked at the horizon, recomputed from the kernel's own trailing revenue."""
    from simulator.lifecycle.measurement import concentration_rows

    scn = sim.load_scenario(BASELINE, horizon_months=14)
    kernel = ChannelKernel(scn, 5, np.arange(8), engine=engine).run()
    t12 = kernel.trailing_revenue()
    expected = concentration_rows(t12, kernel.signed_or_earning(t12))
    rec = kernel.record
    for column, key in (
        ("top20_share", "top_share"),
        ("gini", "gini"),
        ("hhi", "hhi"),
        ("top20_share_all", "top_share_all"),
        ("gini_all", "gini_all"),
    ):
        np.testing.assert_allclose(rec[column][:, -1], expected[key], rtol=1e-9, err_msg=column)
    np.testing.assert_array_equal(rec["earning_partners"][:, -1], expected["n"])
    np.testing.assert_array_equal(rec["signed_partners"][:, -1], expected["n_all"])
    np.testing.assert_allclose(rec["revenue_t12m"][:, -1], t12.sum(axis=1), rtol=1e-12)
    assert (expected["n"] > 50).all() and (expected["gini"] > 0.3).all()  # a real channel, not a trivial one
