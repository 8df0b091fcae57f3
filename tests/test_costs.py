"""Every cost line recomputed company by company, month by month, to float precision.

The rules (README, "Costs"): at each month end, nurturing costs ``nurture_cost_per_month`` per
company in ``nurturing`` and onboarding ``onboarding_cost`` per signing; each lever, in the months it
runs and scaled by its intensity, costs ``per_partner_month`` for every company in its targeted
states and segments at the end of the month, ``fixed_per_month``, ``per_signing`` for each signing in
its segments and ``revenue_share`` of the revenue its targeted partners earn that month. Month 0 (the
starting channel) costs nothing.

The expected costs are rebuilt from the partner scorecard at every month end (a kernel stepped
month by month and its ``partners`` table read after each step: state, segment, signing month and
run-rate of every company ever signed; this is also ``ChannelModel.scorecard``) and from the monthly
counts, then compared with ``SimulationResult.lever_costs`` lever by lever and with the ``monthly``
cost columns of ``simulate`` on the same replications.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import simulator as sim
from simulator.engine.kernel import ChannelKernel
from simulator.engine.results import monthly_frame, partner_frame

HORIZON = 14
SCENARIO = {
    "name": "costs",
    "horizon_months": HORIZON,
    "market": {
        "prospects": 600,
        "vendor_signings_per_year": 3.0,
        "segments": {
            "a": {"share": 0.6, "revenue_median": 3000, "revenue_sigma": 1.0},
            "b": {"share": 0.4, "revenue_median": 6000, "revenue_sigma": 1.2, "activation_multiplier": 1.5},
        },
    },
    "channel": {"signed": 20, "active": 60, "collaborating": 20, "dormant": 20},
    "recruitment": {"nurture_per_month": 20, "win_share": 0.5, "nurture_months": 4, "cooloff_months": 2},
    "activation": {"monthly_probability": 0.25, "window_months": 4},
    "churn": {
        "dormancy_probability": 0.04,
        "exit_probability": 0.02,
        "reactivation_probability": 0.08,
        "dormant_exit_probability": 0.04,
    },
    "collaboration": {"adoption_probability": 0.06, "peer_effect": 1.0, "lapse_probability": 0.05},
    "growth": {"volatility": 0.3},
    "economics": {"gross_margin": 0.55, "nurture_cost_per_month": 150.0, "onboarding_cost": 4000.0},
}

# Each lever with the targeting the tests expect of it, written out by hand (not read back from the engine).
LEVERS = [
    {
        "lever": {
            "name": "desk",
            "applies_to": ["active"],
            "segments": ["a"],
            "cost": {"per_partner_month": 10.0},
            "months": [2, 9],
            "intensity": 1.5,
        },
        "states": {"active"},
        "segments": {"a"},
    },
    {
        "lever": {
            "name": "bonus",
            "applies_to": ["signed", "b"],
            "cost": {"per_signing": 700.0, "fixed_per_month": 250.0},
        },
        "states": {"signed"},
        "segments": {"b"},
    },
    {
        "lever": {
            "name": "rebate",
            "applies_to": ["collaborating"],
            "segments": ["a"],
            "effects": {"revenue.uplift": 0.2},
            "cost": {"revenue_share": 0.05},
            "intensity": 2.0,
        },
        "states": {"collaborating"},
        "segments": {"a"},
    },
    {
        "lever": {
            "name": "portal",
            "applies_to": ["active", "collaborating", "dormant"],
            "cost": {"per_partner_month": 3.0, "revenue_share": 0.02},
            "months": [5, 14],
        },
        "states": {"active", "collaborating", "dormant"},
        "segments": {"a", "b"},
    },
    {
        "lever": {
            "name": "nurture_aid",
            "applies_to": ["nurturing"],
            "cost": {"per_partner_month": 7.0, "fixed_per_month": 40.0},
            "months": [1, 6],
        },
        "states": {"nurturing"},
        "segments": {"a", "b"},
    },
]
REPLICATIONS = (0, 3)
SEED = 21
EARNING = {"active", "collaborating"}


def _running(lever: dict, month: int) -> bool:
    first, last = lever.get("months") or [1, HORIZON]
    return first <= month <= last


def _uplift(card: pd.DataFrame, month: int) -> np.ndarray:
    """What each company's run-rate earns this month: 1 + k x for every uplift lever aimed at it."""
    factor = np.ones(len(card))
    for spec in LEVERS:
        lever = spec["lever"]
        x = lever.get("effects", {}).get("revenue.uplift")
        if x is None or not _running(lever, month):
            continue
        aimed = card.state.isin(spec["states"] & EARNING) & card.segment.isin(spec["segments"])
        factor[aimed.to_numpy()] *= 1.0 + lever.get("intensity", 1.0) * x
    return factor


def _expected_lever_cost(spec: dict, month: int, card: pd.DataFrame, nurturing: int, revenue: np.ndarray) -> float:
    lever = spec["lever"]
    if month == 0 or not _running(lever, month):
        return 0.0
    k, cost = lever.get("intensity", 1.0), lever["cost"]
    in_segments = card.segment.isin(spec["segments"])
    targeted = card.state.isin(spec["states"]) & in_segments
    partners = int(targeted.sum())
    if "nurturing" in spec["states"]:
        assert spec["segments"] == {"a", "b"}  # nurturing companies are not in the scorecard: monthly counts
        partners += nurturing
    signings = int(((card.signed_month == month) & in_segments).sum())
    earned = float(revenue[(targeted & card.state.isin(EARNING)).to_numpy()].sum())
    return k * (
        cost.get("per_partner_month", 0.0) * partners
        + cost.get("fixed_per_month", 0.0)
        + cost.get("per_signing", 0.0) * signings
        + cost.get("revenue_share", 0.0) * earned
    )


# Function-scoped fixtures (cheap: a 14-month run of 740 companies), so that every test, not only the
# first, exercises the engine; mutation testing then runs each of them against each mutant.
@pytest.fixture
def scenario() -> sim.Scenario:
    return sim.load_scenario({**SCENARIO, "program": {"levers": [spec["lever"] for spec in LEVERS]}})


@pytest.fixture
def recomputed(scenario) -> pd.DataFrame:
    """Costs per replication, month and line, rebuilt from each month's scorecard and counts."""
    econ = scenario.economics
    kernel = ChannelKernel(scenario, SEED, list(REPLICATIONS))
    rows = []
    for month in range(HORIZON + 1):
        if month:
            kernel.step()
        cards = partner_frame(kernel)  # the partners table as it stands at this month's end
        counts = monthly_frame(kernel).query("month == @month").set_index("replication")
        for r in REPLICATIONS:
            card = cards[cards.replication == r]
            state = card.state.astype(str)
            card = card.assign(state=state, segment=card.segment.astype(str))
            # what the engine earns: the run-rate times the uplift, added up in float64
            earned = card.run_rate.to_numpy(np.float64) * _uplift(card, month)
            revenue = np.where(state.isin(EARNING), earned.astype(np.float64), 0.0)
            signings = int((card.signed_month == month).sum()) if month else 0
            nurturing = int(counts.nurturing[r])
            row = {
                "replication": r,
                "month": month,
                "revenue": revenue.sum(),
                "signings": signings,
                "cost_nurture": econ.nurture_cost_per_month * nurturing if month else 0.0,
                "cost_onboarding": econ.onboarding_cost * signings,
            }
            for spec in LEVERS:
                row[spec["lever"]["name"]] = _expected_lever_cost(spec, month, card, nurturing, revenue)
            rows.append(row)
    return pd.DataFrame(rows).set_index(["replication", "month"]).sort_index()


@pytest.fixture
def result(scenario) -> sim.SimulationResult:
    return sim.simulate(scenario, replications=list(REPLICATIONS), seed=SEED)


def test_the_scenario_exercises_every_cost_line(recomputed):
    # signings in both segments, earners under the rebate and the portal, nurturing while the aid runs
    for name in ("desk", "bonus", "rebate", "portal", "nurture_aid"):
        assert (recomputed[name] > 0).sum() >= 6, name
    assert (recomputed.signings > 0).sum() >= 6


def test_revenue_is_the_run_rate_of_earning_partners_times_their_uplift(recomputed, result):
    monthly = result.monthly.set_index(["replication", "month"])
    np.testing.assert_allclose(monthly.revenue, recomputed.revenue, rtol=1e-12)
    np.testing.assert_array_equal(monthly.signings, recomputed.signings)
    # trailing 12 months: today's channel is assumed to have earned its month-0 revenue in the year before
    revenue = monthly.revenue.unstack("month").to_numpy()
    for month in range(HORIZON + 1):
        window = [max(j, 0) for j in range(month - 11, month + 1)]
        np.testing.assert_allclose(
            monthly.revenue_t12m.unstack("month")[month], revenue[:, window].sum(axis=1), rtol=1e-6
        )


def test_each_lever_costs_exactly_what_its_targets_cost(recomputed, result):
    table = result.lever_costs.pivot_table(
        index=["replication", "month"], columns="lever", values="cost", observed=True
    )
    assert set(table.columns) == {spec["lever"]["name"] for spec in LEVERS}
    for spec in LEVERS:
        name = spec["lever"]["name"]
        np.testing.assert_allclose(table[name], recomputed[name], rtol=1e-6, atol=1e-9, err_msg=name)


def test_nurturing_onboarding_and_program_costs_add_up(recomputed, result):
    monthly = result.monthly.set_index(["replication", "month"])
    np.testing.assert_allclose(monthly.cost_nurture, recomputed.cost_nurture, rtol=1e-12, atol=0)
    np.testing.assert_allclose(monthly.cost_onboarding, recomputed.cost_onboarding, rtol=1e-12, atol=0)
    program = recomputed[[spec["lever"]["name"] for spec in LEVERS]].sum(axis=1)
    np.testing.assert_allclose(monthly.cost_program, program, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(monthly.cost, recomputed.cost_nurture + recomputed.cost_onboarding + program, rtol=1e-6)
    margin = result.scenario.economics.gross_margin * monthly.revenue
    np.testing.assert_allclose(monthly.contribution, margin - monthly.cost, rtol=1e-9)


def test_month_zero_costs_nothing(result):
    first = result.monthly[result.monthly.month == 0]
    assert (first[["cost", "cost_nurture", "cost_onboarding", "cost_program"]] == 0).all().all()
    assert (result.lever_costs[result.lever_costs.month == 0].cost == 0).all()


def test_horizon_cost_figures_are_sums_of_the_months(recomputed, result):
    lines = recomputed.drop(columns=["revenue", "signings"]).sum(axis=1)
    per_rep = lines.groupby(level="replication")
    kpis = result.kpis.set_index("replication")
    np.testing.assert_allclose(kpis.cost_total, per_rep.sum(), rtol=1e-6)
    last12 = lines[lines.index.get_level_values("month") > HORIZON - 12].groupby(level="replication").sum()
    np.testing.assert_allclose(kpis.cost_last_12m, last12, rtol=1e-6)
