"""Program optimisation: a known optimum found, the budget kept, the winner's curse bounded, bad input refused."""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd
import pytest
from conftest import small_channel

import simulator as sim
from simulator import ChannelError
from simulator.cli.main import main
from simulator.optimization import build_space
from simulator.optimization.evaluation import evaluate
from simulator.optimization.objectives import OBJECTIVES, Budget
from simulator.optimization.reevaluate import payback_month, reevaluate

H = 12
PARTNERS = 50
MEDIAN = 10_000.0
MARGIN = 0.5


def uplift(name: str, x: float, fixed: float, **extra) -> dict:
    """A lever that scales the revenue of active partners by (1 + x) for a fixed monthly cost."""
    return {
        "name": name,
        "applies_to": ["active"],
        "effects": {"revenue.uplift": x},
        "cost": {"fixed_per_month": fixed},
        "intensity": 0.0,
        **extra,
    }


def toy(levers: list[dict], **sections) -> dict:
    """Noise off: 50 active partners of one segment, all earning exactly the median, no moves, no growth,
    no recruitment. Revenue a month is then 50 x 10,000 x the product of (1 + k x) of the levers on."""
    scenario = {
        "name": "toy",
        "horizon_months": H,
        "market": {
            "prospects": 0,
            "segments": {"reseller": {"share": 1.0, "revenue_median": MEDIAN, "revenue_sigma": 0.0}},
        },
        "channel": {"signed": 0, "active": PARTNERS, "collaborating": 0, "dormant": 0},
        "recruitment": {"nurture_per_month": 0},
        "churn": {
            "dormancy_probability": 0.0,
            "exit_probability": 0.0,
            "reactivation_probability": 0.0,
            "dormant_exit_probability": 0.0,
        },
        "collaboration": {"adoption_probability": 0.0, "lapse_probability": 0.0},
        "growth": {"active": 0.0, "collaborating": 0.0, "volatility": 0.0},
        "economics": {"gross_margin": MARGIN},
        "program": {"levers": levers},
    }
    scenario.update(sections)
    return scenario


# Four levers switched on or off (intensity fixed at 1): net a month +15k, -3k, +10k and +6k alone.
LEVERS = {"a": (0.10, 10_000), "b": (0.02, 8_000), "c": (0.06, 5_000), "d": (0.08, 14_000)}
ON_OFF = {name: (1.0, 1.0) for name in LEVERS}
BUDGET = 20_000 * H  # a, c and d together (29k a month) would be best, but cost too much


def contribution(on: set[str]) -> float:
    """Contribution over the horizon, by hand."""
    factor = np.prod([1 + LEVERS[n][0] for n in on]) if on else 1.0
    cost = sum(LEVERS[n][1] for n in on)
    return H * (MARGIN * PARTNERS * MEDIAN * factor - cost)


def best_by_hand() -> tuple[set[str], float]:
    import itertools

    combos = [set(c) for k in range(5) for c in itertools.combinations(LEVERS, k)]
    within = [c for c in combos if H * sum(LEVERS[n][1] for n in c) <= BUDGET]
    best = max(within, key=contribution)
    return best, contribution(best)


TOY = toy([uplift(n, x, f) for n, (x, f) in LEVERS.items()])


def chosen(result) -> set[str]:
    return {lv.name for lv in result.winner.program.levers if lv.intensity > 0}


def test_finds_the_best_mix_computable_by_hand(tmp_path):
    best, value = best_by_hand()
    assert best == {"a", "c"} and contribution({"a", "c", "d"}) > value  # the budget binds
    res = sim.optimize(TOY, ON_OFF, BUDGET, trials=24, replications=2, seed=1, workers=1, out=tmp_path / "o")
    assert chosen(res) == best
    row = res.winner_row
    assert row["contribution"] == pytest.approx(value, rel=1e-6)
    assert row["program_cost_mean"] == pytest.approx(H * 15_000, rel=1e-9)
    d = res.reevaluation.differences["contribution_total"]
    assert d["mean"] == pytest.approx(value - contribution(set()), rel=1e-6)
    assert d["low"] == pytest.approx(d["mean"], rel=1e-9)  # noise off: no interval
    # ROI = extra contribution / extra program cost; the gain starts in month 1 so it pays back at once.
    assert res.reevaluation.roi == pytest.approx((value - contribution(set())) / (H * 15_000), rel=1e-6)
    assert res.reevaluation.payback_month == 1
    # Every candidate over budget is marked so, and none of them is on the front.
    t = res.trials
    over = t["cost_mean"] > BUDGET * (1 + 1e-12)
    assert (~t.loc[over, "feasible"]).all() and not t.loc[over, "on_front"].any()
    assert over.any()  # the search did try programs over budget


def test_winner_file_extends_the_scenario_and_runs_what_was_evaluated(tmp_path):
    path = tmp_path / "toy.yaml"
    path.write_text(sim.load_scenario(TOY).to_yaml())
    res = sim.optimize(path, ON_OFF, BUDGET, trials=16, replications=2, seed=2, workers=1, out=tmp_path / "o")
    text = (tmp_path / "o" / "winner.yaml").read_text()
    assert "extends: ../toy.yaml" in text and "# Contribution over the horizon" in text
    again = sim.load_scenario(tmp_path / "o" / "winner.yaml")
    assert [(lv.name, lv.intensity) for lv in again.program.levers] == [
        (lv.name, lv.intensity) for lv in res.winner.program.levers if lv.intensity > 0
    ]
    kpis = sim.simulate(again, replications=2, seed=3, partners=False).kpis
    assert kpis["contribution_total"].mean() == pytest.approx(res.winner_row["contribution"], rel=1e-9)
    for name in ("trials.parquet", "reevaluation.parquet", "result.json", "study.db"):
        assert (tmp_path / "o" / name).is_file()


def test_intensities_found_near_the_continuous_optimum():
    # a and c scaled in [0, 2]; the budget binds: the best is c = 2, a = 1.5 (by hand: see below).
    space = {"a": (0.0, 2.0), "c": (0.0, 2.0)}
    budget = 25_000 * H

    def value(a: float, c: float) -> float:
        return H * (MARGIN * PARTNERS * MEDIAN * (1 + 0.1 * a) * (1 + 0.06 * c) - 10_000 * a - 5_000 * c)

    # On the budget line 10a + 5c = 25 the value grows with c up to its bound: c = 2, a = 1.5.
    grid = [(a, c) for a in np.linspace(0, 2, 201) for c in np.linspace(0, 2, 201) if 10 * a + 5 * c <= 25 + 1e-9]
    a_best, c_best = max(grid, key=lambda p: value(*p))
    assert (a_best, c_best) == pytest.approx((1.5, 2.0))
    res = sim.optimize(TOY, space, budget, trials=64, replications=2, seed=0, workers=1)
    k = {lv.name: lv.intensity for lv in res.winner.program.levers}
    gain = value(a_best, c_best) - value(0, 0)
    assert value(k["a"], k["c"]) - value(0, 0) >= 0.97 * gain
    assert H * (10_000 * k["a"] + 5_000 * k["c"]) <= budget + 1e-6
    assert res.winner_row["contribution"] == pytest.approx(value(k["a"], k["c"]), rel=1e-6)


def test_budget_per_year_and_nurture_decision_count_the_right_costs(tmp_path):
    # 24 months, lever a only from month 13: year 1 costs nothing, year 2 costs 12 x 10k x k.
    scn = toy([uplift("a", 0.10, 10_000, months=[13, 24])], horizon_months=24)
    res = sim.optimize(scn, {"a": (0.0, 2.0)}, 60_000, per_year=True, trials=32, replications=2, seed=0, workers=1)
    k = res.winner.program.levers[0].intensity
    # The yearly budget binds on year 2 (k <= 0.5); over the horizon 120k would have allowed k = 1.
    assert 12 * 10_000 * k <= 60_000 + 1e-6 and k > 0.3
    assert res.winner_row["program_cost_mean"] == pytest.approx(12 * 10_000 * k, rel=1e-9)
    # With nurture a decision, recruitment counts: the program's cost is the whole cost.
    scn = toy([uplift("a", 0.10, 10_000)], market={"prospects": 200}, recruitment={"nurture_per_month": 5})
    space = build_space(scn, ["a"], nurture=(0, 10))
    limit = Budget(10**7, recruitment=True)
    ev = evaluate(space, [space.own_point()], replications=3, seed=0, budget=limit, workers=1)
    kpis = sim.simulate(scn, replications=3, seed=0, partners=False).kpis
    assert np.allclose(ev.values("program_cost")[0], kpis["cost_total"].to_numpy())
    assert kpis["cost_total"].min() > 0


def test_impossible_budget_is_reported_before_running():
    # Every lever has a fixed cost of at least 5k a month: 60k over the horizon for the cheapest.
    with pytest.raises(ChannelError, match=r"impossible; it is below the fixed cost of every lever.*cheapest, c"):
        sim.optimize(TOY, ON_OFF, 4_000 * H, trials=8, replications=2)
    kept = toy([{**uplift("desk", 0.01, 9_000), "intensity": 1.0}, uplift("a", 0.1, 10_000)])
    with pytest.raises(ChannelError, match=r"impossible; the levers the scenario keeps \(desk\)"):
        sim.optimize(kept, ["a"], 8_000 * H, trials=8, replications=2)


def test_screening_drops_a_lever_without_effect():
    # 'dud' scales win share, but nobody is nurtured and it costs nothing: no effect on contribution.
    dud = {"name": "dud", "applies_to": ["nurturing"], "effects": {"recruitment.win_share": 0.5}, "intensity": 0.0}
    scn = toy([uplift("a", 0.10, 10_000), uplift("c", 0.06, 5_000), dud])
    res = sim.optimize(scn, ["a", "c", "dud"], 10**7, trials=8, replications=2, seed=0, workers=1, screen=True)
    assert res.dropped == ["dud"]
    table = res.screening.set_index("lever")
    assert table.loc["dud", "mu_star"] == 0 and table.loc["a", "mu_star"] > 0
    assert [lv.name for lv in res.space.levers] == ["a", "c"]


def test_several_objectives_give_a_pareto_front():
    res = sim.optimize(TOY, ON_OFF, 10**7, objective="contribution,cost", trials=24, replications=2, workers=1)
    front = res.front.drop_duplicates("candidate")  # a program tried twice is on the front twice
    assert len(front) >= 3
    # No front member is beaten on both: more contribution always costs more.
    f = front.sort_values("cost")
    assert (np.diff(f["contribution"].to_numpy()) > 0).all()
    assert res.trials["cost"].min() == 0  # the empty program is tried and is the cheapest


def test_reevaluation_bounds_the_winners_curse():
    """A small simulation study: six levers, each lifting one of six identical segments, so their true values
    differ only by their known fixed costs. Picked on noisy replications, the winner is never worse than the
    true best by more than the tolerance the re-evaluation states."""
    segments = {f"s{i}": {"share": 1 / 6, "revenue_median": 3000, "revenue_sigma": 1.5} for i in range(6)}
    fixed = [1000 + 150 * i for i in range(6)]  # lever s0 is truly the best
    levers = [
        {
            "name": f"lift_s{i}",
            "applies_to": ["active", f"s{i}"],
            "effects": {"revenue.uplift": 0.10},
            "cost": {"fixed_per_month": fixed[i]},
            "intensity": 0.0,
        }
        for i in range(6)
    ]
    scn = sim.load_scenario(
        {
            "name": "curse",
            "horizon_months": 12,
            "market": {"prospects": 0, "segments": segments},
            "channel": {"active": 120, "dormant": 20},
            "recruitment": {"nurture_per_month": 0},
            "growth": {"volatility": 0.3},
            "program": {"levers": levers},
        }
    )
    space = build_space(scn, [f"lift_s{i}" for i in range(6)])
    off = {lv.intensity_key: 0.0 for lv in space.levers}
    candidates = [(i, {**off, space.levers[i].intensity_key: 1.0}) for i in range(6)]
    budget = Budget(10**8)
    objective = (OBJECTIVES["contribution"],)
    wrong, regrets = 0, []
    for seed in range(12):
        run = partial(evaluate, space, replications=30, seed=seed, budget=budget, workers=1)
        r = reevaluate(space, objective, budget, candidates, replications=30, seed=seed, target=None, evaluate=run)
        pick = int(r.table["trial"].iloc[r.winner])
        regret = 12 * (fixed[pick] - fixed[0])  # exact: the segments are exchangeable
        regrets.append(regret)
        wrong += pick != 0
        assert regret <= r.tolerance, (seed, pick, regret, r.tolerance)
        assert 0 <= r.p_best <= 1
    assert wrong >= 2  # the noise is real: the true best is not always picked
    assert max(regrets) > 0


def test_payback_month():
    assert payback_month(np.array([-5.0, -1.0, 2.0, 3.0])) == 3
    assert payback_month(np.array([1.0, -1.0, 2.0])) == 3  # positive for good only from month 3
    assert payback_month(np.array([1.0, 2.0])) == 1
    assert payback_month(np.array([-1.0, -0.5])) is None


def test_resumed_search_equals_an_uninterrupted_one(tmp_path):
    space = {"a": (0.0, 2.0), "c": (0.0, 2.0), "d": (0.0, 2.0)}
    whole = sim.optimize(TOY, space, 25_000 * H, trials=20, replications=2, seed=5, workers=1, out=tmp_path / "a")
    sim.optimize(TOY, space, 25_000 * H, trials=9, replications=2, seed=5, workers=1, out=tmp_path / "b")
    resumed = sim.optimize(
        TOY, space, 25_000 * H, trials=20, replications=2, seed=5, workers=1, out=tmp_path / "b", resume=True
    )
    cols = [c for c in whole.trials.columns]
    assert resumed.trials[cols].equals(whole.trials[cols])
    assert resumed.winner_point == whole.winner_point
    with pytest.raises(ChannelError, match="add --resume"):
        sim.optimize(TOY, space, 25_000 * H, trials=20, replications=2, seed=5, out=tmp_path / "b")
    with pytest.raises(ChannelError, match="different seed"):
        sim.optimize(TOY, space, 25_000 * H, trials=20, replications=2, seed=6, out=tmp_path / "b", resume=True)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--levers", "nope"], "--levers 'nope': unknown lever"),
        (["--levers", ","], "the list is empty"),
        (["--levers", "a", "--budget", "0"], "--budget 0.0: must be a positive amount"),
        (["--levers", "a", "--budget", "-5"], "must be a positive amount"),
        (["--levers", "a=2:1"], "0 <= low <= high"),
        (["--levers", "a=x:1"], "expected name or name=low:high"),
        (["--levers", "a", "--trials", "0"], "--trials: 0 must be >= 1"),
        (["--levers", "a", "--objective", "profit"], "unknown objective"),
        (["--levers", "a", "--objective", "p_plan_met"], "no plan.revenue_target"),
        (["--levers", "a", "--nurture", "9:3"], "0 <= low <= high"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_writes_nothing(tmp_path, capsys, args, message):
    path = tmp_path / "toy.yaml"
    path.write_text(sim.load_scenario(TOY).to_yaml())
    out = tmp_path / "out"
    argv = ["optimize", str(path), "--budget", "100000", *args, "--out", str(out), "--replications", "2"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1, err
    assert not out.exists()


def test_a_lever_off_is_no_lever_at_all():
    from simulator.scenario import lever_catalogue

    plain = sim.load_scenario(small_channel(horizon_months=12))
    space = build_space(plain, "all")
    assert len(space.levers) == len(lever_catalogue()) == 15
    off = sim.simulate(space.base, replications=3, seed=2, partners=False).monthly
    none = sim.simulate(plain, replications=3, seed=2, partners=False).monthly
    pd.testing.assert_frame_equal(off, none)


def test_the_chosen_programs_mean_cost_keeps_to_the_budget_with_noise():
    scn = small_channel(horizon_months=12)
    budget = 150_000
    res = sim.optimize(
        scn, ["presales_support", "co_selling", "partner_portal"], budget, trials=16, replications=4, seed=3, workers=1
    )
    row = res.winner_row
    assert row["program_cost_mean"] <= budget and row["feasible"]
    # The cost the budget limits is every lever's cost: recomputed on the re-evaluation's futures by simulate.
    r = res.reevaluation
    costs = sim.simulate(res.winner, replications=r.replications, seed=r.seed, partners=False).lever_costs
    per_replication = costs[costs.month >= 1].groupby("replication")["cost"].sum()
    assert per_replication.mean() == pytest.approx(row["program_cost_mean"], rel=1e-9)
    assert row["p_overspend"] == pytest.approx((per_replication > budget).mean())
    # Over-budget candidates were tried and refused.
    over = res.trials["cost_mean"] > budget
    assert over.any() and not res.trials.loc[over, "feasible"].any()


def test_a_batch_is_each_candidates_own_simulation_whatever_the_workers():
    # Noisy, recruiting: every replication differs; the numbers must be simulate()'s, row for row.
    from simulator.sweeps.design import point_scenario
    from simulator.sweeps.executors import Workers

    scn = sim.load_scenario(small_channel(horizon_months=24))
    space = build_space(scn, "all", nurture=(0, 20))
    points = [space.own_point(), {**space.own_point(), "recruitment.nurture_per_month": 17}]
    limit = Budget(10**7, per_year=True)
    one = evaluate(space, points, replications=7, seed=4, budget=limit, workers=1)
    with Workers(2) as pool:  # one pool for several batches, as a search uses it
        evaluate(space, points[:1], replications=3, seed=4, budget=limit, workers=pool)
        two = evaluate(space, points, replications=7, seed=4, budget=limit, workers=pool)
    pd.testing.assert_frame_equal(one.runs, two.runs)
    np.testing.assert_array_equal(one.contribution, two.contribution)
    np.testing.assert_array_equal(one.period_cost, two.period_cost)
    for p, point in enumerate(points):
        alone = sim.simulate(point_scenario(space.base, point), replications=7, seed=4, partners=False)
        for name in ("revenue_last_12m", "contribution_total", "cost_total"):
            np.testing.assert_array_equal(one.values(name)[p], alone.kpis[name].to_numpy(np.float64))
        monthly = alone.monthly.sort_values(["replication", "month"])
        cost = monthly["cost_program"].to_numpy(np.float64).reshape(7, -1)
        np.testing.assert_array_equal(one.contribution[p], monthly["contribution"].to_numpy(np.float64).reshape(7, -1))
        np.testing.assert_array_equal(one.values("program_cost")[p], cost[:, 1:].sum(axis=1))
        years = [cost[:, 1:13].sum(axis=1), cost[:, 13:25].sum(axis=1)]
        np.testing.assert_allclose(one.period_cost[p], np.stack(years, axis=1), rtol=1e-12)
    assert one.runs["replication"].tolist() == list(range(7)) * 2
