"""The compiled kernel against the numpy reference, and its guarantees: same replication, same numbers.

Both kernels draw the same random numbers (a pure function of seed, replication, month, purpose and
company), so they must agree replication by replication: identical states, moves and integer figures,
and money equal up to the order in which floating-point sums are taken (1e-9 relative).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest
from conftest import BASELINE, ROOT

import simulator as sim
from simulator.engine import compiled
from simulator.engine.kernel import INTEGER_COLUMNS, MONTHLY_COLUMNS, ChannelKernel
from simulator.errors import ChannelError

POPULATION = ("state", "entered", "deadline", "eligible_from", "signed_month", "first_deal", "collaborating_months")


def _partner_list(folder):
    rows = [
        ("P001", "reseller", "active", 12000.55, "", 150000.07),
        ("P002", "msp", "collaborating", 8000.0, "", 90000.01),
        ("P003", "integrator", "signed", 0.0, 2, ""),
        ("P004", "reseller", "dormant", 3000.0, "", 12000.5),
        ("P005", "reseller", "dormant", 0.0, "", 0.0),
        ("P006", "msp", "active", 1500.25, "", ""),
    ] * 20
    frame = pd.DataFrame(
        rows, columns=["partner_id", "segment", "state", "run_rate", "months_since_signing", "revenue_t12m"]
    )
    frame["partner_id"] = [f"P{i:04d}" for i in range(len(frame))]
    path = folder / "partners.csv"
    frame.to_csv(path, index=False)
    return str(path)


def _prospect_list(folder):
    rng = np.random.default_rng(0)
    scores = np.round(rng.normal(50, 10, 900))  # whole-number scores: many ties, broken by list order
    frame = pd.DataFrame(
        {
            "prospect_id": [f"X{i}" for i in range(900)],
            "segment": np.array(["reseller", "msp", "integrator"])[np.arange(900) % 3],
            "fit_score": scores,
        }
    )
    path = folder / "prospects.csv"
    frame.to_csv(path, index=False)
    return str(path)


LEVERS = [
    {
        "name": "rebate",
        "applies_to": ["active", "collaborating"],
        "segments": ["msp"],
        "effects": {"churn.exit_probability": -0.4, "revenue.uplift": 0.1, "growth.active": 0.3},
        "cost": {"revenue_share": 0.02, "per_partner_month": 40},
        "months": [3, 20],
        "intensity": 1.5,
    },
    {
        "name": "recruit",
        "effects": {"recruitment.win_share": 0.5, "collaboration.adoption_probability": 1.0},
        "cost": {"per_signing": 2000, "fixed_per_month": 5000},
        "months": [1, 12],
    },
    {"name": "no_dormancy", "applies_to": ["active"], "effects": {"churn.dormancy_probability": -1.0}},
]

TIERS = [
    {"name": "registered", "threshold": 0},
    {
        "name": "silver",
        "threshold": 40000,
        "effects": {"churn.exit_probability": -0.5, "collaboration.adoption_probability": 2.0},
        "cost": {"revenue_share": 0.01, "per_partner_month": 150},
    },
    {
        "name": "gold",
        "threshold": 200000,
        "effects": {"growth.active": 0.5, "revenue.uplift": 0.2, "churn.dormancy_probability": -0.5},
        "cost": {"revenue_share": 0.02, "per_partner_month": 500},
    },
]

#: One scenario per mechanic (and some edges): name -> overrides of the baseline, or a builder.
CASES = {
    "baseline": {},
    "short horizon": {"horizon_months": 7},
    "long horizon": {"horizon_months": 75, "market__prospects": 3000},
    "levers": {"program__levers": LEVERS},
    "ramp and elasticity": {"activation__ramp_months": 12, "activation__ramp_start": 0.25},
    "elasticity": {"recruitment__size_elasticity": 0.7},
    "certain moves": {"activation__monthly_probability": 1.0, "churn__reactivation_probability": 1.0},
    "strong peers": {"collaboration__peer_effect": 4.0, "collaboration__adoption_probability": 0.1},
    "no recruitment": {"recruitment__nurture_per_month": 0},
    "tiers": {"program__tiers": TIERS, "program__review_months": 4, "program__levers": LEVERS[:1]},
    "uncertainty": {
        "uncertainty": {
            "recruitment.win_share": {"uniform": [0.1, 0.4]},
            "growth.active": {"normal": [0.11, 0.05]},
            "growth.volatility": {"uniform": [0.1, 0.4]},
            "collaboration.peer_effect": {"uniform": [0.0, 2.0]},
            "market.segments.msp.revenue_median": {"lognormal": [8.5, 0.3]},
            "recruitment.scoring_accuracy": {"uniform": [0.3, 0.9]},
            "economics.gross_margin": {"uniform": [0.2, 0.4]},
        },
        "recruitment__size_elasticity": 0.5,
        "program__tiers": TIERS,
        "program__review_months": 6,
    },
}


def _scenario(case, folder):
    if case == "partner list":
        return sim.load_scenario(
            BASELINE,
            channel__signed=0,
            channel__active=0,
            channel__collaborating=0,
            channel__dormant=0,
            channel__segment_shares=None,
            channel__partner_list=_partner_list(folder),
            activation__ramp_months=6,
        )
    if case == "prospect list":
        return sim.load_scenario(
            BASELINE, market__prospect_list=_prospect_list(folder), recruitment__size_elasticity=0.4
        )
    return sim.load_scenario(BASELINE, **CASES[case])


def _run_both(scn, seed, reps):
    return (
        ChannelKernel(scn, seed, reps, engine="compiled").run(),
        ChannelKernel(scn, seed, reps, engine="numpy").run(),
    )


def assert_same(fast, slow):
    for col in MONTHLY_COLUMNS:
        a, b = fast.record[col], slow.record[col]
        if col in INTEGER_COLUMNS:
            np.testing.assert_array_equal(a, b, err_msg=col)
        else:
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9, equal_nan=True, err_msg=col)
    for name in POPULATION:
        np.testing.assert_array_equal(getattr(fast.pop, name), getattr(slow.pop, name), err_msg=name)
    for name in ("segment", "company"):
        np.testing.assert_array_equal(getattr(fast.pop, name), getattr(slow.pop, name), err_msg=name)
    for name in ("potential", "fit_score", "run_rate"):
        np.testing.assert_allclose(getattr(fast.pop, name), getattr(slow.pop, name), rtol=1e-9, err_msg=name)
    np.testing.assert_allclose(fast.lever_cost, slow.lever_cost, rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(fast.trailing_revenue(), slow.trailing_revenue(), rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(fast.growth_12m(), slow.growth_12m(), rtol=1e-9, equal_nan=True)


@pytest.mark.parametrize("case", [*CASES, "partner list", "prospect list"])
def test_the_compiled_kernel_equals_the_numpy_reference_replication_by_replication(case, tmp_path):
    scn = _scenario(case, tmp_path)
    fast, slow = _run_both(scn, 11, np.arange(6))
    assert_same(fast, slow)
    assert fast.record["signings"][:, 1:].sum() > 0 or case == "no recruitment"
    for name in ("tier_partners", "tier_promotions_in", "tier_demotions_in"):
        np.testing.assert_array_equal(getattr(fast, name), getattr(slow, name), err_msg=name)
    for name in ("tier_rebate", "tier_mdf", "tier_cost"):
        np.testing.assert_allclose(getattr(fast, name), getattr(slow, name), rtol=1e-9, err_msg=name)
    np.testing.assert_array_equal(fast.pop.tier, slow.pop.tier)


def test_the_cases_exercise_the_mechanics(tmp_path):
    # the table is only a test of the mechanics if they fire: levers cost, recruits ramp, moves happen
    levers = ChannelKernel(_scenario("levers", tmp_path), 11, np.arange(6)).run()
    assert (levers.lever_cost[..., :2] > 0).sum(axis=(0, 1)).min() > 0  # the two levers that cost
    certain = ChannelKernel(_scenario("certain moves", tmp_path), 11, np.arange(6)).run()
    # every signed partner closes its first deal the month after it signs: only this month's signings wait
    np.testing.assert_array_equal(certain.record["signed"][:, 1:], certain.record["signings"][:, 1:])
    tiers = ChannelKernel(_scenario("tiers", tmp_path), 11, np.arange(6)).run()
    assert tiers.record["promotions"].sum() > 0 and tiers.record["demotions"].sum() > 0
    assert (tiers.tier_partners[:, -1, 2] > 0).all() and (tiers.tier_cost > 0).any()
    peers = ChannelKernel(_scenario("strong peers", tmp_path), 11, np.arange(6)).run()
    assert peers.record["collaborating"][:, -1].mean() > 2 * peers.record["collaborating"][:, 0].mean()


def test_stepping_month_by_month_equals_running_to_the_horizon():
    scn = sim.load_scenario(BASELINE, horizon_months=14)
    stepped = ChannelKernel(scn, 3, [0, 5])
    while not stepped.done:
        stepped.step()
    whole = ChannelKernel(scn, 3, [0, 5]).run()
    for col in MONTHLY_COLUMNS:
        np.testing.assert_array_equal(stepped.record[col], whole.record[col], err_msg=col)


def test_a_replication_has_the_same_numbers_alone_or_among_many():
    scn = sim.load_scenario(BASELINE, horizon_months=18)
    many = ChannelKernel(scn, 7, np.arange(300)).run()
    for r in (0, 137, 299):
        alone = ChannelKernel(scn, 7, [r]).run()
        for col in MONTHLY_COLUMNS:
            np.testing.assert_array_equal(alone.record[col][0], many.record[col][r], err_msg=f"{col} of {r}")


def test_one_thread_or_two_give_identical_numbers():
    scn = sim.load_scenario(BASELINE, horizon_months=18)
    try:
        compiled.set_threads(1)
        one = sim.simulate(scn, replications=64, seed=5).monthly
        compiled.set_threads(2 if compiled.numba.config.NUMBA_NUM_THREADS >= 2 else 1)
        two = sim.simulate(scn, replications=64, seed=5).monthly
    finally:
        compiled.set_threads()
    pd.testing.assert_frame_equal(one, two)


@pytest.mark.parametrize("bad", [0, -1, 2.0, "2", True, 10**6])
def test_bad_thread_counts_are_refused_in_one_line(bad):
    with pytest.raises(ChannelError, match="threads must be a whole number 1 to"):
        compiled.set_threads(bad)


def test_the_cli_refuses_a_bad_thread_count():
    done = subprocess.run(
        [sys.executable, "run.py", "simulate", str(BASELINE), "--threads", "0", "-r", "2"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "--threads" in done.stderr


def test_the_cached_kernel_runs_in_parallel_in_a_fresh_process():
    # The cache trap: a function compiled with and without parallel=True shares one cache entry, and the
    # parallel version may silently load the serial code. Every compiled function is parallel-only, and a
    # fresh process that loads them from the cache starts numba's thread pool when it runs the kernel.
    for dispatcher in (compiled.run_months, compiled.draw_market):
        assert dispatcher.targetoptions.get("parallel") is True
    compiled.warm_up()  # the cache is written
    script = textwrap.dedent(
        """
        import numba, simulator as sim
        from simulator.engine import compiled
        compiled.set_threads(2 if numba.config.NUMBA_NUM_THREADS >= 2 else 1)
        assert compiled.cache_ready()
        sim.simulate(sim.load_scenario("scenarios/baseline.yaml"), replications=8, seed=0)
        print(numba.threading_layer())  # raises if no parallel region ran
        """
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, env=env, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "workqueue"


@pytest.mark.slow
def test_a_cli_run_that_must_compile_says_so_once(tmp_path):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "cache"))
    done = subprocess.run(
        [sys.executable, "run.py", "simulate", str(BASELINE), "-r", "2", "--out", str(tmp_path / "out")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("compiling the engine once") == 1
    again = subprocess.run(
        [sys.executable, "run.py", "simulate", str(BASELINE), "-r", "2", "--out", str(tmp_path / "out2")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert again.returncode == 0 and "compiling" not in again.stderr


def test_an_unknown_engine_is_refused_in_one_line():
    with pytest.raises(ChannelError, match="engine must be one of compiled, numpy; got 'fortran'"):
        ChannelKernel(sim.load_scenario(BASELINE), 0, [0], engine="fortran")
