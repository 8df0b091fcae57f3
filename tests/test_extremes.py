"""Extreme scenarios run without a crash and give sensible numbers.

No prospects, no partners, nobody able to earn, a single company, 200,000
companies, horizons of 1 and 240 months, every probability 0 and every
probability 1, and levers that run for zero months. Each case goes through
``simulate`` (checked against what the model must give) and through the
command line, and the planning answers are asked of each.
"""

from __future__ import annotations

import time
import tracemalloc
import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import small_channel

import simulator as sim
from simulator.cli import main
from simulator.lifecycle.states import STATE_LABELS
from simulator.planning import concentration_at_horizon, concentration_over_time, lorenz_points, scorecard
from simulator.scenario import lever_catalogue

PROBABILITIES = {
    "recruitment": ("win_share", "scoring_accuracy"),
    "activation": ("monthly_probability",),
    "churn": ("dormancy_probability", "exit_probability", "reactivation_probability", "dormant_exit_probability"),
    "collaboration": ("adoption_probability", "lapse_probability"),
    "economics": ("gross_margin",),
}
SHARES = ("top20_share", "gini", "hhi", "top20_share_all", "gini_all")
NO_PARTNERS = {"signed": 0, "active": 0, "collaborating": 0, "dormant": 0}


def every_probability(p: float, **sections: dict) -> dict:
    """The small three-segment scenario with every probability of the model set to ``p``."""
    data = small_channel(**{sec: {key: p for key in keys} for sec, keys in PROBABILITIES.items()})
    for key, value in sections.items():
        data[key] = {**data.get(key, {}), **value} if isinstance(value, dict) else value
    return data


CASES: dict[str, dict] = {
    "no_prospects": small_channel(market={"prospects": 0}),
    "no_partners": small_channel(channel=NO_PARTNERS),
    "nobody_can_earn": small_channel(channel=NO_PARTNERS, recruitment={"win_share": 0.0}),
    "no_companies": {"name": "empty", "market": {"prospects": 0}, "plan": {"revenue_target": 1000.0}},
    "single_prospect": {"name": "one", "market": {"prospects": 1}, "recruitment": {"nurture_per_month": 1}},
    "single_partner": {"name": "one", "market": {"prospects": 0}, "channel": {"active": 1}},
    "horizon_1": small_channel(horizon_months=1),
    "horizon_240": small_channel(horizon_months=240, program={"levers": [{"use": "partner_portal"}]}),
    "every_probability_0": every_probability(0.0, market={"vendor_signings_per_year": 0.0}),
    "every_probability_1": every_probability(1.0, market={"vendor_signings_per_year": 120.0}),
    "lever_for_zero_months": small_channel(program={"levers": [{"use": "events", "months": [7, 6]}]}),
}


def _sane(result: sim.SimulationResult) -> None:
    """What every result must satisfy: conservation, finite non-negative money, NaN only when undefined."""
    scn, m = result.scenario, result.monthly
    assert len(m) == len(result.replications) * (scn.horizon_months + 1)
    assert (m[list(STATE_LABELS)].sum(axis=1) == scn.companies).all()
    assert (m[list(STATE_LABELS)] >= 0).all().all()
    defined = [c for c in m.columns if c not in SHARES]
    assert m[defined].notna().all().all(), m[defined].isna().sum()[lambda s: s > 0]
    assert np.isfinite(m[["revenue", "revenue_t12m", "cost", "contribution"]].to_numpy()).all()
    assert (m[["revenue", "revenue_t12m", "cost"]] >= 0).all().all()
    nobody = m.earning_partners == 0
    for col in SHARES:
        assert m.loc[nobody, col].isna().all() and m.loc[~nobody, col].notna().all(), col
    kpis = result.kpis
    money = ["revenue_last_12m", "cost_last_12m", "contribution_last_12m", "revenue_total", "cost_total"]
    assert kpis[money].notna().all().all()
    summary = result.summary()
    assert summary.loc[[*money, "signings", "activations"], "mean"].notna().all()


@pytest.mark.parametrize("case", sorted(CASES))
def test_extreme_scenario_runs_and_is_sane(case):
    """Every extreme case simulates without a warning from the engine and passes the generic checks."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        result = sim.simulate(CASES[case], replications=4, seed=3)
    _sane(result)


def test_no_prospects_means_no_recruitment():
    """Without prospects nobody is nurtured or signed and recruitment costs nothing."""
    result = sim.simulate(CASES["no_prospects"], replications=4, seed=1)
    m = result.monthly
    assert (m[["prospect", "nurturing", "nurtured", "signings", "nurture_expiries"]] == 0).all().all()
    assert (m[["cost_nurture", "cost_onboarding"]] == 0).all().all()
    assert (result.partners.cohort == "current").all()


def test_no_current_partners_start_from_zero_revenue():
    """Without today's partners, month 0 earns nothing and revenue appears only after first deals."""
    result = sim.simulate(CASES["no_partners"], replications=4, seed=1)
    m = result.monthly
    first = m[m.month == 0]
    assert (first[["revenue", "revenue_t12m", "earning_partners", "signed_partners"]] == 0).all().all()
    assert first[list(SHARES)].isna().all().all()
    for _, one in m.groupby("replication"):
        deals = one.activations.cumsum()
        assert (one.revenue[deals == 0] == 0).all()
    assert (result.partners.cohort == "recruited").all()
    assert result.kpis.signings.sum() > 0


def test_revenue_is_zero_when_nobody_can_earn():
    """No partners and no wins: revenue, margin and concentration are empty; costs are nurturing only."""
    data = {**CASES["nobody_can_earn"], "plan": {"revenue_target": 1.0}}
    result = sim.simulate(data, replications=4, seed=1)
    m = result.monthly
    assert (
        (m[["revenue", "revenue_t12m", "margin", "signings", "earning_partners", "signed_partners"]] == 0).all().all()
    )
    assert m[list(SHARES)].isna().all().all()
    assert np.allclose(m.contribution, -m.cost) and np.allclose(m.cost, m.cost_nurture)
    assert result.partners.empty
    kpis = result.kpis
    assert (kpis.revenue_last_12m == 0).all() and not kpis.plan_met.any()
    assert result.summary().loc["p_plan_met", "mean"] == 0.0
    cap = sim.capacity(data, replications=4, seed=1)
    assert cap.p_plan_met == 0.0 and cap.gap_at_confidence == pytest.approx(1.0)


def test_no_companies_at_all():
    """An empty market and an empty channel: zero everywhere, nothing undefined except concentration."""
    result = sim.simulate(CASES["no_companies"], replications=3, seed=1)
    m = result.monthly
    numbers = [c for c in m.columns if c not in SHARES and c not in ("replication", "month")]
    assert (m[numbers] == 0).all().all()
    assert result.partners.empty and not result.kpis.plan_met.any()


def test_a_single_prospect_signs_at_most_once():
    result = sim.simulate(CASES["single_prospect"], replications=50, seed=2)
    assert result.scenario.companies == 1
    assert result.kpis.signings.between(0, 1).all() and result.kpis.signings.sum() > 0
    assert (result.monthly.nurtured <= 1).all()


def test_a_single_partner_with_nothing_random_grows_exactly():
    """One active partner, every probability 0 and no volatility: revenue is its potential compounded at the
    configured growth; the one earner has Gini 0, HHI 1 and a top-20% share of 0.2 (the fractional partner)."""
    data = every_probability(
        0.0,
        market={"prospects": 0, "vendor_signings_per_year": 0.0},
        channel={"signed": 0, "active": 1, "collaborating": 0, "dormant": 0},
        growth={"active": 0.25, "collaborating": 0.25, "volatility": 0.0},
        horizon_months=30,
    )
    result = sim.simulate(data, replications=3, seed=4)
    m = result.monthly
    for _, one in m.groupby("replication"):
        rev = one.revenue.to_numpy()
        np.testing.assert_allclose(rev, rev[0] * 1.25 ** (np.arange(31) / 12), rtol=1e-5)
    assert (m.earning_partners == 1).all()
    assert (m.gini == 0).all() and (m.hhi == 1).all() and np.allclose(m.top20_share, 0.2)
    np.testing.assert_allclose(result.partners.growth_12m, 0.25, rtol=1e-5)


@pytest.mark.parametrize("horizon", [1, 240])
def test_horizon_one_and_two_hundred_forty_months(horizon):
    """Horizon 1: month 1 adds to 11 months of assumed history and there is no 12-month growth.
    Horizon 240: twenty years stay finite, and the scorecard's 12-month growth is defined."""
    result = sim.simulate(small_channel(horizon_months=horizon), replications=3, seed=5)
    _sane(result)
    m = result.monthly
    assert m.month.max() == horizon
    p = result.partners
    assert np.isfinite(p.run_rate).all() and (p.months_since_signing.dropna() <= horizon).all()
    if horizon == 1:
        for _, one in m.groupby("replication"):
            rev = one.revenue.to_numpy()
            assert one.revenue_t12m.iloc[1] == pytest.approx(rev[1] + 11 * rev[0], rel=1e-5)
        assert p.growth_12m.isna().all()
        k = result.kpis.set_index("replication")
        assert np.allclose(k.cost_last_12m, m[m.month == 1].set_index("replication").cost)
    else:
        earning_a_year = p[p.state.isin(["active", "collaborating"]) & (p.months_in_state >= 12)]
        assert earning_a_year.growth_12m.notna().all()


def test_every_probability_zero_leaves_only_the_deadlines():
    """Nothing random happens: no signing, first deal, exit, adoption or return; only nurture periods and
    activation windows run out, on time; revenue grows exactly at the configured rate."""
    data = every_probability(
        0.0, market={"vendor_signings_per_year": 0.0}, growth={"active": 0.1, "collaborating": 0.1, "volatility": 0.0}
    )
    result = sim.simulate(data, replications=3, seed=6)
    scn, m = result.scenario, result.monthly
    random_flows = ["signings", "activations", "reactivations", "exits", "adoptions", "lapses", "churned"]
    assert (m[random_flows] == 0).all().all()
    assert (m.to_dormant == m.window_expiries).all()
    window = scn.activation.window_months
    expiries = m.groupby("month").window_expiries.max()
    assert expiries[window] == scn.channel.signed and expiries.drop(window).eq(0).all()
    nm = scn.recruitment.nurture_months
    nurtured = m.pivot(index="month", columns="replication", values="nurtured")
    back = m.pivot(index="month", columns="replication", values="nurture_expiries")
    assert (back.shift(-nm).iloc[1:-nm] == nurtured.iloc[1:-nm]).all().all()  # every period ends on time
    assert (m.margin == 0).all()
    for _, one in m.groupby("replication"):
        rev = one.revenue.to_numpy()
        np.testing.assert_allclose(rev, rev[0] * 1.1 ** (np.arange(len(rev)) / 12), rtol=1e-5)


def test_every_probability_one_moves_every_partner_every_month():
    """Certain moves all happen: at the horizon every partner still in the channel entered its state that
    month, and nobody waits for a deadline."""
    result = sim.simulate(CASES["every_probability_1"], replications=20, seed=7)
    _sane(result)
    m, p = result.monthly, result.partners
    staying = p[p.state != "churned"]
    assert len(staying) > 0 and (staying.months_in_state == 0).all()
    assert (m.window_expiries == 0).all()
    d = m[m.month > 0].reset_index(drop=True)
    prev = m.sort_values(["replication", "month"]).groupby("replication").shift(1)[m.month > 0].reset_index(drop=True)
    assert (d.activations >= prev.signed).all()  # every signed partner closes its first deal at once
    assert (d.lapses + d.adoptions <= prev.collaborating + prev.active).all()


@pytest.mark.parametrize(
    ("state", "moves"),
    [
        ("active", ("to_dormant", "exits", "adoptions")),
        ("collaborating", ("to_dormant", "exits", "lapses")),
        ("dormant", ("reactivations", "exits")),
        ("signed", ("activations",)),
    ],
)
def test_certain_competing_moves_share_the_month_equally(state, moves):
    """With every probability 1, each company leaves at once and the certain moves split it equally."""
    n, reps = 3000, 20
    data = every_probability(
        1.0,
        horizon_months=1,
        market={"prospects": 0},
        channel={**NO_PARTNERS, state: n},
        collaboration={"peer_effect": 0.0},
    )
    m = sim.simulate(data, replications=reps, seed=8, partners=False).monthly
    month1 = m[m.month == 1]
    assert (month1[list(moves)].sum(axis=1) == n).all()  # everyone moves, by exactly one of the moves
    assert (month1[state] == 0).all()
    share = 1 / len(moves)
    se = np.sqrt(share * (1 - share) / (n * reps))
    for move in moves:
        assert month1[move].sum() / (n * reps) == pytest.approx(share, abs=5 * se + 1e-12), move


@pytest.mark.parametrize("lever", sorted(lever_catalogue()))
def test_a_lever_active_for_zero_months_changes_nothing_and_costs_nothing(lever):
    """months: [k, k - 1] (at the start, the middle or past the end) and intensity 0 equal no lever."""
    base = small_channel(horizon_months=12)
    plain = sim.simulate(base, replications=3, seed=9)
    for spec in (
        {"use": lever, "months": [1, 0], "intensity": 2.0},
        {"use": lever, "months": [7, 6]},
        {"use": lever, "months": [13, 12]},
        {"use": lever, "intensity": 0.0},
    ):
        idle = sim.simulate({**base, "program": {"levers": [spec]}}, replications=3, seed=9)
        pd.testing.assert_frame_equal(idle.monthly, plain.monthly, check_exact=True)
        pd.testing.assert_frame_equal(idle.partners, plain.partners, check_exact=True)
        assert (idle.lever_costs.cost == 0).all() and set(idle.lever_costs.lever) == {lever}


def test_two_hundred_thousand_companies():
    """199,800 prospects and 200 partners, recruiting 2,000 a month: fast, small, conserved."""
    data = {
        "name": "big",
        "horizon_months": 24,
        "market": {"prospects": 199_800},
        "channel": {"signed": 50, "active": 120, "collaborating": 20, "dormant": 10},
        "recruitment": {"nurture_per_month": 2000},
    }
    tracemalloc.start()
    started = time.perf_counter()
    try:
        result = sim.simulate(data, replications=3, seed=10)
        seconds = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert result.scenario.companies == 200_000
    _sane(result)
    assert seconds < 30, seconds
    assert peak < 1e9, f"peak {peak / 1e6:.0f} MB"
    assert result.kpis.nurtured.min() >= 2000 * 12  # plenty of prospects: the full quota every month


# -- the same cases through the command line and the planning answers ----------------------------------


def _write(tmp_path, name: str, data: dict):
    import yaml

    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize("case", sorted(CASES))
def test_extreme_scenario_through_the_command_line(case, tmp_path, capsys):
    """``validate`` and ``simulate`` accept every extreme case, print a summary and write the tables."""
    path = _write(tmp_path, case, CASES[case])
    assert main(["validate", str(path)]) == 0
    out = tmp_path / "out"
    code = main(["simulate", str(path), "-r", "3", "--out", str(out), "--csv"])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    assert "Revenue, last 12 months" in printed.out and "nan" not in printed.out.lower()
    monthly = pd.read_parquet(out / "monthly.parquet")
    assert len(monthly) == 3 * (sim.load_scenario(path).horizon_months + 1)
    assert {p.name for p in out.iterdir()} >= {"monthly.parquet", "partners.parquet", "lever_costs.parquet"}


def test_two_hundred_thousand_companies_through_the_command_line(tmp_path, capsys):
    path = _write(
        tmp_path,
        "big",
        {"name": "big", "horizon_months": 12, "market": {"prospects": 199_800}, "channel": {"active": 200}},
    )
    assert main(["simulate", str(path), "-r", "2", "--out", str(tmp_path / "out")]) == 0, capsys.readouterr().err
    assert len(pd.read_parquet(tmp_path / "out" / "partners.parquet")) >= 400


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(CASES))
def test_planning_answers_on_extreme_scenarios(case):
    """Capacity, compare, scorecard and the concentration views answer (or refuse clearly) on every case."""
    data = {**CASES[case], "plan": {"revenue_target": 1e6}}
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        cap = sim.capacity(data, replications=3, seed=1)
        assert cap.summary() is not None and np.isfinite(cap.gap_at_confidence)
        other = sim.load_scenario(data).override(activation__window_months=3)
        cmp = sim.compare(data, other, replications=3, seed=1)
        assert cmp.differences is not None
        assert scorecard(data, replications=3, seed=1) is not None
        result = sim.simulate(data, replications=3, seed=1)
        concentration_over_time(result)
        concentration_at_horizon(result.partners)
        lorenz_points(result.partners)


@pytest.mark.slow
@pytest.mark.parametrize("case", ["nobody_can_earn", "single_partner", "horizon_1", "every_probability_1"])
def test_report_on_extreme_scenarios(case, tmp_path, capsys):
    path = _write(tmp_path, case, {**CASES[case], "plan": {"revenue_target": 1e6}})
    out = tmp_path / "report.html"
    code = main(["report", str(path), "-r", "3", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    assert out.stat().st_size > 10_000
