"""ROI, payback and NPV of a program change, against hand-computed values on a deterministic channel."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import small_channel

import simulator as sim

H, GM, F, X = 24, 0.5, 20_000.0, 0.1


def still(**sections):
    """Nothing moves and nothing grows: 50 active partners earn their potential every month."""
    zero = {"nurture_per_month": 0}
    return small_channel(
        horizon_months=H,
        channel={"signed": 0, "active": 50, "collaborating": 0, "dormant": 0},
        recruitment=zero,
        churn={k: 0.0 for k in ("dormancy_probability", "exit_probability")},
        collaboration={"adoption_probability": 0.0},
        growth={"active": 0.0, "volatility": 0.0},
        economics={"gross_margin": GM, "discount_rate": 0.12},
        **sections,
    )


def test_roi_payback_and_npv_equal_the_hand_computed_values():
    a = still()
    b = still(
        program={
            "levers": [
                {"name": "campaign", "applies_to": ["active"], "cost": {"fixed_per_month": F}, "months": [1, 6]},
                {"name": "uplift", "applies_to": ["active"], "effects": {"revenue.uplift": X}, "months": [4, H]},
            ]
        }
    )
    cmp = sim.compare(a, b, replications=5, seed=3)
    per = cmp.returns_per_replication.set_index("replication")
    revenue = cmp.a.monthly[cmp.a.monthly.month == 1].set_index("replication")["revenue"]  # constant each month
    gain = GM * X * revenue  # extra contribution a month while the uplift runs
    months = np.arange(1, H + 1)
    for r in per.index:
        diff = np.where(months >= 4, gain[r], 0.0) - np.where(months <= 6, F, 0.0)
        assert per.loc[r, "incremental_contribution"] == pytest.approx(diff.sum(), rel=1e-6)
        assert per.loc[r, "incremental_cost"] == pytest.approx(6 * F, rel=1e-12)
        assert per.loc[r, "roi"] == pytest.approx(diff.sum() / (6 * F), rel=1e-6)
        assert per.loc[r, "npv"] == pytest.approx((diff * 1.12 ** (-months / 12)).sum(), rel=1e-6)
        cumulative = np.cumsum(diff)  # payback: the month after the last one at or below zero
        below = np.flatnonzero(cumulative <= 0)
        expected = (below[-1] + 2 if below.size else 1) if cumulative[-1] > 0 else None
        assert per.loc[r, "payback_month"] == expected and expected is not None
    table = cmp.returns
    assert table.loc["roi", "mean"] == pytest.approx(per["incremental_contribution"].mean() / (6 * F))
    assert table.loc["payback_month", "p_paid_back"] == 1.0


def test_payback_is_the_month_from_which_the_cumulative_difference_stays_positive():
    from simulator.planning.compare import payback_months

    c = np.array([[-5.0, -1.0, 2.0, 3.0], [1.0, -1.0, 2.0, 4.0], [1.0, 2.0, 3.0, 4.0], [-1.0, -0.5, -0.2, -0.1]])
    np.testing.assert_array_equal(payback_months(c), [3.0, 3.0, 1.0, np.nan])


def test_a_change_that_never_pays_back_says_so():
    b = still(program={"levers": [{"name": "desk", "applies_to": ["active"], "cost": {"fixed_per_month": F}}]})
    cmp = sim.compare(still(), b, replications=4, seed=1)
    per = cmp.returns_per_replication
    assert per["payback_month"].isna().all() and (per["incremental_contribution"] == -F * H).all()
    assert cmp.returns.loc["payback_month", "p_paid_back"] == 0.0
    assert np.isinf(cmp.returns.loc["payback_month", "p50"])


def test_a_scenario_against_itself_returns_nothing():
    cmp = sim.compare(still(), replications=3, seed=0)
    per = cmp.returns_per_replication
    assert (per[["incremental_contribution", "incremental_cost", "npv"]] == 0).all().all()
    assert per["roi"].isna().all() and per["payback_month"].isna().all()


def test_the_report_states_the_returns_and_the_uncertain_keys():
    from simulator.reports.html import build_report

    a = sim.load_scenario(still(), uncertainty={"recruitment.win_share": {"beta": [3.0, 7.0]}})
    b = still(program={"levers": [{"name": "desk", "applies_to": ["active"], "cost": {"fixed_per_month": F}}]})
    html = build_report(a, compare_with=b, replications=3).html
    assert 'id="compare-returns"' in html and "beyond month 24" in html
    assert 'id="uncertain-keys"' in html and "recruitment.win_share (beta 3.0, 7.0)" in html
    assert 'id="uncertain-keys"' not in build_report(b, replications=2).html
