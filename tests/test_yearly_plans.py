"""Yearly plans: plan.revenue_targets, one target per plan year."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import BASELINE

import simulator as sim

TARGETS = [24e6, 27e6, 30e6]  # the last is the baseline's plan.revenue_target


def yearly():
    return sim.load_scenario(BASELINE, plan__revenue_targets=TARGETS)


def test_each_year_is_its_own_revenue_and_all_years_must_be_met():
    result = sim.simulate(yearly(), replications=60, seed=2)
    k, m = result.kpis, result.monthly
    for y, target in enumerate(TARGETS, start=1):
        in_year = m[(m.month > 12 * (y - 1)) & (m.month <= 12 * y)].groupby("replication")["revenue"].sum()
        np.testing.assert_allclose(k[f"revenue_year_{y}"], in_year.to_numpy(), rtol=1e-9)
        assert (k[f"plan_met_year_{y}"] == (k[f"revenue_year_{y}"] >= target)).all()
    every = k[[f"plan_met_year_{y}" for y in (1, 2, 3)]].all(axis=1)
    assert (k["plan_met"] == every).all()  # so P(all met) <= min over years, replication by replication
    summary = result.summary()
    years = [summary.loc[f"p_plan_met_year_{y}", "mean"] for y in (1, 2, 3)]
    assert summary.loc["p_plan_met", "mean"] <= min(years)
    assert summary.loc["p_plan_met", "mean"] == pytest.approx(every.mean())
    # the last year's revenue is revenue of the last 12 months, exactly
    assert (k["revenue_year_3"] == k["revenue_last_12m"]).all()


def test_yearly_figures_are_compared_with_their_direction():
    cmp = sim.compare(yearly(), replications=12, seed=1, recruitment__nurture_per_month=30)
    d = cmp.differences
    assert d.loc["plan_met_year_2", "better"] == "higher" and d.loc["revenue_year_1", "better"] == "higher"
    assert d.loc["revenue_year_3", "mean_diff"] == pytest.approx(d.loc["revenue_last_12m", "mean_diff"])


@pytest.mark.parametrize(
    ("plan", "needle"),
    [
        ({"revenue_targets": [30e6, 40e6], "revenue_target": None}, "2 yearly target(s) for a 36-month horizon"),
        ({"revenue_targets": [30e6, 40e6, 50e6], "revenue_target": 45e6}, "it must be the last year's, 50m"),
        ({"revenue_targets": [30e6, -1, 50e6]}, "plan.revenue_targets"),
    ],
)
def test_bad_yearly_plans_are_refused(plan, needle):
    with pytest.raises(sim.ScenarioError) as err:
        sim.load_scenario(BASELINE, **{f"plan__{k}": v for k, v in plan.items()})
    assert needle in str(err.value)


def test_sizing_and_capacity_meet_every_year_or_a_named_one():
    scn = sim.load_scenario(BASELINE, plan__revenue_targets=TARGETS, horizon_months=36)
    every = sim.size_recruitment(scn, replications=40, seed=1, workers=1, max_replications=40)
    at = sim.simulate(scn, replications=40, seed=1, recruitment__nurture_per_month=every.value).kpis
    assert every.probability == pytest.approx(at["plan_met"].mean())
    assert "all 3 yearly targets" in every.notes[0]
    second = sim.size_recruitment(scn, replications=40, seed=1, workers=1, max_replications=40, year=2)
    at2 = sim.simulate(scn, replications=40, seed=1, recruitment__nurture_per_month=second.value).kpis
    assert second.probability == pytest.approx(at2["plan_met_year_2"].mean()) and second.target == TARGETS[1]
    cap = sim.capacity(scn, replications=30, seed=2)
    off = sim.simulate(scn, replications=30, seed=2, recruitment__nurture_per_month=0).kpis
    assert cap.p_plan_met == pytest.approx(off["plan_met"].mean())
    cap1 = sim.capacity(scn, replications=30, seed=2, year=1)
    assert cap1.p_plan_met == pytest.approx(off["plan_met_year_1"].mean())
    with pytest.raises(sim.ChannelError, match="numbered from 1"):
        sim.size_recruitment(scn, year=4, replications=4)
    with pytest.raises(sim.ChannelError, match="no yearly targets"):
        sim.capacity(BASELINE, year=1, replications=4)
