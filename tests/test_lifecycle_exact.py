"""Lifecycle rules checked by their numbers: fit score, activation window, peer effect, competing risks,
and the concentration measures against values worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest
from quiet import MAX_Z, MIN_POWER, binomial_se, quiet, scaled

import simulator as sim
from simulator.engine.transitions import thresholds
from simulator.lifecycle import measurement
from simulator.lifecycle.hazards import hazard, scale

# -- fit score -----------------------------------------------------------------------------------

PROSPECTS = 100_000


@pytest.mark.parametrize("accuracy", [0.2, 0.6, 0.95])
def test_fit_score_correlates_with_log_potential_at_the_scoring_accuracy(accuracy):
    """Everyone is nurtured in month 1 and almost everyone signs in month 2, whatever their score, so the
    signed partners are a random sample of the market and the partners table shows its fit scores."""
    data = quiet(
        horizon_months=2,
        market={
            "prospects": PROSPECTS,
            "vendor_signings_per_year": 120.0,
            # a mixture: the score standardises log potential over both segments
            "segments": {
                "a": {"share": 0.7, "revenue_median": 2000, "revenue_sigma": 0.8},
                "b": {"share": 0.3, "revenue_median": 20000, "revenue_sigma": 1.5},
            },
        },
        recruitment={"nurture_per_month": PROSPECTS, "win_share": 1.0, "scoring_accuracy": accuracy},
    )
    p = sim.simulate(data, replications=2, seed=13, concentration=False).partners
    p = p[p.cohort == "recruited"]
    n = len(p)
    assert n > 0.999 * 2 * PROSPECTS
    r = np.corrcoef(p.fit_score, np.log(p.potential))[0, 1]
    se = (1 - accuracy**2) / np.sqrt(n)  # standard error of a sample correlation
    assert abs(r - accuracy) < MAX_Z * se, (r, accuracy, se)
    # the score is standardised: mean 0, variance 1 (a wrong noise weight changes the variance)
    assert abs(p.fit_score.mean()) < MAX_Z / np.sqrt(n)
    assert abs(p.fit_score.var() - 1.0) < MAX_Z * np.sqrt(2.0 / n)


# -- activation window ---------------------------------------------------------------------------


def test_the_activation_window_gives_exactly_window_months_chances():
    """Today's signed partners: dormant at month w with probability (1 - p)^w, not (1 - p)^(w - 1)."""
    p, w, n = 0.15, 5, 100_000
    data = quiet(
        horizon_months=8,
        market={"segments": {"a": {"share": 0.5}, "b": {"share": 0.5, "activation_multiplier": 2.0}}},
        channel={"signed": n},
        activation={"monthly_probability": p, "window_months": w},
    )
    res = sim.simulate(data, replications=1, seed=14)
    m = res.monthly.set_index("month")
    expired = m.window_expiries
    assert expired.drop(w).eq(0).all() and expired[w] > 0  # the window closes in month w, never before or after
    assert m.dormant[w] == expired[w] and m.signed[w] == 0
    part = res.partners
    for segment, multiplier in (("a", 1.0), ("b", 2.0)):
        rows = part[part.segment == segment]
        never = rows.first_deal_month.isna().sum()
        stay = 1 - scaled(p, multiplier)
        right, wrong = stay**w, stay ** (w - 1)
        se = binomial_se(right, len(rows))
        assert abs(right - wrong) > MIN_POWER * se
        assert abs(never / len(rows) - right) < MAX_Z * se, (segment, never / len(rows), right, wrong)
        # the first deal comes in one of months 1..w, each with the geometric probability
        for k in range(1, w + 1):
            share = (rows.time_to_first_deal == k).sum() / len(rows)
            expected = stay ** (k - 1) * (1 - stay)
            assert abs(share - expected) < MAX_Z * binomial_se(expected, len(rows)), (segment, k)


def test_recruited_partners_get_their_window_from_the_month_they_sign():
    p, w = 0.2, 3
    data = quiet(
        horizon_months=12,
        market={"prospects": 40_000, "vendor_signings_per_year": 12.0},
        recruitment={"nurture_per_month": 4000, "win_share": 1.0, "nurture_months": 12},
        activation={"monthly_probability": p, "window_months": w},
    )
    part = sim.simulate(data, replications=1, seed=15).partners
    rec = part[(part.cohort == "recruited") & (part.signed_month + w <= 12)]
    expired = rec[rec.first_deal_month.isna()]
    assert len(expired) > 1000
    # dormant since exactly month signed + w
    np.testing.assert_array_equal(12 - expired.months_in_state, expired.signed_month + w)
    assert (expired.state == "dormant").all()
    assert rec.time_to_first_deal.max() == w
    right, wrong = (1 - p) ** w, (1 - p) ** (w - 1)
    se = binomial_se(right, len(rec))
    assert abs(right - wrong) > MIN_POWER * se
    assert abs(len(expired) / len(rec) - right) < MAX_Z * se


# -- peer effect ---------------------------------------------------------------------------------


def test_peer_effect_share_counts_only_earning_partners():
    """share = collaborating / (active + collaborating), with many signed and dormant partners present."""
    p0, peer, reps = 0.05, 2.0, 4
    channel = {"active": 30_000, "collaborating": 30_000, "dormant": 60_000, "signed": 60_000}
    data = quiet(
        horizon_months=3,
        channel=channel,
        collaboration={"adoption_probability": p0, "peer_effect": peer, "lapse_probability": 0.1},
    )
    m = sim.simulate(data, replications=reps, seed=16, partners=False, concentration=False).monthly
    m = m.sort_values(["replication", "month"])
    before = m.groupby("replication")[["active", "collaborating", "dormant", "signed"]].shift(1)
    steps = m.month >= 1
    a, c, d, s = (before[col][steps].to_numpy(float) for col in ("active", "collaborating", "dormant", "signed"))
    observed = m.adoptions[steps].to_numpy(float)

    def adoption(share: np.ndarray) -> np.ndarray:
        return scaled(p0, 1 + peer * share)

    right = adoption(c / (a + c))
    expected, variance = (a * right).sum(), (a * right * (1 - right)).sum()
    for wrong_share in (c / (a + c + d + s), c / (a + c + d), np.zeros_like(c)):
        assert abs((a * adoption(wrong_share)).sum() - expected) > MIN_POWER * np.sqrt(variance)
    assert abs(observed.sum() - expected) < MAX_Z * np.sqrt(variance), (observed.sum(), expected)


# -- competing risks -----------------------------------------------------------------------------


def test_competing_risks_by_hand():
    p = np.array([0.1, 0.2, 0.3])
    h = hazard(p)
    np.testing.assert_allclose(h, [0.105360516, 0.223143551, 0.356674944], rtol=1e-8)
    cum = thresholds(h[None, :])[0]
    # leave = 1 - 0.9 * 0.8 * 0.7 = 0.496, split in proportion to the hazards
    np.testing.assert_allclose(cum[-1], 0.496, rtol=1e-6)
    np.testing.assert_allclose(cum, 0.496 * np.cumsum(h) / h.sum(), rtol=1e-6)
    np.testing.assert_allclose(cum[:2], [0.07627031, 0.23780357], rtol=1e-6)
    # one move scaled by 3: 1 - (1 - 0.2)^3 = 0.488
    np.testing.assert_allclose(thresholds(scale(hazard(np.array([0.2])), np.array([3.0])))[-1], 0.488, rtol=1e-6)


def test_certain_and_impossible_moves():
    inf = np.inf
    np.testing.assert_array_equal(thresholds(np.array([inf, 0.5, 0.0])), [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(thresholds(np.array([inf, 0.1, inf])), [0.5, 0.5, 1.0])
    np.testing.assert_array_equal(thresholds(np.array([0.0, 0.0, 0.0])), [0.0, 0.0, 0.0])
    np.testing.assert_allclose(thresholds(np.array([0.0, hazard(0.25), 0.0])), [0.0, 0.25, 0.25], rtol=1e-6)
    assert hazard(1.0) == inf and hazard(0.0) == 0.0
    np.testing.assert_array_equal(scale(np.array([inf, 0.3]), np.array([0.0, 0.0])), [0.0, 0.0])  # off, even p = 1
    np.testing.assert_array_equal(scale(np.array([0.3, 0.3]), np.array([2.0, 0.5])), [0.6, 0.15])


def test_certain_moves_share_the_month_row_by_row():
    inf = np.inf
    h = np.array([[inf, 0.1, inf], [inf, 0.0, 0.0], [0.0, hazard(0.5), 0.0]])
    cum = thresholds(h)
    assert cum.dtype == np.float64  # compared with 53-bit uniforms
    np.testing.assert_allclose(cum, [[0.5, 0.5, 1.0], [1.0, 1.0, 1.0], [0.0, 0.5, 0.5]], rtol=1e-6)


# -- concentration, against hand-computed values ---------------------------------------------------


def test_concentration_of_0_1_3_6_10():
    v = [3, 0, 10, 1, 6]  # total 20, order does not matter
    # top 20% of 5 partners is the largest: 10 / 20
    assert measurement.top_share(v) == pytest.approx(0.5, abs=1e-12)
    # top 30% is 1.5 partners: 10 + half of 6 = 13 of 20; top 50% is 2.5: 10 + 6 + half of 3 = 17.5
    assert measurement.top_share(v, q=0.3) == pytest.approx(0.65, abs=1e-12)
    assert measurement.top_share(v, q=0.5) == pytest.approx(0.875, abs=1e-12)
    assert measurement.top_share(v, q=1.0) == pytest.approx(1.0, abs=1e-12)
    # Gini: sum over ordered pairs |xi - xj| = 100, over 2 n^2 mean = 200, is 0.5; corrected by 5/4
    assert measurement.gini(v, corrected=False) == pytest.approx(0.5, abs=1e-12)
    assert measurement.gini(v) == pytest.approx(0.625, abs=1e-12)
    # HHI: shares 0, .05, .15, .3, .5 -> 0 + .0025 + .0225 + .09 + .25
    assert measurement.hhi(v) == pytest.approx(0.365, abs=1e-12)
    assert measurement.effective_partners(v) == pytest.approx(1 / 0.365, abs=1e-12)
    assert measurement.share_earning_nothing(v) == pytest.approx(0.2, abs=1e-12)
    x, y = measurement.lorenz_curve(v)
    np.testing.assert_allclose(x, [0, 0.2, 0.4, 0.6, 0.8, 1.0], atol=1e-12)
    np.testing.assert_allclose(y, [0, 0, 0.05, 0.2, 0.5, 1.0], atol=1e-12)


def test_concentration_of_2_2_4_8():
    v = [8, 2, 4, 2]  # total 16
    assert measurement.top_share(v) == pytest.approx(0.4, abs=1e-12)  # 0.8 of the largest: 6.4 / 16
    assert measurement.top_share(v, q=0.25) == pytest.approx(0.5, abs=1e-12)
    assert measurement.top_share(v, q=0.6) == pytest.approx(0.8, abs=1e-12)  # 2.4 partners: 8 + 4 + 0.4 * 2
    # pairs: |2-4| x2, |2-8| x2, |4-8|, |2-2| -> 20, ordered 40; 2 n^2 mean = 128
    assert measurement.gini(v, corrected=False) == pytest.approx(0.3125, abs=1e-12)
    assert measurement.gini(v) == pytest.approx(0.3125 * 4 / 3, abs=1e-12)
    assert measurement.hhi(v) == pytest.approx(0.34375, abs=1e-12)  # 2 * (1/8)^2 + (1/4)^2 + (1/2)^2
    assert measurement.effective_partners(v) == pytest.approx(32 / 11, abs=1e-12)
    assert measurement.share_earning_nothing(v) == 0.0
    x, y = measurement.lorenz_curve(v)
    np.testing.assert_allclose(x, [0, 0.25, 0.5, 0.75, 1.0], atol=1e-12)
    np.testing.assert_allclose(y, [0, 0.125, 0.25, 0.5, 1.0], atol=1e-12)


def test_concentration_of_small_and_degenerate_sets():
    assert measurement.top_share([7.0]) == pytest.approx(0.2)  # a fifth of the one partner
    assert measurement.gini([7.0]) == 0.0
    assert measurement.hhi([7.0]) == 1.0 and measurement.effective_partners([7.0]) == 1.0
    assert measurement.gini([1, 3], corrected=False) == pytest.approx(0.25)  # |1-3| * 2 / (2 * 4 * 2)
    assert measurement.gini([1, 3]) == pytest.approx(0.5)
    assert measurement.top_share([1, 3]) == pytest.approx(0.3)  # 0.4 of the 3: 1.2 / 4
    assert np.isnan(measurement.hhi([0, 0])) and np.isnan(measurement.effective_partners([0, 0]))
    x, y = measurement.lorenz_curve([0, 0])
    np.testing.assert_allclose(x, [0, 0.5, 1.0])
    np.testing.assert_allclose(y, [0, 0.5, 1.0])
    for bad in ([-1, 2], [np.nan, 1], [np.inf]):
        with pytest.raises(ValueError):
            measurement.gini(bad)
    with pytest.raises(ValueError):
        measurement.top_share([1, 2], q=0)


def test_concentration_rows_by_hand():
    """Earning members versus all members of each row, with a non-member that earns nothing."""
    values = np.array([[3.0, 0.0, 10.0, 1.0, 6.0, 0.0], [8.0, 2.0, 4.0, 2.0, 0.0, 0.0]])
    member = np.array([[True, True, True, True, True, False], [True, True, True, True, True, True]])
    rows = measurement.concentration_rows(values, member)
    np.testing.assert_array_equal(rows["n"], [4, 4])
    np.testing.assert_array_equal(rows["n_all"], [5, 6])
    # row 0 earners 1, 3, 6, 10: top 0.8 partner = 8 of 20; Gini 2*(1+6+18+40)/(4*20) - 5/4 = 0.375, x 4/3
    np.testing.assert_allclose(rows["top_share"], [0.4, 0.4])
    np.testing.assert_allclose(rows["gini"], [0.5, 0.3125 * 4 / 3])
    np.testing.assert_allclose(rows["hhi"], [0.365, 0.34375])
    # all members: row 0 as [0, 1, 3, 6, 10]; row 1 as [0, 0, 2, 2, 4, 8] (1.2 partners: 8 + 0.2 * 4 = 8.8)
    np.testing.assert_allclose(rows["top_share_all"], [0.5, 8.8 / 16])
    # row 1: ordered pair sum 2 * (2+2+4+8 + 2+2+4+8 + 0+2+6 + 2+6 + 4) = 104, / (2 * 36 * 16/6) = 0.541666..
    np.testing.assert_allclose(rows["gini_all"], [0.625, 104 / (2 * 36 * 16 / 6) * 6 / 5])
