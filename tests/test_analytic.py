"""simulator.analytic: the closed forms against hand-computed values, and theory_check / `run.py theory`.

The engine is checked against these closed forms in test_theory.py; here the closed forms themselves
are checked, on examples small enough to work out by hand, so that a wrong formula cannot hide behind
an engine that shares its mistake.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate

import simulator as sim
from simulator import analytic
from simulator.cli.main import main
from simulator.lifecycle import measurement, recruitment
from simulator.lifecycle.states import State

BASELINE = "scenarios/baseline.yaml"


def chain_scenario(**sections):
    """A channel with recruitment, peer effect and levers off; everything else as given (rates default to 0)."""
    data = {
        "horizon_months": 3,
        "market": {"prospects": 0, "segments": {"one": {"share": 1.0, "revenue_median": 1000, "revenue_sigma": 0.0}}},
        "recruitment": {"nurture_per_month": 0},
        "activation": {"monthly_probability": 0.0, "window_months": 2},
        "churn": {
            "dormancy_probability": 0.0,
            "exit_probability": 0.0,
            "reactivation_probability": 0.0,
            "dormant_exit_probability": 0.0,
        },
        "collaboration": {"adoption_probability": 0.0, "peer_effect": 0.0, "lapse_probability": 0.0},
        "growth": {"active": 0.0, "collaborating": 0.0, "volatility": 0.0},
    }
    for key, value in sections.items():
        data[key] = {**data.get(key, {}), **value} if isinstance(value, dict) else value
    return sim.load_scenario(data)


# -- the Markov chain -------------------------------------------------------------------


def test_exits_compound_month_by_month():
    scn = chain_scenario(channel={"active": 100}, churn={"exit_probability": 0.1})
    counts = analytic.expected_state_counts(scn)
    assert counts[:, State.ACTIVE] == pytest.approx([100, 90, 81, 72.9])
    assert counts[:, State.CHURNED] == pytest.approx([0, 10, 19, 27.1])
    # a count of independent partners: 100 p (1 - p) with p = 0.9^m
    variance = analytic.state_count_variance(scn)[:, State.ACTIVE]
    assert variance == pytest.approx([0, 9, 100 * 0.81 * 0.19, 100 * 0.729 * 0.271])


def test_competing_risks_share_the_month_by_hazard():
    # dormancy and exit at 10% each: hazards 2 * -ln(0.9), leave with 1 - 0.81 = 0.19, half each way
    scn = chain_scenario(channel={"active": 100}, churn={"dormancy_probability": 0.1, "exit_probability": 0.1})
    counts = analytic.expected_state_counts(scn)
    assert counts[1, [State.ACTIVE, State.DORMANT, State.CHURNED]] == pytest.approx([81, 9.5, 9.5])
    assert counts[2, [State.ACTIVE, State.DORMANT, State.CHURNED]] == pytest.approx([65.61, 17.195, 17.195])
    T = analytic.lifecycle_matrix(scn)
    assert np.allclose(T.sum(axis=1), 1.0)


def test_activation_window_gives_exactly_window_months_chances():
    # p = 0.5, window 2: half activate in month 1, a quarter in month 2, the last quarter go dormant
    scn = chain_scenario(channel={"signed": 100}, activation={"monthly_probability": 0.5, "window_months": 2})
    counts = analytic.expected_state_counts(scn)
    assert counts[:, State.SIGNED] == pytest.approx([100, 50, 0, 0])
    assert counts[:, State.ACTIVE] == pytest.approx([0, 50, 75, 75])
    assert counts[:, State.DORMANT] == pytest.approx([0, 0, 25, 25])


def test_segment_multiplier_scales_the_first_deal_hazard():
    # multiplier 2 on p = 0.5: 1 - 0.5^2 = 0.75 a month
    scn = chain_scenario(
        market={"segments": {"one": {"share": 1.0, "activation_multiplier": 2.0}}},
        channel={"signed": 100},
        activation={"monthly_probability": 0.5, "window_months": 2},
    )
    assert analytic.expected_state_counts(scn)[1:, State.ACTIVE] == pytest.approx([75, 93.75, 93.75])


def test_certain_moves_share_the_month_equally():
    churn = {"reactivation_probability": 1.0, "dormant_exit_probability": 1.0}
    scn = chain_scenario(channel={"dormant": 10}, churn=churn)
    assert analytic.expected_state_counts(scn)[1, [State.ACTIVE, State.CHURNED]] == pytest.approx([5, 5])


def test_revenue_grows_by_state_and_not_in_the_first_deal_month():
    # 10 active partners at 1,000 a month growing 21% a year; 10 signed ones with a certain first deal in month 1
    scn = chain_scenario(
        horizon_months=24,
        channel={"active": 10, "signed": 10},
        activation={"monthly_probability": 1.0},
        growth={"active": 0.21},
    )
    revenue = analytic.expected_revenue(scn)
    f = 1.21 ** (1 / 12)
    assert revenue[0] == pytest.approx(10_000)
    assert revenue[1] == pytest.approx(10_000 * f + 10_000)  # the new partners start at potential
    assert revenue[13] == pytest.approx(12_100 * f + 12_100)
    trailing = analytic.expected_trailing_revenue(scn)
    assert trailing[0] == pytest.approx(120_000)  # the year before month 0 at month 0's revenue
    assert trailing[1] == pytest.approx(11 * 10_000 + revenue[1])
    assert trailing[24] == pytest.approx(revenue[13:25].sum())
    # nothing random (sigma 0, volatility 0, certain moves): no variance
    assert analytic.trailing_revenue_variance(scn) == pytest.approx(np.zeros(25), abs=1e-12 * trailing.max() ** 2)


def test_revenue_variance_of_one_lognormal_partner():
    # one active partner, no moves, no growth: R = 12 X with X lognormal, Var = 144 m^2 e^{s^2} (e^{s^2} - 1)
    scn = chain_scenario(
        horizon_months=2,
        market={"segments": {"one": {"share": 1.0, "revenue_median": 1000, "revenue_sigma": 0.5}}},
        channel={"active": 1},
    )
    m, s2 = 1000.0, 0.25
    assert analytic.trailing_revenue_variance(scn) == pytest.approx([144 * m**2 * math.exp(s2) * math.expm1(s2)] * 3)
    assert analytic.expected_trailing_revenue(scn) == pytest.approx([12 * m * math.exp(s2 / 2)] * 3)


def test_dormant_partners_keep_their_run_rate_and_do_not_grow():
    # 10 dormant partners come back for sure in month 1 (at potential), then grow 21% a year
    scn = chain_scenario(
        horizon_months=2, channel={"dormant": 10}, churn={"reactivation_probability": 1.0}, growth={"active": 0.21}
    )
    assert analytic.expected_revenue(scn) == pytest.approx([0, 10_000, 10_000 * 1.21 ** (1 / 12)])


def test_the_chain_refuses_what_it_does_not_model():
    with pytest.raises(sim.ScenarioError, match=r"recruitment.nurture_per_month = 12 \(must be 0\)"):
        analytic.expected_state_counts(sim.load_scenario(BASELINE))
    peer = chain_scenario(collaboration={"peer_effect": 1.0})
    with pytest.raises(sim.ScenarioError, match="peer_effect"):
        analytic.expected_revenue(peer)


# -- lognormal concentration -------------------------------------------------------------


def test_lognormal_closed_forms_by_hand():
    # Phi(1.7 + Phi^-1(0.2)) = Phi(1.7 - 0.841621) = Phi(0.858379): the 80/20 rule
    assert analytic.lognormal_top_share(1.7) == pytest.approx(0.804658, abs=1e-6)
    assert analytic.lognormal_gini(1.0) == pytest.approx(0.520500, abs=1e-6)  # 2 Phi(0.707107) - 1
    assert analytic.lognormal_lorenz(0.5, 1.0) == pytest.approx(0.158655, abs=1e-6)  # Phi(0 - 1)
    assert analytic.lognormal_mean(1000, 2.0) == pytest.approx(1000 * math.e**2)
    assert analytic.lognormal_gini(0.0) == 0.0 and analytic.lognormal_top_share(0.0) == pytest.approx(0.2)


def test_mixture_of_equal_partners_by_hand():
    # half the partners earn 1, half earn 2 (sigma 0): mean 1.5
    mix = ([1, 1], [1, 2], [0, 0])
    assert analytic.lognormal_mixture_top_share(*mix) == pytest.approx(0.2 * 2 / 1.5)
    assert analytic.lognormal_mixture_top_share(*mix, q=0.75) == pytest.approx((0.5 * 2 + 0.25 * 1) / 1.5)
    assert analytic.lognormal_mixture_lorenz([0.25, 0.5, 0.75], *mix) == pytest.approx([0.25 / 1.5, 0.5 / 1.5, 1 / 1.5])
    # E|X - Y| = 2 * 1/4 * 1 = 0.5, Gini = 0.5 / (2 * 1.5)
    assert analytic.lognormal_mixture_gini(*mix) == pytest.approx(1 / 6)


def test_mixture_of_one_segment_is_the_lognormal():
    for sigma in (0.3, 1.0, 1.7, 3.0):
        assert analytic.lognormal_mixture_top_share([1], [5000], [sigma]) == pytest.approx(
            analytic.lognormal_top_share(sigma), abs=1e-9
        )
        assert analytic.lognormal_mixture_gini([1], [5000], [sigma]) == pytest.approx(analytic.lognormal_gini(sigma))
        p = np.array([0.1, 0.5, 0.9])
        assert analytic.lognormal_mixture_lorenz(p, [1], [5000], [sigma]) == pytest.approx(
            analytic.lognormal_lorenz(p, sigma)
        )


def test_mixture_gini_is_one_minus_twice_the_area_under_its_lorenz_curve():
    # two derivations that share nothing: Margrabe's formula for E|X - Y| and the bisected Lorenz curve
    mix = ([0.6, 0.25, 0.15], [3000, 4000, 12000], [1.7, 1.5, 1.8])
    area, _ = integrate.quad(lambda p: analytic.lognormal_mixture_lorenz(p, *mix), 0, 1, limit=200)
    assert analytic.lognormal_mixture_gini(*mix) == pytest.approx(1 - 2 * area, abs=1e-6)


def test_mixture_matches_a_large_sample():
    rng = np.random.default_rng(0)
    segment = rng.choice(2, size=400_000, p=[0.7, 0.3])
    x = np.exp(np.log([1000, 8000])[segment] + np.array([0.8, 1.2])[segment] * rng.standard_normal(segment.size))
    mix = ([0.7, 0.3], [1000, 8000], [0.8, 1.2])
    assert measurement.top_share(x) == pytest.approx(analytic.lognormal_mixture_top_share(*mix), abs=0.003)
    assert measurement.gini(x) == pytest.approx(analytic.lognormal_mixture_gini(*mix), abs=0.003)


def test_old_names_are_the_analytic_functions():
    assert measurement.lognormal_top_share is analytic.lognormal_top_share
    assert measurement.lognormal_gini is analytic.lognormal_gini
    assert recruitment.monthly_signing_probability is analytic.monthly_signing_probability


# -- recruitment -------------------------------------------------------------------------


def test_signing_probability_by_hand():
    scn = sim.load_scenario(BASELINE)  # 2.5 vendor signings a year, win share 0.25
    assert analytic.monthly_signing_probability(scn) == pytest.approx(0.0507502, abs=1e-7)  # 1 - exp(-2.5 / 48)
    assert analytic.signing_probability_within(0.1, 3) == pytest.approx(0.271)  # 1 - 0.9^3
    assert analytic.signing_probability_within(1.0, 0) == 0.0


def test_expected_signings_by_hand():
    # p = 1 - exp(-12 ln 2 / 12) = 0.5; 10 nurtured a month from month 1, two chances each, from the next month
    scn = sim.load_scenario(
        {
            "horizon_months": 4,
            "market": {"prospects": 40, "vendor_signings_per_year": 12 * math.log(2)},
            "recruitment": {"nurture_per_month": 10, "win_share": 1.0, "nurture_months": 2},
        }
    )
    assert analytic.monthly_signing_probability(scn) == pytest.approx(0.5)
    assert analytic.expected_signings(scn) == pytest.approx([0, 0, 5, 7.5, 7.5])
    # cohorts of months 1, 2 have two chances (q = 0.75), month 3 one (0.5), month 4 none: 10 * sum q (1 - q)
    assert analytic.signings_variance(scn) == pytest.approx(10 * (2 * 0.75 * 0.25 + 0.5 * 0.5))
    with pytest.raises(sim.ScenarioError, match=r"prospects >= nurture_per_month x horizon_months = 40; got 39"):
        analytic.expected_signings(scn.override(market__prospects=39))


# -- the engine against the closed forms that are new here -------------------------------


def test_engine_revenue_matches_the_closed_form_mean_and_variance():
    scn = chain_scenario(
        horizon_months=18,
        market={
            "segments": {
                "fast": {"share": 0.6, "activation_multiplier": 1.5, "revenue_median": 1000, "revenue_sigma": 0.2},
                "slow": {"share": 0.4, "activation_multiplier": 0.5, "revenue_median": 3000, "revenue_sigma": 0.4},
            }
        },
        channel={"signed": 60, "active": 50, "collaborating": 30, "dormant": 30},
        activation={"monthly_probability": 0.15, "window_months": 4},
        churn={
            "dormancy_probability": 0.03,
            "exit_probability": 0.02,
            "reactivation_probability": 0.06,
            "dormant_exit_probability": 0.05,
        },
        collaboration={"adoption_probability": 0.04, "lapse_probability": 0.05},
        growth={"active": 0.3, "collaborating": 0.6, "volatility": 0.5},
    )
    R = 4000
    m = sim.simulate(scn, replications=R, seed=11, partners=False).monthly
    trailing = m.pivot(index="replication", columns="month", values="revenue_t12m").to_numpy()
    mean, var = analytic.expected_trailing_revenue(scn), analytic.trailing_revenue_variance(scn)
    z = (trailing.mean(axis=0) - mean) / np.sqrt(var / R)
    assert np.abs(z).max() < 4, z
    # the variance within about 3 standard errors of a sample variance (sd about sqrt(2 / R) of it)
    assert trailing.var(axis=0, ddof=1) / var == pytest.approx(np.ones(19), abs=0.07)
    # a growth rate 10% too high is many standard errors away
    wrong = analytic.expected_trailing_revenue(scn.override(growth__active=0.33, growth__collaborating=0.66))
    assert np.abs((trailing.mean(axis=0) - wrong) / np.sqrt(var / R))[-1] > 8


# -- theory_check and `run.py theory` ---------------------------------------------------


@pytest.fixture(scope="module")
def baseline_check():
    return analytic.theory_check(BASELINE, replications=400, seed=0)


def test_theory_check_on_the_baseline_agrees(baseline_check):
    t = baseline_check
    assert list(t.columns) == [
        "figure",
        "kind",
        "simulated",
        "closed_form",
        "difference",
        "std_error",
        "std_error_from",
        "z",
        "conditions",
    ]
    assert len(t) == 11
    assert np.isfinite(t[["simulated", "closed_form", "std_error", "z"]].to_numpy()).all()
    assert (t["z"].abs() < 4).all(), t[["figure", "z"]]
    assert (t["difference"] == t["simulated"] - t["closed_form"]).all()
    rows = t.set_index("figure")
    assert rows.loc["signed partners, month 36", "std_error"] == 0  # every signed partner has left by month 6
    assert rows.loc["active partners, month 36", "conditions"] == "no recruitment, peer effect, levers, ramp-up"
    assert rows.loc["active partners, month 36", "std_error_from"] == "closed form"
    assert rows.loc["P(a nurturing prospect signs) a month", "closed_form"] == pytest.approx(0.0507502, abs=1e-7)
    assert rows.loc["top-20% share of revenue", "std_error_from"] == "replications"
    assert rows.loc["top-20% share of revenue", "closed_form"] == pytest.approx(0.8354, abs=1e-4)
    # revenue today: 145 earning partners at their segment's mean potential, 12 months
    scn = sim.load_scenario(BASELINE)
    per_segment = {"reseller": 3000 * math.exp(1.7**2 / 2), "msp": 4000 * math.exp(1.5**2 / 2)}
    per_segment["integrator"] = 12000 * math.exp(1.8**2 / 2)
    # 120 active (72, 30, 18) and 25 collaborating (15, 6, 4 by largest remainder), split 60/25/15
    earning = {"reseller": 87, "msp": 36, "integrator": 22}
    assert sum(earning.values()) == scn.channel.active + scn.channel.collaborating
    today = 12 * sum(earning[s] * per_segment[s] for s in earning)
    assert rows.loc["revenue, last 12 months, month 0", "closed_form"] == pytest.approx(today)


def test_theory_check_finds_a_wrong_number(baseline_check, monkeypatch):
    """A closed form 10% off (the engine's win share in the formula scaled by 1.1) is many standard errors away."""
    true = analytic.monthly_signing_probability
    wrong = lambda s: true(s.override(recruitment__win_share=0.275))  # noqa: E731
    monkeypatch.setattr(analytic, "monthly_signing_probability", wrong)
    t = analytic.theory_check(BASELINE, replications=100, seed=0).set_index("figure")
    assert abs(t.loc["P(a nurturing prospect signs) a month", "z"]) > 8
    assert abs(baseline_check.set_index("figure").loc["P(a nurturing prospect signs) a month", "z"]) < 4


def test_theory_check_without_recruitment_leaves_out_the_recruitment_rows():
    scn = sim.load_scenario(BASELINE, recruitment__nurture_per_month=0, horizon_months=12)
    t = analytic.theory_check(scn, replications=30, seed=1)
    assert len(t) == 9 and not (t["conditions"] == "no levers").any()
    assert "active partners, month 12" in set(t["figure"])


def test_theory_check_refuses_bad_arguments_before_running():
    with pytest.raises(sim.ChannelError, match="at least 2"):
        analytic.theory_check(BASELINE, replications=1)
    with pytest.raises(sim.ChannelError, match="seed"):
        analytic.theory_check(BASELINE, replications=10, seed=-1)


def test_cli_theory_prints_the_table(capsys):
    assert main(["theory", BASELINE, "-r", "60", "--seed", "2", "--set", "horizon_months=12"]) == 0
    out = capsys.readouterr().out
    assert "simulated vs closed form, 60 replications, seed 2" in out
    for label in ("active partners, month 12", "revenue, last 12 months, month 12", "top-20% share of revenue"):
        assert label in out
    assert main(["theory", BASELINE, "-r", "1"]) == 2
    assert "at least 2" in capsys.readouterr().err
    assert main(["theory", "missing.yaml"]) == 2
