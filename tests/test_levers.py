"""Program levers: effects on common random numbers, month ranges, targeting, costs."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import small_channel

import simulator as sim


def _run(levers, reps=20, seed=5, **sections):
    data = small_channel(**sections)
    data["program"] = {"levers": levers}
    return sim.simulate(data, replications=reps, seed=seed)


def test_activation_lever_gives_more_activations_on_every_paired_replication():
    a = _run([])
    b = _run([{"use": "presales_support"}])
    ka, kb = a.kpis.set_index("replication"), b.kpis.set_index("replication")
    assert (kb.activations >= ka.activations).all()
    assert (kb.activations > ka.activations).mean() > 0.5
    # recruitment does not depend on activation: identical nurturing and signings
    assert (kb.signings == ka.signings).all() and (kb.nurtured == ka.nurtured).all()


def test_zero_intensity_and_empty_months_change_nothing_but_nothing():
    base = _run([])
    off = _run([{"use": "co_selling", "intensity": 0.0}])
    never = _run([{"use": "co_selling", "months": [5, 4]}])
    for other in (off, never):
        assert np.array_equal(base.monthly.revenue, other.monthly.revenue)
        assert (other.monthly.cost_program == 0).all()


def test_lever_months_are_inclusive():
    r = _run([{"name": "desk", "applies_to": ["active"], "cost": {"fixed_per_month": 1000}, "months": [3, 5]}], reps=2)
    m = r.replication(0).set_index("month")
    assert m.cost_program.tolist()[:8] == [0, 0, 0, 1000, 1000, 1000, 0, 0]
    lc = r.lever_costs
    assert set(lc.lever.cat.categories) == {"desk"}
    assert lc.groupby("replication").cost.sum().eq(3000).all()


def test_costs_follow_targeted_partners():
    lever = {
        "name": "tier",
        "applies_to": ["active", "collaborating"],
        "cost": {"per_partner_month": 10, "per_signing": 100},
    }
    r = _run([lever], reps=3)
    m = r.monthly[r.monthly.month > 0]
    expected = 10 * (m.active + m.collaborating) + 100 * m.signings
    assert np.allclose(m.cost_program, expected)


def test_segment_targeted_costs_count_only_that_segment():
    data = small_channel(horizon_months=8)
    data["program"] = {
        "levers": [
            {"name": "msp_desk", "applies_to": ["active"], "segments": ["msp"], "cost": {"per_partner_month": 10}}
        ]
    }
    model = sim.ChannelModel(scenario=data, seed=6)
    for _ in range(8):
        model.step()
        msp_active = sum(1 for a in model.partners_in("active") if a.segment == "msp")
        assert model.datacollector.model_vars["cost_program"][-1] == pytest.approx(10 * msp_active)


def test_revenue_share_and_uplift():
    base = _run([], reps=4)
    rebate = _run(
        [
            {
                "name": "rebate",
                "applies_to": ["active", "collaborating"],
                "effects": {"revenue.uplift": 0.10},
                "cost": {"revenue_share": 0.05},
            }
        ],
        reps=4,
    )
    # same draws, same partners: revenue is exactly 10% higher from month 1 on
    mb, mr = base.monthly, rebate.monthly
    steps = mb.month > 0
    assert np.allclose(mr.revenue[steps], 1.10 * mb.revenue[steps], rtol=1e-5)
    assert np.allclose(mr.cost_program[steps], 0.05 * mr.revenue[steps], rtol=1e-5)


def test_segment_targeting():
    data = small_channel()
    data["program"] = {
        "levers": [
            {"name": "msp_only", "applies_to": ["signed", "msp"], "effects": {"activation.monthly_probability": -1.0}}
        ]
    }
    r = sim.simulate(data, replications=5, seed=2)
    p = r.partners
    # no msp partner signed during the horizon can close a first deal while the lever runs
    msp = p[(p.segment == "msp") & p.signed_month.notna()]
    assert msp.first_deal_month.isna().all() or (msp.first_deal_month > msp.signed_month + 6).all()
    other = p[(p.segment != "msp") & (p.cohort == "recruited")]
    assert other.first_deal_month.notna().any()


@pytest.mark.parametrize("prob", [0.0, 1.0])
def test_extreme_probabilities_run(prob):
    data = small_channel(
        activation={"monthly_probability": prob},
        churn={
            "dormancy_probability": prob,
            "exit_probability": prob,
            "reactivation_probability": prob,
            "dormant_exit_probability": prob,
        },
        collaboration={"adoption_probability": prob, "lapse_probability": prob},
        recruitment={"win_share": prob},
    )
    r = sim.simulate(data, replications=3, seed=1)
    counts = r.monthly[["prospect", "nurturing", "signed", "active", "collaborating", "dormant", "churned"]]
    assert (counts.sum(axis=1) == r.scenario.companies).all()
