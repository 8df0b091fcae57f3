"""Partner tiers (``program.tiers``): reviews, thresholds, effects and costs, checked by hand or by recomputation.

* No tiers is today's model exactly, and tiers without effects leave every lifecycle number unchanged.
* A deterministic channel (no growth noise, no churn, no recruitment) whose trailing revenue is known by
  hand: tiers change exactly at review months and exactly at thresholds, never between reviews.
* Tier costs recomputed company by company from the kernel's month-end arrays equal ``tier_cost``,
  the ``tiers`` table and ``cost_tiers`` to float precision.
* A tier's effect scales its partners' rates by the lever rule (hazards for probabilities), stacked
  with the levers'; the other tier's partners keep theirs.
* Bad tiers are refused with one line naming the field, and the CLI exits with code 2.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import run_cli, small_channel

import simulator as sim
from simulator.engine.kernel import ChannelKernel
from simulator.model import ChannelModel
from simulator.planning import scorecard
from simulator.vocabulary import EARNS, IS_IN_CHANNEL

TIERS = [
    {"name": "registered", "threshold": 0},
    {"name": "silver", "threshold": 60_000, "cost": {"revenue_share": 0.01, "per_partner_month": 150}},
    {"name": "gold", "threshold": 250_000, "cost": {"revenue_share": 0.02, "per_partner_month": 500}},
]
LIFECYCLE = ("prospect", "nurturing", "signed", "active", "collaborating", "dormant", "churned", "revenue", "margin")


# -- no tiers -------------------------------------------------------------------------------------------------


def test_no_tiers_is_the_model_without_the_key():
    plain = sim.simulate(small_channel(), replications=4, seed=11)
    empty = sim.simulate(small_channel(program={"tiers": [], "review_months": 3}), replications=4, seed=11)
    pd.testing.assert_frame_equal(plain.monthly, empty.monthly, check_exact=True)
    pd.testing.assert_frame_equal(plain.partners, empty.partners, check_exact=True)
    assert (plain.monthly[["promotions", "demotions", "cost_tiers"]] == 0).all().all()
    assert plain.tiers.empty and list(plain.tiers.columns) == [
        "replication", "month", "tier", "partners", "promotions_in", "demotions_in", "cost", "rebate", "mdf",
    ]  # fmt: skip
    assert plain.partners["tier"].isna().all()


def test_tiers_without_effects_change_no_lifecycle_number():
    """Two tiers with no effects and no costs: the tier axis is there (T = 2, partners promoted and demoted)
    but every hazard, growth and revenue multiplier is the same in both tiers, so the same draws give the
    same channel."""
    plain = sim.simulate(small_channel(), replications=4, seed=5)
    flat = [{"name": "low", "threshold": 0}, {"name": "high", "threshold": 30_000}]
    tiered = sim.simulate(small_channel(program={"tiers": flat, "review_months": 3}), replications=4, seed=5)
    pd.testing.assert_frame_equal(plain.monthly[list(LIFECYCLE)], tiered.monthly[list(LIFECYCLE)], check_exact=True)
    assert tiered.monthly["promotions"].sum() > 10 and tiered.monthly["demotions"].sum() > 0
    assert (tiered.monthly["cost"] == plain.monthly["cost"]).all()


# -- reviews and thresholds, by hand -----------------------------------------------------------------------------

# Partners of a channel that never changes on its own: run-rates constant, no moves but the activation window
# of F running out. Trailing revenue at month m (m <= 12) is history * (12 - m) / 12 + run_rate * m.
PARTNERS = {
    "partner_id": ["A", "B", "C", "D", "E", "F", "G"],
    "segment": ["partner"] * 7,
    "state": ["active", "active", "active", "active", "dormant", "signed", "active"],
    "run_rate": [6000.0, 1000.0, 5000.0, 4999.0, 0.0, 0.0, 30_000.0],
    "revenue_t12m": [0.0, 300_000.0, 0.0, 0.0, 120_000.0, 0.0, 0.0],
}
# Tier index held at the end of each month (after that month's review), worked out by hand with reviews at
# 6, 12, 18, 24 and thresholds 60k / 250k:
#   A: 36k at 6, 72k at 12 (crosses 60k in month 10, promoted only at 12);  B: 300k -> 156k -> 12k;
#   C: exactly 60k at 12 (qualifies);  D: 59,988 at 12 (does not);  E: dormant, 120k -> exactly 60k -> 0;
#   F: signed, never earns;  G: 180k at 6, 360k at 12.
BY_HAND = {
    "A": {0: 0, 5: 0, 6: 0, 11: 0, 12: 1, 17: 1, 18: 1, 24: 1},
    "B": {0: 2, 5: 2, 6: 1, 11: 1, 12: 0, 17: 0, 18: 0, 24: 0},
    "C": {0: 0, 5: 0, 6: 0, 11: 0, 12: 1, 17: 1, 18: 1, 24: 1},
    "D": {0: 0, 5: 0, 6: 0, 11: 0, 12: 0, 17: 0, 18: 0, 24: 0},
    "E": {0: 1, 5: 1, 6: 1, 11: 1, 12: 0, 17: 0, 18: 0, 24: 0},
    "F": {0: 0, 5: 0, 6: 0, 11: 0, 12: 0, 17: 0, 18: 0, 24: 0},
    "G": {0: 0, 5: 0, 6: 1, 11: 1, 12: 2, 17: 2, 18: 2, 24: 2},
}


def still_channel(**program) -> dict:
    return {
        "name": "still",
        "horizon_months": 24,
        "market": {"prospects": 0},
        "channel": {"partner_list": PARTNERS},
        "recruitment": {"nurture_per_month": 0},
        "activation": {"monthly_probability": 0.0},
        "churn": {k: 0.0 for k in ("dormancy_probability", "exit_probability", "reactivation_probability")}
        | {"dormant_exit_probability": 0.0},
        "collaboration": {"adoption_probability": 0.0},
        "growth": {"active": 0.0, "collaborating": 0.0, "volatility": 0.0},
        "program": {"tiers": TIERS, "review_months": 6, **program},
    }


def stepped(scenario: dict, replications: int = 2, seed: int = 3) -> tuple[ChannelKernel, dict[str, list]]:
    """A kernel stepped to the horizon, with its month-end arrays kept after every month."""
    kernel = ChannelKernel(sim.load_scenario(scenario), seed, list(range(replications)))
    keep = {"state": [], "tier": [], "revenue": [], "t12": []}

    def snap() -> None:
        keep["state"].append(kernel.pop.state.copy())
        keep["tier"].append(kernel.pop.tier.copy())
        keep["revenue"].append(kernel.monthly_revenue().copy())
        keep["t12"].append(kernel.trailing_revenue())

    snap()
    while not kernel.done:
        kernel.step()
        snap()
    return kernel, {k: np.stack(v) for k, v in keep.items()}  # (months, R, W)


def test_tiers_change_exactly_at_reviews_and_thresholds():
    _, keep = stepped(still_channel())
    tier = keep["tier"]
    for column, pid in enumerate(PARTNERS["partner_id"]):
        for month, expected in BY_HAND[pid].items():
            assert (tier[month, :, column] == expected).all(), (pid, month, tier[month, :, column])
    # Never between reviews: only months 6, 12, 18, 24 change anyone's tier.
    changed = [m for m in range(1, 25) if (tier[m] != tier[m - 1]).any()]
    assert changed == [6, 12]
    result = sim.simulate(still_channel(), replications=2, seed=3)
    moves = result.monthly.set_index(["replication", "month"])[["promotions", "demotions"]]
    for r in range(2):
        assert moves.loc[r, "promotions"].to_dict() == {m: {6: 1, 12: 3}.get(m, 0) for m in range(25)}
        assert moves.loc[r, "demotions"].to_dict() == {m: {6: 1, 12: 2}.get(m, 0) for m in range(25)}
    t = result.tiers.set_index(["replication", "month", "tier"])
    assert t.loc[(0, 12, "silver"), "promotions_in"] == 2 and t.loc[(0, 12, "gold"), "promotions_in"] == 1  # A, C; G
    assert t.loc[(0, 12, "registered"), "demotions_in"] == 2 and t.loc[(0, 6, "silver"), "demotions_in"] == 1
    assert t.loc[(0, 6, "silver"), "promotions_in"] == 1  # G
    assert [t.loc[(1, 24, n), "partners"] for n in ("registered", "silver", "gold")] == [4, 2, 1]  # B D E F; A C; G
    assert [t.loc[(1, 0, n), "partners"] for n in ("registered", "silver", "gold")] == [5, 1, 1]
    partners = result.partners.set_index(["replication", "partner_id"])
    assert partners.loc[0, "tier"].astype(str).to_dict() == {
        "A": "silver", "B": "registered", "C": "silver", "D": "registered", "E": "registered", "F": "registered",
        "G": "gold",
    }  # fmt: skip


def test_tier_costs_by_hand():
    """Rebates on the revenue of the tier held during the month, MDF per partner holding it at month end."""
    result = sim.simulate(still_channel(), replications=1, seed=3)
    cost = result.tiers.pivot_table(index="month", columns="tier", values="cost", observed=False)
    # Months 1-6: B gold (1,000 a month), E silver (dormant, earns nothing).
    assert cost.loc[1:6].to_numpy() == pytest.approx(np.tile([0.0, 150.0, 0.02 * 1000 + 500], (6, 1)), rel=1e-12)
    # Months 7-12: B, E, G silver (1,000 + 0 + 30,000 of revenue).
    assert cost.loc[7:12].to_numpy() == pytest.approx(np.tile([0.0, 0.01 * 31_000 + 450, 0.0], (6, 1)), rel=1e-12)
    # Months 13-24: A, C silver (6,000 + 5,000), G gold (30,000).
    assert cost.loc[13:24].to_numpy() == pytest.approx(
        np.tile([0.0, 0.01 * 11_000 + 300, 0.02 * 30_000 + 500], (12, 1)), rel=1e-12
    )
    assert (cost.loc[0] == 0).all()
    monthly = result.monthly.set_index("month")
    assert monthly["cost_tiers"].to_numpy() == pytest.approx(cost.sum(axis=1).to_numpy(), rel=1e-12)


# -- costs recomputed company by company ---------------------------------------------------------------------------

RICH_TIERS = [
    {"name": "registered", "threshold": 0, "cost": {"per_partner_month": 20}},
    {
        "name": "silver",
        "threshold": 40_000,
        "effects": {"churn.exit_probability": -0.3, "growth.active": 0.5},
        "cost": {"revenue_share": 0.015, "per_partner_month": 150},
    },
    {
        "name": "gold",
        "threshold": 150_000,
        "effects": {"revenue.uplift": 0.1, "collaboration.adoption_probability": 1.0},
        "cost": {"revenue_share": 0.03, "per_partner_month": 400},
    },
]


def rich_channel() -> dict:
    return small_channel(
        program={
            "tiers": RICH_TIERS,
            "review_months": 4,
            "levers": [
                {"use": "rebates"},
                {"name": "desk", "applies_to": ["active"], "cost": {"per_partner_month": 7}},
            ],
        }
    )


def test_tier_costs_recomputed_company_by_company():
    scenario = rich_channel()
    kernel, keep = stepped(scenario, replications=3, seed=21)
    state, tier, revenue, t12 = keep["state"], keep["tier"], keep["revenue"], keep["t12"]
    result = sim.simulate(scenario, replications=3, seed=21)
    share = np.array([t.get("cost", {}).get("revenue_share", 0.0) for t in RICH_TIERS])
    mdf = np.array([t.get("cost", {}).get("per_partner_month", 0.0) for t in RICH_TIERS])
    H, T = 24, 3
    expected = np.zeros((3, H + 1, T))
    partners = np.zeros((3, H + 1, T), np.int64)
    promotions = np.zeros((3, H + 1), np.int64)
    for m in range(H + 1):
        in_channel = IS_IN_CHANNEL[state[m]]
        for t in range(T):
            partners[:, m, t] = (in_channel & (tier[m] == t)).sum(axis=1)
        if m == 0:
            continue
        # The tier held during month m: last month's, or the lowest for a partner that joined this month.
        held = np.where(IS_IN_CHANNEL[state[m - 1]], tier[m - 1], 0)
        for t in range(T):
            earning = EARNS[state[m]] & (held == t)
            rebate = share[t] * np.where(earning, revenue[m], 0.0).sum(axis=1)
            expected[:, m, t] = rebate + mdf[t] * (in_channel & (held == t)).sum(axis=1)
        promotions[:, m] = (in_channel & (tier[m] > held)).sum(axis=1)
        if m % 4:  # between reviews no tier changes
            assert (tier[m][in_channel] == held[in_channel]).all()
        else:  # at a review every partner holds the highest tier its trailing revenue reaches
            reached = np.searchsorted([0, 40_000, 150_000], t12[m], side="right") - 1
            assert (tier[m][in_channel] == reached[in_channel]).all()
    assert promotions.sum() > 20
    np.testing.assert_allclose(kernel.tier_cost, expected, rtol=1e-12, atol=0)
    table = result.tiers
    np.testing.assert_allclose(table["cost"].to_numpy().reshape(3, H + 1, T), expected, rtol=1e-12, atol=0)
    np.testing.assert_array_equal(table["partners"].to_numpy().reshape(3, H + 1, T), partners)
    np.testing.assert_array_equal(result.monthly["promotions"].to_numpy().reshape(3, H + 1), promotions)
    np.testing.assert_allclose(table["cost"], table["rebate"] + table["mdf"], rtol=1e-12, atol=0)
    monthly = result.monthly
    np.testing.assert_allclose(monthly["cost_tiers"].to_numpy(), expected.sum(axis=2).ravel(), rtol=1e-12, atol=0)
    lines = monthly["cost_nurture"] + monthly["cost_onboarding"] + monthly["cost_program"] + monthly["cost_tiers"]
    np.testing.assert_allclose(monthly["cost"], lines, rtol=1e-12, atol=0)
    np.testing.assert_allclose(monthly["contribution"], monthly["margin"] - monthly["cost"], rtol=1e-12, atol=1e-6)
    assert monthly["cost_program"].to_numpy() == pytest.approx(
        result.lever_costs.groupby(["replication", "month"])["cost"].sum().to_numpy(), rel=1e-12
    )  # the levers' cost alone
    by_tier = expected[:, 1:].sum(axis=(0, 1))
    assert (by_tier > 0).all()


def test_mesa_agents_hold_the_kernels_tiers():
    scenario = rich_channel()
    model = ChannelModel(scenario=scenario, seed=21)
    while model.running:
        model.step()
    result = sim.simulate(scenario, replications=1, seed=21)
    pd.testing.assert_frame_equal(model.monthly, result.monthly, check_exact=True)
    tiers = {a.company: a.tier for a in model.agents if a.tier is not None}
    partners = result.partners.dropna(subset=["tier"])
    assert tiers == dict(zip(partners["company"], partners["tier"].astype(str), strict=True))
    assert {"registered", "silver", "gold"} <= set(tiers.values())


# -- effects ------------------------------------------------------------------------------------------------


def fixed_tiers_channel(lever_effect: float) -> dict:
    """400 active partners, the first 200 gold by their listed history: no review within the horizon."""
    n = 400
    return {
        "name": "fixed tiers",
        "horizon_months": 6,
        "market": {"prospects": 0},
        "channel": {
            "partner_list": {
                "partner_id": [f"p{i}" for i in range(n)],
                "segment": ["partner"] * n,
                "state": ["active"] * n,
                "run_rate": [1000.0] * n,
                "revenue_t12m": [500_000.0] * (n // 2) + [0.0] * (n // 2),
            }
        },
        "recruitment": {"nurture_per_month": 0},
        "churn": {"dormancy_probability": 0.0, "exit_probability": 0.2},
        "collaboration": {"adoption_probability": 0.0},
        "program": {
            "review_months": 120,
            "tiers": [
                {"name": "registered", "threshold": 0},
                {"name": "gold", "threshold": 250_000, "effects": {"churn.exit_probability": 1.0}},
            ],
            "levers": [
                {"name": "loyalty", "applies_to": ["active"], "effects": {"churn.exit_probability": lever_effect}}
            ],
        },
    }


@pytest.mark.parametrize("lever_effect", [0.0, 0.5])
def test_a_tier_effect_scales_the_hazard_like_a_lever(lever_effect):
    """Gold doubles the exit hazard; a lever scales both tiers' by 1 + lever_effect; the factors multiply:
    p -> 1 - (1 - p) ** ((1 + lever) * (1 + tier)), not p * (1 + x)."""
    p, R = 0.2, 60
    _, keep = stepped(fixed_tiers_channel(lever_effect), replications=R, seed=8)
    state = keep["state"]  # (months, R, 400)
    at_risk = state[:-1] == 3  # active at the start of the month
    exits = at_risk & (state[1:] == 6)
    for columns, tier_factor in ((slice(0, 200), 2.0), (slice(200, 400), 1.0)):
        n = at_risk[:, :, columns].sum()
        rate = exits[:, :, columns].sum() / n
        expected = 1 - (1 - p) ** ((1 + lever_effect) * tier_factor)
        se = np.sqrt(expected * (1 - expected) / n)
        assert abs(rate - expected) < 4 * se, (tier_factor, rate, expected, se)
    linear = p * (1 + lever_effect) * 2.0
    gold = exits[:, :, :200].sum() / at_risk[:, :, :200].sum()
    assert abs(gold - min(linear, 1.0)) > 8 * np.sqrt(gold * (1 - gold) / at_risk[:, :, :200].sum())


def test_tier_growth_and_uplift_follow_the_lever_rule_exactly():
    """No noise: a gold partner's run-rate grows at growth.active * (1 + x) a year and earns (1 + u) of it."""
    scenario = fixed_tiers_channel(0.0)
    scenario["churn"]["exit_probability"] = 0.0
    scenario["horizon_months"] = 12
    scenario["growth"] = {"active": 0.1, "volatility": 0.0}
    scenario["program"]["levers"] = [{"name": "boost", "applies_to": ["active"], "effects": {"growth.active": 0.2}}]
    scenario["program"]["tiers"][1]["effects"] = {"growth.active": 0.5, "revenue.uplift": 0.25}
    kernel, keep = stepped(scenario, replications=2, seed=1)
    run_rate = kernel.pop.run_rate
    np.testing.assert_allclose(run_rate[:, :200], 1000 * (1 + 0.1 * 1.2 * 1.5), rtol=2e-6)
    np.testing.assert_allclose(run_rate[:, 200:], 1000 * (1 + 0.1 * 1.2), rtol=2e-6)
    revenue = keep["revenue"][12]
    np.testing.assert_allclose(revenue[:, :200], run_rate[:, :200] * 1.25, rtol=1e-6)
    np.testing.assert_allclose(revenue[:, 200:], run_rate[:, 200:], rtol=1e-6)
    np.testing.assert_allclose(keep["revenue"][1][:, :200], 1000 * (1 + 0.1 * 1.2 * 1.5) ** (1 / 12) * 1.25, rtol=1e-6)


# -- scorecard ------------------------------------------------------------------------------------------------


def test_scorecard_groups_by_program_tier():
    result = sim.simulate(rich_channel(), replications=3, seed=21)
    card = scorecard(result)
    by_tier = card.by_tier
    assert list(by_tier.columns)[:2] == ["program_tier", "tier"]
    totals = by_tier[by_tier["tier"] == "all"].set_index("program_tier")["partners"]
    counted = result.partners.groupby("tier", observed=False).size() / 3
    for name in ("registered", "silver", "gold"):
        assert totals[name] == pytest.approx(counted[name], rel=1e-12)
    whole = card.table[(card.table.segment == "all") & (card.table.tier == "all")]
    assert totals["all"] == pytest.approx(float(whole["partners"].iloc[0]), rel=1e-12)
    assert scorecard(sim.simulate(small_channel(), replications=2, seed=1)).by_tier is None


# -- bad input ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("program", "needle"),
    [
        ({"tiers": [{"name": "a", "threshold": 0}, {"name": "a", "threshold": 9}]}, r"tiers\[1\]\.name: .*used twice"),
        ({"tiers": [{"name": "all", "threshold": 0}]}, r"tiers\[0\]\.name: tier name 'all' is reserved"),
        ({"tiers": [{"name": "a__b", "threshold": 0}]}, r"tiers\[0\]\.name: tier name 'a__b' must be"),
        ({"tiers": [{"name": "a", "threshold": 5}]}, r"tiers\[0\]\.threshold: is 5; .* must be 0"),
        (
            {"tiers": [{"name": "a", "threshold": 0}, {"name": "b", "threshold": 9}, {"name": "c", "threshold": 9}]},
            r"tiers\[2\]\.threshold: is 9; .*above b's \(9\)",
        ),
        ({"tiers": [{"name": "a", "threshold": 0}, {"name": "b", "threshold": 2e15}]}, r"tiers\[1\]\.threshold"),
        ({"tiers": [{"name": "a", "effects": {"recruitment.win_share": 0.1}}]}, r"'recruitment.win_share' acts on"),
        ({"tiers": [{"name": "a", "effects": {"churn.exit": 0.1}}]}, r"did you mean 'churn.exit_probability'"),
        ({"tiers": [{"name": "a", "cost": {"revenue_share": 1.5}}]}, r"tiers\[0\]\.cost\.revenue_share = 1\.5"),
        ({"tiers": [{"name": f"t{i}", "threshold": i} for i in range(11)]}, r"11 tiers; at most 10"),
        ({"review_months": 0}, r"program\.review_months = 0"),
        ({"review_months": 6.5}, r"program\.review_months = 6\.5: must be a whole number"),
        (
            {"tiers": [{"name": "a"}, {"name": "b", "threshold": 1, "effects": {"growth.active": 10}}]},
            r"program\.tiers: tiers scale growth\.active to 1\.21 a year",
        ),
    ],
)
def test_bad_tiers_are_refused_in_one_line(program, needle):
    with pytest.raises(sim.ScenarioError, match=needle) as caught:
        sim.load_scenario(small_channel(program=program))
    assert "\n" not in str(caught.value)


def test_a_tier_stacked_on_a_lever_beyond_the_growth_cap_is_refused():
    lever = {"name": "push", "applies_to": ["active"], "effects": {"growth.active": 3.0}}  # 0.11 * 4 = 0.44: fine
    sim.load_scenario(small_channel(program={"levers": [lever]}))
    tiers = [{"name": "a"}, {"name": "b", "threshold": 1, "effects": {"growth.active": 2.0}}]  # 0.44 * 3 > 1
    with pytest.raises(sim.ScenarioError, match=r"levers: levers and tiers scale growth\.active to 1\.32 a year"):
        sim.load_scenario(small_channel(program={"levers": [lever], "tiers": tiers}))


def test_cli_refuses_a_bad_tier_with_exit_code_2(tmp_path):
    proc = run_cli(
        "simulate", "scenarios/tiered_program.yaml", "-r", "2", "--out", str(tmp_path / "out"),
        "--set", "program.tiers[1].threshold=0",
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and "program.tiers[1].threshold: is 0;" in proc.stderr
    assert "Traceback" not in proc.stderr and not (tmp_path / "out").exists()


def test_the_tiered_example_runs_and_writes_its_tiers(tmp_path):
    proc = run_cli("simulate", "scenarios/tiered_program.yaml", "-r", "3", "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert "Partners by tier at month 36 (mean): registered" in proc.stdout
    tiers = pd.read_parquet(tmp_path / "tiers.parquet")
    assert list(tiers["tier"].cat.categories) == ["registered", "silver", "gold"]
    assert len(tiers) == 3 * 37 * 3 and tiers["cost"].sum() > 0


def test_compare_names_tiers_added_and_changed():
    from simulator.planning.compare import what_changed

    base = sim.load_scenario("scenarios/baseline.yaml")
    tiered = sim.load_scenario("scenarios/tiered_program.yaml")
    rows = what_changed(base, tiered).set_index("key")
    assert rows.loc["tier:gold", "kind"] == "tier added" and "from 250,000" in rows.loc["tier:gold", "b"]
    assert rows.loc["program.review_months", "b"] == 6
    cheaper = tiered.override(**{"program.tiers[2].cost.revenue_share": 0.015})
    changed = what_changed(tiered, cheaper)
    assert changed[["kind", "key", "a", "b"]].values.tolist() == [
        ["tier changed", "tier:gold.cost.revenue_share", 0.02, 0.015]
    ]
