"""Planning answers: capacity, sizing against theory, paired comparison, concentration, scorecard."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from conftest import small_channel

import simulator as sim
from simulator import analytic
from simulator.lifecycle import measurement
from simulator.planning import (
    concentration_at_horizon,
    concentration_over_time,
    concentration_trajectory,
    lorenz_points,
    partner_scorecard,
    scorecard,
    what_changed,
)
from simulator.stats import wilson_interval

# -- a scenario whose revenue is a known function of recruitment -------------------------
#
# One segment with sigma 0 (every potential is exactly M), a nurtured prospect signs the
# next month (hazard 120 / 12 = 10: p = 1 - e^-10) and closes its first deal the month
# after (p = 1), nobody churns or grows. A cohort nurtured in month t earns M a month
# from month t + 2, so revenue of the last 12 months is a sum over cohorts.


def deterministic(H: int = 24, N: int = 600, M: float = 1000.0, channel: int = 0, nurture: int = 1) -> dict:
    return {
        "horizon_months": H,
        "market": {
            "prospects": N,
            "vendor_signings_per_year": 120,
            "segments": {"one": {"share": 1.0, "revenue_median": M, "revenue_sigma": 0.0}},
        },
        "channel": {"active": channel},
        "recruitment": {"nurture_per_month": nurture, "win_share": 1.0, "nurture_months": 6, "cooloff_months": 0},
        "activation": {"monthly_probability": 1.0, "window_months": 6},
        "churn": {
            "dormancy_probability": 0,
            "exit_probability": 0,
            "reactivation_probability": 0,
            "dormant_exit_probability": 0,
        },
        "collaboration": {"adoption_probability": 0, "lapse_probability": 0},
        "growth": {"active": 0, "collaborating": 0, "volatility": 0},
        "economics": {"nurture_cost_per_month": 100, "onboarding_cost": 1000},
    }


def theory_revenue(n: int, H: int = 24, N: int = 600, M: float = 1000.0, channel: int = 0) -> float:
    """Revenue of the last 12 months when ``n`` prospects are nurtured a month."""
    total, left, t = 0.0, N, 1
    while left > 0 and t <= H:
        size = min(n, left)
        left -= size
        total += size * max(0, H - max(t + 2, H - 11) + 1) * M
        t += 1
    return total + channel * 12 * M


def test_theory_revenue_matches_the_simulation():
    for n in (3, 17, 45, 600):
        res = sim.simulate(deterministic(nurture=n), replications=8, seed=4, partners=False)
        rev = res.kpis.revenue_last_12m
        # a signing delayed one month (p = e^-10 per company) costs one month of M at most
        assert (rev <= theory_revenue(n)).all() and (rev >= theory_revenue(n) - 2000).all()


@pytest.mark.parametrize(("answer", "channel", "nurture", "confidence"), [(17, 0, 1, 0.9), (9, 40, 30, 0.8)])
def test_sizing_finds_the_theoretical_answer(answer, channel, nurture, confidence):
    f = theory_revenue
    target = (f(answer - 1, channel=channel) + f(answer, channel=channel)) / 2  # halfway between two values
    scn = deterministic(channel=channel, nurture=nurture)
    res = sim.size_recruitment(scn, target=target, confidence=confidence, replications=120, seed=3, workers=1)
    assert res.reachable and res.verified
    assert res.value == answer
    assert res.probability >= confidence and res.probability_below < confidence
    assert res.value_below == answer - 1
    # the search started from the scenario's value and went the right way
    assert res.curve.sort_values("step").value.iloc[0] == nurture
    # what it implies: cohorts nurtured in months 1..23 sign by month 24, those of 1..22 close a first deal
    years = 2.0
    assert res.implied["signings_per_year"] == pytest.approx(answer * 23 / years, abs=0.05)
    assert res.implied["first_deals_per_year"] == pytest.approx(answer * 22 / years, abs=0.05)
    assert res.implied["nurtured_per_year"] == pytest.approx(answer * 12)
    nurture_cost = 100 * answer * 24  # one month-end in nurturing per prospect
    assert res.implied["recruitment_cost_total"] == pytest.approx(nurture_cost + 1000 * answer * 23, rel=1e-3)
    assert res.curve["meets"].tolist() == (res.curve["value"] >= answer).tolist()


def test_sizing_answer_zero_when_todays_channel_suffices():
    scn = deterministic(channel=50, nurture=4)
    res = sim.size_recruitment(scn, target=50 * 12 * 1000, replications=20, seed=1, workers=1)
    assert res.reachable and res.value == 0 and res.value_below is None and res.verified
    assert "without recruiting" in res.message


def test_plan_beyond_the_market_is_unreachable():
    res = sim.size_recruitment(deterministic(), target=8e6, replications=30, seed=1, workers=1)
    assert res.reachable is False and res.value is None and res.probability is None
    assert res.best_probability == 0.0
    assert res.limit.startswith("the market")
    assert res.curve["value"].max() == 600  # the upper limit was tried: the whole market nurtured at once
    assert "not reachable" in res.message


def test_plan_beyond_the_horizon_is_unreachable():
    # Everything nurtured in month 1 earns from month 3: 10 of the 12 months, 6.0m at most.
    res = sim.size_recruitment(deterministic(H=12), target=6.6e6, replications=30, seed=1, workers=1)
    assert not res.reachable
    assert res.limit.startswith("the horizon")
    assert res.implied["revenue_p50"] == pytest.approx(theory_revenue(600, H=12), abs=2000)


def test_sizing_claim_holds_on_fresh_seeds():
    scn = sim.load_scenario(small_channel(), plan__revenue_target=9_000_000)
    res = sim.size_recruitment(scn, replications=200, seed=11, workers=1)
    assert res.reachable and res.verified and 0 < res.value < 300
    fresh = sim.simulate(
        scn,
        replications=range(1000, 1400),
        seed=12345,
        partners=False,
        concentration=False,
        recruitment__nurture_per_month=res.value,
    )
    p = fresh.kpis.plan_met.mean()
    # the search's estimate is itself noisy (200 replications) and the smallest passing value is
    # selected, so allow three standard errors of both estimates
    se = math.sqrt(res.confidence * (1 - res.confidence) * (1 / 200 + 1 / 400))
    assert p >= res.confidence - 3 * se, (p, res.value)


def test_workers_do_not_change_the_answer():
    scn = sim.load_scenario(small_channel(), plan__revenue_target=12_000_000)
    one = sim.size_recruitment(scn, replications=64, seed=2, workers=1)
    two = sim.size_recruitment(scn, replications=64, seed=2, workers=2)
    pd.testing.assert_frame_equal(one.curve, two.curve)
    assert one.value == two.value


def test_sizing_other_decisions():
    base = deterministic(nurture=20)
    # a continuous key: the answer sits within the tolerance of where P crosses the confidence
    target = theory_revenue(20) * 1.5
    res = sim.size_recruitment(
        base, target=target, decision="market.segments.one.revenue_median", replications=20, seed=1, workers=1
    )
    assert res.reachable and res.verified
    exact = 1000 * 1.5  # revenue is proportional to the potential
    assert exact - 0.01 <= res.value <= exact + 2.0
    assert res.value - res.value_below <= 2.0
    # a lever's intensity, named by the lever
    scn = sim.load_scenario(
        base,
        program__levers=[{"name": "boost", "applies_to": ["active"], "effects": {"revenue.uplift": 0.5}}],
    )
    res = sim.size_recruitment(scn, target=target, decision="lever:boost", replications=20, seed=1, workers=1)
    assert res.decision == "program.levers[0].intensity"
    assert 1.0 - 1e-9 <= res.value <= 1.0 + 0.01  # uplift 0.5 * intensity 1 gives exactly 1.5x
    same = sim.size_recruitment(
        scn, target=target, decision="program.levers[0].intensity", replications=20, seed=1, workers=1
    )
    assert same.value == res.value
    assert "program levers cost" in res.message and "partners a year" not in res.message


def test_a_plateau_is_reported_as_noise():
    from simulator.planning.decisions import resolve
    from simulator.planning.sizing import Evaluation, _monotonicity_notes

    decision = resolve(sim.load_scenario(small_channel()), "activation.window_months")

    def evaluation(value, met):  # 400 replications, `met` of them meeting the plan
        revenue = np.r_[np.ones(met), np.zeros(400 - met)]
        return Evaluation(value, 1, {"revenue": revenue}, 0.5)

    flat = [evaluation(3, 352), evaluation(4, 360), evaluation(6, 361)]  # 0.88, 0.90, 0.90
    assert any("within the noise" in n for n in _monotonicity_notes(flat, 400, decision, found=4))
    steep = [evaluation(3, 200), evaluation(4, 360), evaluation(6, 390)]
    assert not any("within the noise" in n for n in _monotonicity_notes(steep, 400, decision, found=4))
    met_at_once = [evaluation(1, 380), evaluation(4, 381)]  # the lowest value already meets the plan
    assert not _monotonicity_notes(met_at_once, 400, decision, found=1)


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({}, "plan.revenue_target"),
        ({"target": 0}, "target = 0"),
        ({"target": -5.0}, "> 0"),
        ({"target": math.inf}, "finite"),
        ({"target": 1e6, "confidence": 1.0}, "between 0 and 1"),
        ({"target": 1e6, "confidence": 0}, "between 0 and 1"),
        ({"target": 1e6, "decision": "activation.windw_months"}, "did you mean 'activation.window_months'"),
        ({"target": 1e6, "decision": "churn.exit_probability"}, "more of it lowers revenue"),
        ({"target": 1e6, "decision": "economics.onboarding_cost"}, "does not change revenue"),
        ({"target": 1e6, "decision": "name"}, "not a number"),
        ({"target": 1e6, "decision": "lever:nope"}, "no lever named 'nope'"),
        ({"target": 1e6, "decision": "program.levers[3].intensity"}, "numbered from 0"),
        ({"target": 1e6, "replications": 0}, "replications"),
        ({"target": 1e6, "tolerance": 0.5}, "whole number"),
    ],
)
def test_sizing_errors_are_one_line(kwargs, needle):
    with pytest.raises(sim.ChannelError) as err:
        sim.size_recruitment(deterministic(), **{"replications": 4, "workers": 1, **kwargs})
    message = str(err.value)
    assert needle in message and "\n" not in message


def test_a_lever_that_lowers_revenue_cannot_be_sized():
    scn = sim.load_scenario(
        deterministic(),
        program__levers=[{"name": "bad", "applies_to": ["active"], "effects": {"churn.exit_probability": 0.2}}],
    )
    with pytest.raises(sim.ChannelError, match="lower revenue"):
        sim.size_recruitment(scn, target=1e6, decision="lever:bad", replications=4, workers=1)


def test_wilson_interval():
    lo, hi = wilson_interval(90, 100)
    assert lo == pytest.approx(0.8256, abs=1e-4) and hi == pytest.approx(0.9448, abs=1e-4)
    assert wilson_interval(0, 50)[0] == 0.0 and wilson_interval(50, 50)[1] == 1.0
    assert wilson_interval(0, 50)[1] > 0  # never collapses to a point
    low, high = wilson_interval(np.array([1, 17, 180, 199]), 200)
    assert (low < high).all() and low.shape == (4,)


# -- capacity ---------------------------------------------------------------------


def test_capacity_equals_simulate_with_recruitment_off(small):
    cap = sim.capacity(small, replications=12, seed=7)
    ref = sim.simulate(small, replications=12, seed=7, recruitment__nurture_per_month=0)
    pd.testing.assert_frame_equal(cap.monthly, ref.monthly)
    pd.testing.assert_frame_equal(cap.result.partners, ref.partners)
    assert cap.scenario.recruitment.nurture_per_month == 0
    m = ref.monthly
    t0 = m[m.month == 0].revenue_t12m.to_numpy()
    tH = m[m.month == 24].revenue_t12m.to_numpy()
    assert np.allclose(cap.per_replication.growth_rate, (tH / t0) ** (12 / 24) - 1)
    target = small["plan"]["revenue_target"]
    assert cap.p_plan_met == pytest.approx((tH >= target).mean())
    assert np.allclose(cap.per_replication.gap_to_plan, target - tH)
    assert cap.gap_at_confidence == pytest.approx(max(target - np.quantile(tH, 0.1), 0))
    traj = cap.trajectory.set_index(["figure", "month"])
    band = m[m.month == 12].revenue_t12m
    assert traj.loc[("revenue_t12m", 12), "p50"] == pytest.approx(band.median())
    assert traj.loc[("revenue_t12m", 12), "p90"] == pytest.approx(band.quantile(0.9))
    summary = cap.summary()
    assert {"revenue_last_12m", "growth_rate", "gap_to_plan", "p_plan_met", "gap_at_confidence"} <= set(summary.index)


def test_capacity_growth_of_a_channel_without_churn():
    scn = {
        "horizon_months": 24,
        "market": {"prospects": 0},
        "channel": {"active": 2000},
        "churn": {"dormancy_probability": 0, "exit_probability": 0},
        "collaboration": {"adoption_probability": 0},
        "growth": {"active": 0.11, "volatility": 0.0},
    }
    cap = sim.capacity(scn, replications=2, seed=1, target=1.0)
    # month m earns potential * 1.11^(m/12); month 0's trailing year is 12 months at potential
    ratio = np.mean(1.11 ** (np.arange(13, 25) / 12))
    assert cap.growth_rate == pytest.approx(ratio ** (12 / 24) - 1, rel=1e-4)
    assert cap.p_plan_met == 1.0


def test_capacity_without_target_has_no_plan_figures():
    data = small_channel(plan={"revenue_target": None})
    cap = sim.capacity(data, replications=3, seed=1)
    assert cap.target is None and cap.p_plan_met is None and cap.gap_at_confidence is None
    assert "gap_to_plan" not in cap.per_replication


# -- compare ----------------------------------------------------------------------


def test_compare_a_with_a_is_exactly_zero(small):
    res = sim.compare(small, small, replications=15, seed=4)
    d = res.differences
    defined = d.dropna(subset=["mean_diff"])
    assert (defined.mean_diff == 0).all()
    assert (defined.p05.fillna(0) == 0).all() and (defined.p95.fillna(0) == 0).all()
    assert d.loc["plan_met", ["p05", "p95"]].isna().all()  # no interval for a yes/no figure
    assert (defined.p_b_better.fillna(0) == 0).all()
    assert (res.paired.drop(columns="replication").fillna(0).to_numpy() == 0).all()
    assert res.changes.empty and res.identical
    assert (res.trajectory.mean_diff == 0).all()
    # one scenario and no overrides: the same comparison
    assert sim.compare(small, replications=3).identical


def test_compare_lever_on_activation_is_paired(small):
    b = small_channel()
    b["program"] = {"levers": [{"use": "presales_support"}]}
    res = sim.compare(small, b, replications=20, seed=5)
    ka, kb = res.a.kpis.set_index("replication"), res.b.kpis.set_index("replication")
    assert (kb.activations >= ka.activations).all()
    assert (kb.activations > ka.activations).mean() > 0.5
    assert (res.paired.activations >= 0).all()
    row = res.differences.loc["activations"]
    assert row.mean_diff == pytest.approx((kb.activations - ka.activations).mean())
    assert row.p05 <= row.mean_diff <= row.p95
    assert row.p_b_better == pytest.approx((kb.activations > ka.activations).mean())
    # cost goes up: lower is better, so P(B better) is the share where B costs less
    cost = res.differences.loc["cost_total"]
    assert cost.better == "lower" and cost.p_b_better == pytest.approx((kb.cost_total < ka.cost_total).mean())
    assert res.changes[["kind", "key"]].values.tolist() == [["lever added", "lever:presales_support"]]


def test_compare_with_overrides_and_what_changed(small):
    res = sim.compare(small, replications=4, seed=1, activation__window_months=9)
    assert res.b.scenario.activation.window_months == 9
    assert res.changes.to_dict("records") == [{"kind": "key", "key": "activation.window_months", "a": 6, "b": 9}]

    a = sim.load_scenario(small, program__levers=[{"use": "training"}, {"use": "rebates"}])
    b = sim.load_scenario(small, program__levers=[{"use": "rebates", "intensity": 2}, {"use": "events"}])
    changes = what_changed(a, b).set_index("key")
    assert changes.loc["lever:rebates.intensity"].tolist() == ["lever changed", 1.0, 2.0]
    assert changes.loc["lever:events", "kind"] == "lever added"
    assert changes.loc["lever:training", "kind"] == "lever removed"
    assert len(changes) == 3  # reordering levers is not a change
    assert what_changed(a, a.override(name="other")).empty  # nor is the name


# -- concentration -----------------------------------------------------------------


def _partners(rows):
    return pd.DataFrame(rows, columns=["replication", "state", "revenue_t12m"])


def test_concentration_at_horizon_hand_example():
    partners = _partners(
        [
            (0, "active", 1.0),
            (0, "active", 2.0),
            (0, "collaborating", 3.0),
            (0, "active", 4.0),
            (0, "dormant", 0.0),  # signed, earns nothing
            (0, "churned", 0.0),  # left and earned nothing in the year: not a partner any more
            (1, "active", 10.0),
            (1, "signed", 0.0),
            (1, "churned", 5.0),  # left during the year after earning: still counts
        ]
    )
    c = concentration_at_horizon(partners).set_index("replication")
    r0 = c.loc[0]
    assert r0.earning_partners == 4 and r0.signed_partners == 5
    assert r0.share_earning_nothing == pytest.approx(0.2)
    assert r0.gini == pytest.approx(1 / 3)  # [1, 2, 3, 4]: 0.25 corrected by 4/3
    assert r0.top_share == pytest.approx(0.32)
    assert r0.hhi == pytest.approx(0.30) and r0.effective_partners == pytest.approx(1 / 0.3)
    assert r0.gini_all == pytest.approx(measurement.gini([0, 1, 2, 3, 4]))
    r1 = c.loc[1]
    assert r1.earning_partners == 2 and r1.signed_partners == 3
    assert r1.share_earning_nothing == pytest.approx(1 / 3)
    assert r1.hhi == pytest.approx((10 / 15) ** 2 + (5 / 15) ** 2)


def test_lorenz_points_match_the_one_dimensional_curve():
    partners = _partners([(0, "active", v) for v in (1.0, 2.0, 3.0, 4.0)] + [(1, "active", v) for v in (5.0, 5.0)])
    lor = lorenz_points(partners, points=5)
    x, y = measurement.lorenz_curve([1, 2, 3, 4])
    assert np.allclose(lor.partner_share, x)
    assert np.allclose(lor.p10.iloc[[0, -1]], [0, 1])
    # replication 1 is the equality line; the mean is halfway between the two curves
    assert np.allclose(lor["mean"], (y + x) / 2)
    with_zero = _partners([(0, "active", 4.0), (0, "signed", 0.0)])
    assert np.allclose(lorenz_points(with_zero, among="all", points=3)["mean"], [0, 0, 1])
    assert np.allclose(lorenz_points(with_zero, among="earning", points=3)["mean"], [0, 0.5, 1])
    with pytest.raises(sim.ChannelError):
        lorenz_points(with_zero, among="some")


def test_concentration_trajectory_matches_the_monthly_table(small):
    res = sim.simulate(small, replications=6, seed=9)
    traj = concentration_trajectory(res)
    m = res.monthly
    assert traj[["replication", "month"]].equals(m[["replication", "month"]])
    assert (traj.earning_partners.to_numpy() == m.earning_partners.to_numpy()).all()
    for mine, theirs in (("top_share", "top20_share"), ("gini", "gini"), ("hhi", "hhi"), ("gini_all", "gini_all")):
        assert np.allclose(traj[mine], m[theirs], rtol=1e-4, equal_nan=True), mine
    in_channel = m.signed + m.active + m.collaborating + m.dormant
    assert (traj.signed_partners >= in_channel).all()
    # at the horizon it agrees with the partner scorecard
    H = res.scenario.horizon_months
    last = traj[traj.month == H].set_index("replication")
    horizon = concentration_at_horizon(res.partners).set_index("replication")
    assert (last.signed_partners == horizon.signed_partners).all()
    assert np.allclose(last.share_earning_nothing, horizon.share_earning_nothing)
    assert np.allclose(last.gini, horizon.gini, rtol=1e-4)
    bands = concentration_over_time(res, q=0.5)
    assert set(bands.figure) >= {"top_share", "effective_partners", "share_earning_nothing"}
    assert len(bands) == (H + 1) * bands.figure.nunique()


@pytest.mark.parametrize("sigma", [1.0, 1.7])
def test_concentration_over_time_lognormal_closed_form(sigma):
    scn = {
        "horizon_months": 2,
        "market": {"prospects": 0, "segments": {"one": {"share": 1.0, "revenue_sigma": sigma}}},
        "channel": {"active": 20000},
        "churn": {"dormancy_probability": 0, "exit_probability": 0},
        "collaboration": {"adoption_probability": 0},
        "growth": {"volatility": 0.0},
    }
    bands = concentration_over_time(scn, replications=2, seed=3, q=0.1).set_index(["figure", "month"])
    assert bands.loc[("top_share", 2), "mean"] == pytest.approx(analytic.lognormal_top_share(sigma, 0.1), abs=0.02)
    assert bands.loc[("gini", 2), "mean"] == pytest.approx(analytic.lognormal_gini(sigma), abs=0.015)
    if sigma == 1.0:  # HHI of n lognormal partners, exp(sigma^2) / n; at 1.7 its estimate is too heavy-tailed
        assert bands.loc[("hhi", 0), "mean"] == pytest.approx(math.exp(sigma**2) / 20000, rel=0.1)
    assert bands.loc[("share_earning_nothing", 2), "mean"] == 0.0


# -- scorecard --------------------------------------------------------------------


def test_scorecard_tiers_and_totals(small):
    card = scorecard(small, replications=8, seed=2)
    t = card.table.set_index(["segment", "tier"])
    p = card.result.partners
    member = p.state.astype(str).isin(["signed", "active", "collaborating", "dormant"]) | (p.revenue_t12m > 0)
    assert t.loc[("all", "all"), "partners"] == pytest.approx(member.sum() / 8)
    assert t.loc[("all", "all"), "revenue_share"] == pytest.approx(1.0)
    for seg in ("reseller", "msp", "integrator", "all"):
        tiers = t.loc[seg].drop(index="all")
        assert tiers.partners.sum() == pytest.approx(t.loc[(seg, "all"), "partners"])
        assert tiers.revenue_share.sum() == pytest.approx(t.loc[(seg, "all"), "revenue_share"])
    assert t.loc[("all", "no revenue"), "revenue_t12m"] == 0
    earning = (p.revenue_t12m > 0).groupby(p.replication).sum()
    assert t.loc[("all", "top 20%"), "partners"] == pytest.approx(np.ceil(0.2 * earning).mean())
    recruited = p[member & p.signed_month.notna()]
    assert t.loc[("all", "all"), "activation_rate"] == pytest.approx(recruited.first_deal_month.notna().mean())


def test_scorecard_hand_example():
    revenue = [100.0, 50.0, 20.0, 10.0, 5.0, 0.0]
    partners = pd.DataFrame(
        {
            "replication": 0,
            "segment": pd.Categorical(["a"] * 6, categories=["a", "b"]),
            "state": ["active"] * 5 + ["signed"],
            "cohort": "recruited",
            "signed_month": pd.array([1] * 6, dtype="Int64"),
            "time_to_first_deal": pd.array([2, 3, 4, 5, 6, None], dtype="Int64"),
            "growth_12m": 0.1,
            "revenue_t12m": revenue,
        }
    )
    t = partner_scorecard(partners).set_index(["segment", "tier"])
    # 5 earners: the top tier holds ceil(1.0) = 1, the top two ceil(2.5) = 3, the bottom 2
    assert t.loc[("a", "top 20%"), "partners"] == 1
    assert t.loc[("a", "top 20%"), "revenue_share"] == pytest.approx(100 / 185)
    assert t.loc[("a", "next 30%"), "partners"] == 2 and t.loc[("a", "bottom 50%"), "partners"] == 2
    assert t.loc[("a", "no revenue"), "partners"] == 1
    assert t.loc[("a", "all"), "activation_rate"] == pytest.approx(5 / 6)
    assert t.loc[("a", "all"), "median_months_to_first_deal"] == 4
    assert t.loc[("b", "all"), "partners"] == 0  # an empty segment still has its rows


def test_sizing_answers_the_same_on_every_executor():
    """Sizing runs on the sweeps' executor path: one process, two processes and a local Dask cluster agree."""
    scn = sim.load_scenario(small_channel(horizon_months=12, plan={"revenue_target": 3_000_000}))
    runs = [
        sim.size_recruitment(scn, replications=40, seed=5, workers=1),
        sim.size_recruitment(scn, replications=40, seed=5, workers=2),
        sim.size_recruitment(scn, replications=40, seed=5, dask="local", workers=2),
    ]
    first = runs[0]
    for other in runs[1:]:
        assert other.value == first.value and other.probability == first.probability
        pd.testing.assert_frame_equal(other.curve, first.curve)
