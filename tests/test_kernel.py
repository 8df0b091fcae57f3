"""Invariants of the kernel: conservation, determinism, accounting identities."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import BASELINE, small_channel

import simulator as sim
from simulator.engine.streams import mix, replication_keys
from simulator.lifecycle.states import STATE_LABELS


@pytest.fixture(scope="module")
def result():
    return sim.simulate(small_channel(), replications=30, seed=11)


def test_conservation_every_month(result):
    counts = result.monthly[list(STATE_LABELS)].sum(axis=1)
    assert (counts == result.scenario.companies).all()
    assert (result.monthly[list(STATE_LABELS)] >= 0).all().all()


def test_shape_and_columns(result):
    m = result.monthly
    H = result.scenario.horizon_months
    assert len(m) == 30 * (H + 1)
    assert list(m.columns[:2]) == ["replication", "month"]
    for col in (
        "nurtured",
        "signings",
        "activations",
        "to_dormant",
        "reactivations",
        "exits",
        "adoptions",
        "lapses",
        "revenue",
        "cost",
        "contribution",
        "top20_share",
        "gini",
        "hhi",
        "top20_share_all",
        "gini_all",
    ):
        assert col in m.columns
    first = m[m.month == 0]
    assert (first[["nurtured", "signings", "activations", "exits"]] == 0).all().all()


def test_flows_balance_stocks(result):
    m = result.monthly.sort_values(["replication", "month"])
    prev = m.groupby("replication").shift(1)
    rows = m.month > 0
    d = m[rows]
    p = prev[rows]
    assert (d.prospect == p.prospect - d.nurtured + d.nurture_expiries).all()
    assert (d.nurturing == p.nurturing + d.nurtured - d.signings - d.nurture_expiries).all()
    assert (d.churned == p.churned + d.exits).all()
    assert (d.collaborating - p.collaborating <= d.adoptions).all()


def test_economics_identities(result):
    m = result.monthly
    gm = result.scenario.economics.gross_margin
    assert np.allclose(m.margin, gm * m.revenue)
    assert np.allclose(m.contribution, m.margin - m.cost)
    assert np.allclose(m.cost, m.cost_nurture + m.cost_onboarding + m.cost_program)
    steps = m[m.month > 0]
    assert np.allclose(steps.cost_nurture, steps.nurturing * result.scenario.economics.nurture_cost_per_month)
    assert np.allclose(steps.cost_onboarding, steps.signings * result.scenario.economics.onboarding_cost)
    assert (m.revenue >= 0).all() and (m.cost >= 0).all()


def test_trailing_revenue_is_the_sum_of_twelve_months(result):
    m = result.monthly.sort_values(["replication", "month"])
    H = result.scenario.horizon_months
    for _, one in m.groupby("replication"):
        rev = one.revenue.to_numpy()
        assert one.revenue_t12m.iloc[H] == pytest.approx(rev[H - 11 : H + 1].sum(), rel=1e-5)


def test_concentration_bounds(result):
    m = result.monthly
    for col in ("top20_share", "gini", "hhi", "top20_share_all", "gini_all"):
        v = m[col].dropna()
        assert ((v >= 0) & (v <= 1)).all(), col
    assert (m.top20_share >= 0.2 - 1e-9).all()
    in_channel = m.signed + m.active + m.collaborating + m.dormant
    assert (m.signed_partners >= in_channel).all() and (m.signed_partners >= m.earning_partners).all()
    assert (m.signed_partners <= in_channel + m.churned).all()
    assert (m.top20_share_all >= m.top20_share - 1e-9).all()


def test_same_seed_same_numbers_other_seed_other_numbers():
    a = sim.simulate(small_channel(), replications=5, seed=3)
    b = sim.simulate(small_channel(), replications=5, seed=3)
    c = sim.simulate(small_channel(), replications=5, seed=4)
    pd.testing.assert_frame_equal(a.monthly, b.monthly, check_exact=True)
    pd.testing.assert_frame_equal(a.partners, b.partners, check_exact=True)
    assert not a.monthly.revenue.equals(c.monthly.revenue)


def test_replication_alone_equals_replication_among_fifty():
    scn = sim.load_scenario(BASELINE, horizon_months=18)
    among = sim.simulate(scn, replications=50, seed=9)
    for r in (0, 17, 49):
        alone = sim.simulate(scn, replications=[r], seed=9)
        pd.testing.assert_frame_equal(alone.monthly, among.replication(r), check_exact=True)
        pa = among.partners[among.partners.replication == r].reset_index(drop=True)
        pd.testing.assert_frame_equal(alone.partners, pa, check_exact=True)


def test_replication_keys_are_distinct_and_depend_only_on_seed_and_index():
    keys = replication_keys(5, range(200_000))
    assert np.unique(keys).size == keys.size  # mix is a bijection: distinct replications, distinct keys
    assert keys[[7, 123_456]].tolist() == replication_keys(5, [7, 123_456]).tolist()
    root = np.random.SeedSequence(5).generate_state(1, np.uint64)[0]
    assert keys[3] == mix(root ^ mix(np.array([3], np.uint64)))[0]  # the documented construction
    other = replication_keys(6, range(200_000))
    assert np.intersect1d(keys, other).size == 0  # another seed, other keys


def test_partner_scorecard(result):
    p = result.partners
    assert set(p.cohort.cat.categories) == {"current", "recruited"}
    current = p[p.cohort == "current"]
    assert len(current) == 30 * result.scenario.channel.partners
    rec = p[p.cohort == "recruited"]
    assert rec.signed_month.notna().all() and (rec.signed_month >= 2).all()  # nurtured month 1, sign from month 2
    deal = rec.dropna(subset=["first_deal_month"])
    assert (deal.time_to_first_deal >= 1).all()
    assert (p.months_collaborating >= 0).all() and (p.months_collaborating <= result.scenario.horizon_months).all()
    assert (p.revenue_t12m >= 0).all()
    never = p[p.first_deal_month.isna()]
    assert (never.run_rate == 0).all()
    # trailing revenue per partner adds up to the monthly trailing revenue (ever-signed companies earn it all)
    H = result.scenario.horizon_months
    per_rep = p.groupby("replication").revenue_t12m.sum()
    last = result.monthly[result.monthly.month == H].set_index("replication").revenue_t12m
    assert np.allclose(per_rep.sort_index(), last.sort_index(), rtol=1e-5)


def test_summary_has_bands(result):
    s = result.summary()
    assert {"mean", "p10", "p50", "p90"} <= set(s.columns)
    assert "revenue_last_12m" in s.index and "p_plan_met" in s.index
    row = s.loc["revenue_last_12m"]
    assert row.p10 <= row.p50 <= row.p90


def test_replications_argument_is_checked():
    with pytest.raises(sim.ChannelError):
        sim.simulate(small_channel(), replications=0)
    with pytest.raises(sim.ChannelError):
        sim.simulate(small_channel(), replications=[1, 1])
    with pytest.raises(sim.ChannelError):
        sim.simulate(small_channel(), seed=-1)


def test_summary_of_chosen_figures_keeps_p_plan_met(result):
    s = result.summary(["revenue_last_12m", "p_plan_met"])
    assert list(s.index) == ["revenue_last_12m", "p_plan_met"]
    assert s.loc["p_plan_met", "mean"] == pytest.approx(result.kpis.plan_met.mean())
