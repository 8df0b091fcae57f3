"""The simulation against theory: Markov chain, signing rate, growth, lognormal concentration."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import simulator as sim
from simulator import analytic
from simulator.analytic import expected_state_counts
from simulator.lifecycle import measurement
from simulator.lifecycle.states import STATE_LABELS


def test_state_counts_match_the_markov_chain():
    scn = sim.load_scenario(
        {
            "horizon_months": 24,
            "market": {
                "prospects": 50,
                "segments": {
                    "fast": {"share": 0.6, "activation_multiplier": 1.5},
                    "slow": {"share": 0.4, "activation_multiplier": 0.5},
                },
            },
            "channel": {"signed": 120, "active": 150, "collaborating": 60, "dormant": 70},
            "recruitment": {"nurture_per_month": 0},
            "activation": {"monthly_probability": 0.15, "window_months": 4},
            "churn": {
                "dormancy_probability": 0.03,
                "exit_probability": 0.02,
                "reactivation_probability": 0.06,
                "dormant_exit_probability": 0.05,
            },
            "collaboration": {"adoption_probability": 0.04, "peer_effect": 0.0, "lapse_probability": 0.05},
        }
    )
    R = 1500
    res = sim.simulate(scn, replications=R, seed=2, partners=False)
    expected = expected_state_counts(scn)
    m = res.monthly
    for s, label in enumerate(STATE_LABELS):
        table = m.pivot(index="replication", columns="month", values=label).to_numpy(float)
        mean, sd = table.mean(axis=0), table.std(axis=0, ddof=1)
        bound = 5 * sd / np.sqrt(R) + 1e-9
        assert np.all(np.abs(mean - expected[:, s]) <= bound), (label, mean - expected[:, s], bound)


def test_signing_rate_of_nurtured_prospects():
    win, per_year = 0.4, 2.5
    scn = sim.load_scenario(
        {
            "horizon_months": 12,
            "market": {"prospects": 2000, "vendor_signings_per_year": per_year},
            "recruitment": {"nurture_per_month": 2000, "win_share": win, "nurture_months": 24},
            "activation": {"monthly_probability": 0.0, "window_months": 24},
        }
    )
    res = sim.simulate(scn, replications=20, seed=5, partners=False)
    m = res.monthly.sort_values(["replication", "month"])
    assert (m[m.month == 1].nurtured == 2000).all()
    assert (m[m.month == 1].signings == 0).all()  # nurtured this month: first chance next month
    exposed = m.groupby("replication").nurturing.shift(1)
    use = m.month >= 2
    n, k = exposed[use].sum(), m.signings[use].sum()
    p_theory = 1 - np.exp(-per_year * win / 12)
    se = np.sqrt(p_theory * (1 - p_theory) / n)
    assert abs(k / n - p_theory) < 4 * se, (k / n, p_theory)


def test_nurture_period_and_cooloff_are_exact():
    scn = sim.load_scenario(
        {
            "horizon_months": 12,
            "market": {"prospects": 100},
            "recruitment": {"nurture_per_month": 100, "win_share": 0.0, "nurture_months": 2, "cooloff_months": 3},
        }
    )
    m = sim.simulate(scn, replications=2, seed=1).replication(0).set_index("month")
    # nurtured in month 1, back in month 3 (two chances), eligible again from 3 + 3 + 1 = 7
    assert m.nurtured.tolist() == [0, 100, 0, 0, 0, 0, 0, 100, 0, 0, 0, 0, 0]
    assert m.nurture_expiries[3] == 100 and m.nurture_expiries[9] == 100
    assert m.nurturing[1] == m.nurturing[2] == 100 and m.nurturing[3] == 0


def test_activation_window_closes_exactly():
    scn = sim.load_scenario(
        {
            "horizon_months": 8,
            "market": {"prospects": 0},
            "channel": {"signed": 50},
            "activation": {"monthly_probability": 0.0, "window_months": 4},
            "churn": {"reactivation_probability": 0.0, "dormant_exit_probability": 0.0},
        }
    )
    m = sim.simulate(scn, replications=1, seed=1).replication(0).set_index("month")
    assert m.signed.tolist() == [50, 50, 50, 50, 0, 0, 0, 0, 0]
    assert m.window_expiries[4] == 50 and m.dormant[4] == 50


def test_growth_is_11_and_19_percent_a_year():
    scn = sim.load_scenario(
        {
            "horizon_months": 24,
            "market": {"prospects": 0},
            "channel": {"active": 3000, "collaborating": 3000},
            "churn": {"dormancy_probability": 0, "exit_probability": 0},
            "collaboration": {"adoption_probability": 0, "lapse_probability": 0},
            "growth": {"volatility": 0.3},
        }
    )
    p = sim.simulate(scn, replications=4, seed=8).partners
    for state, rate in (("collaborating", 0.19), ("active", 0.11)):
        g = p[p.state == state].growth_12m
        assert abs(g.mean() - rate) < 4 * g.std() / np.sqrt(len(g)), (state, g.mean())
        two_years = p[p.state == state].eval("run_rate / potential")
        assert abs(two_years.mean() - (1 + rate) ** 2) < 4 * two_years.std() / np.sqrt(len(two_years))


def test_first_deal_month_does_not_grow():
    scn = sim.load_scenario(
        {
            "horizon_months": 6,
            "market": {"prospects": 0},
            "channel": {"signed": 4000},
            "activation": {"monthly_probability": 0.3},
            "growth": {"volatility": 0.4},
        }
    )
    p = sim.simulate(scn, replications=1, seed=3).partners
    fresh = p[p.first_deal_month == 6]
    assert len(fresh) > 0
    assert np.array_equal(fresh.run_rate.to_numpy(), fresh.potential.to_numpy())
    older = p[p.first_deal_month == 3].dropna(subset=["first_deal_month"])
    older = older[older.state == "active"]
    assert (older.run_rate != older.potential).all()


@pytest.mark.parametrize("sigma", [1.0, 1.7])
def test_top20_share_matches_lognormal_closed_form(sigma):
    scn = sim.load_scenario(
        {
            "horizon_months": 3,
            "market": {"prospects": 0, "segments": {"one": {"share": 1.0, "revenue_sigma": sigma}}},
            "channel": {"active": 40000},
            "churn": {"dormancy_probability": 0, "exit_probability": 0},
            "collaboration": {"adoption_probability": 0},
            "growth": {"volatility": 0.0},
        }
    )
    m = sim.simulate(scn, replications=3, seed=4, partners=False).monthly
    top = m.top20_share.mean()
    assert top == pytest.approx(analytic.lognormal_top_share(sigma), abs=0.015)
    assert m.gini.mean() == pytest.approx(analytic.lognormal_gini(sigma), abs=0.015)
    if sigma == 1.7:
        assert top == pytest.approx(0.80, abs=0.02)  # the 80/20 rule of the methodology


# -- concentration functions against hand-computed examples -----------------------------


def test_concentration_of_equal_partners():
    v = [5, 5, 5, 5, 5]
    assert measurement.top_share(v) == pytest.approx(0.2)
    assert measurement.gini(v) == pytest.approx(0.0)
    assert measurement.hhi(v) == pytest.approx(0.2)
    assert measurement.effective_partners(v) == pytest.approx(5.0)


def test_concentration_of_one_earner():
    v = [0, 0, 0, 0, 10]
    assert measurement.top_share(v) == pytest.approx(1.0)
    assert measurement.gini(v) == pytest.approx(1.0)  # 0.8 * 5/4
    assert measurement.gini(v, corrected=False) == pytest.approx(0.8)
    assert measurement.hhi(v) == pytest.approx(1.0)
    assert measurement.share_earning_nothing(v) == pytest.approx(0.8)


def test_concentration_hand_example():
    v = [1, 2, 3, 4]
    # Gini: 2 * (1*1 + 2*2 + 3*3 + 4*4) / (4 * 10) - 5/4 = 0.25, corrected by 4/3
    assert measurement.gini(v, corrected=False) == pytest.approx(0.25)
    assert measurement.gini(v) == pytest.approx(1 / 3)
    # top 20% of 4 partners = 0.8 of the largest one: 0.8 * 4 / 10
    assert measurement.top_share(v) == pytest.approx(0.32)
    assert measurement.top_share(v, q=0.5) == pytest.approx(0.7)
    assert measurement.hhi(v) == pytest.approx(0.30)
    x, y = measurement.lorenz_curve(v)
    assert np.allclose(x, [0, 0.25, 0.5, 0.75, 1]) and np.allclose(y, [0, 0.1, 0.3, 0.6, 1.0])


def test_concentration_rows_match_one_dimensional_functions():
    rng = np.random.default_rng(0)
    values = rng.lognormal(0, 1.5, (6, 40)) * (rng.random((6, 40)) < 0.7)
    member = rng.random((6, 40)) < 0.9
    member |= values > 0
    rows = measurement.concentration_rows(values, member)
    for i in range(6):
        earning = values[i][values[i] > 0]
        everyone = values[i][member[i]]
        assert rows["top_share"][i] == pytest.approx(measurement.top_share(earning))
        assert rows["gini"][i] == pytest.approx(measurement.gini(earning))
        assert rows["hhi"][i] == pytest.approx(measurement.hhi(earning))
        assert rows["top_share_all"][i] == pytest.approx(measurement.top_share(everyone))
        assert rows["gini_all"][i] == pytest.approx(measurement.gini(everyone))


def test_lognormal_closed_form_is_the_80_20_rule():
    assert analytic.lognormal_top_share(1.7) == pytest.approx(stats.norm.cdf(1.7 + stats.norm.ppf(0.2)))
    assert analytic.lognormal_top_share(1.7) == pytest.approx(0.80, abs=0.01)


def test_peer_effect_scales_adoption_by_collaborating_share():
    p0, peer = 0.03, 2.0
    scn = sim.load_scenario(
        {
            "horizon_months": 12,
            "market": {"prospects": 0},
            "channel": {"active": 3000, "collaborating": 500},
            "churn": {"dormancy_probability": 0, "exit_probability": 0},
            "collaboration": {"adoption_probability": p0, "peer_effect": peer, "lapse_probability": 0.01},
        }
    )
    m = sim.simulate(scn, replications=10, seed=6, partners=False).monthly.sort_values(["replication", "month"])
    prev = m.groupby("replication")[["active", "collaborating"]].shift(1)
    steps = m.month >= 1
    a, c = prev.active[steps], prev.collaborating[steps]
    h = -np.log1p(-p0) * (1 + peer * c / (a + c))
    h_lapse = -np.log1p(-0.01)
    expected = (a * (1 - np.exp(-h))).sum()  # active partners face adoption only (no churn here)
    observed = m.adoptions[steps].sum()
    assert abs(observed - expected) < 4 * np.sqrt(expected), (observed, expected)
    lapses_expected = (c * (1 - np.exp(-h_lapse))).sum()
    assert abs(m.lapses[steps].sum() - lapses_expected) < 4 * np.sqrt(lapses_expected)
    # without the peer effect the same channel adopts measurably less
    flat = sim.simulate(scn.override(collaboration__peer_effect=0.0), replications=10, seed=6, partners=False)
    assert flat.monthly.adoptions.sum() < 0.8 * observed
