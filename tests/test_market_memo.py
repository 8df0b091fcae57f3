"""The memo of markets a planning search reuses: the same numbers as a fresh draw, within its bound."""

from __future__ import annotations

import contextlib
import sys

import numpy as np
import pandas as pd
import pytest
from conftest import BASELINE

import simulator as sim
from simulator.engine import population
from simulator.engine.kernel import ChannelKernel
from simulator.engine.parallel import reuse_freed_memory
from simulator.planning import sizing
from simulator.planning.sizing import run_value

FIELDS = ("segment", "potential", "fit_score", "company")


def market(scn, reps, seed=3):
    pop = ChannelKernel(scn, seed, reps, engine="compiled").pop
    return {f: getattr(pop, f).copy() for f in FIELDS}


def same(a, b):
    for f in FIELDS:
        assert a[f].dtype == b[f].dtype
        np.testing.assert_array_equal(a[f], b[f], err_msg=f)


@pytest.fixture(autouse=True)
def empty_memo():
    population.forget_markets()
    yield
    population.forget_markets()


def listed(tmp_path, n=900):
    rng = np.random.default_rng(4)
    frame = pd.DataFrame(
        {
            "prospect_id": [f"X{i}" for i in range(n)],
            "segment": np.array(["reseller", "msp", "integrator"])[np.arange(n) % 3],
            "fit_score": np.round(rng.normal(50, 10, n)),  # rounded: many ties, which keep list order
        }
    )
    frame.to_csv(tmp_path / "prospects.csv", index=False)
    return str(tmp_path / "prospects.csv")


@pytest.mark.parametrize("kind", ["drawn scores", "prospect list", "uncertain medians"])
def test_a_kept_market_cut_to_any_reach_is_the_fresh_draw(kind, tmp_path):
    extra: dict = {}
    if kind == "prospect list":
        extra["market__prospect_list"] = listed(tmp_path)
    if kind == "uncertain medians":
        extra["uncertainty"] = {"market.segments.msp.revenue_median": {"lognormal": [8.3, 0.4]}}
    memo = population._MEMO
    # nothing ranked, part of the market, all of it (the width is capped at the market)
    for npm in (0, 5, 26, 500):
        scn = sim.load_scenario(BASELINE, recruitment__nurture_per_month=npm, **extra)
        fresh = market(scn, np.arange(30))
        before = memo.hits
        with population.reusing_markets():
            market(scn, np.arange(10, 20))  # kept rows and new ones in one block
            kept = market(scn, np.arange(30))
        same(fresh, kept)
        assert memo.hits - before >= 10  # the reach differs from one value to the next: the memo serves all


def test_the_memo_draws_each_market_once_and_only_when_asked():
    memo = population._MEMO
    scn = sim.load_scenario(BASELINE)
    hits, misses = memo.hits, memo.misses
    market(scn, np.arange(20))
    assert not memo._slot and (memo.hits, memo.misses) == (hits, misses)  # outside reusing_markets(): not used
    with population.reusing_markets():
        market(scn, np.arange(20))
        market(sim.load_scenario(BASELINE, recruitment__nurture_per_month=30), np.arange(20))
    assert (memo.hits - hits, memo.misses - misses) == (20, 20)


def test_a_full_memo_replaces_its_least_recently_used_rows(monkeypatch):
    scn = sim.load_scenario(BASELINE)
    N = population.Layout.of(scn).companies
    small = population.MarketMemo(max_bytes=25 * N * 21)  # room for 25 replications
    monkeypatch.setattr(population, "_MEMO", small)
    fresh = market(scn, np.arange(40))
    with population.reusing_markets():
        market(scn, np.arange(0, 20))
        market(scn, np.arange(20, 30))  # full: 0-4 go
        assert (small.hits, small.misses) == (0, 30)
        assert len(small._slot) == 25
        kept = market(scn, np.arange(5, 30))  # every one of them kept
        assert (small.hits, small.misses) == (25, 30)
        again = market(scn, np.arange(0, 10))  # 0-4 are drawn again, replacing the oldest (5-9 were used last)
        assert (small.hits, small.misses) == (30, 35)
        too_many = market(scn, np.arange(40))  # more than it holds: drawn afresh, and the memo left as it was
        assert (small.hits, small.misses) == (30, 75)
        assert len(small._slot) == 25
    for rows, got in ((np.arange(5, 30), kept), (np.arange(0, 10), again), (np.arange(40), too_many)):
        same({f: fresh[f][rows] for f in FIELDS}, got)


def test_another_market_empties_the_memo():
    memo = population._MEMO
    with population.reusing_markets():
        market(sim.load_scenario(BASELINE), np.arange(8))
        assert len(memo._slot) == 8
        other = sim.load_scenario(BASELINE, market__prospects=1500)
        fresh = market(other, np.arange(8, 12))
        assert len(memo._slot) == 4
    population.forget_markets()
    same(market(other, np.arange(8, 12)), fresh)


def test_sizing_runs_give_the_same_numbers_with_kept_markets(monkeypatch):
    scn = sim.load_scenario(BASELINE, recruitment__nurture_per_month=20)
    reps = np.arange(24)
    first = run_value(scn, 5, reps)  # draws and keeps
    again = run_value(sim.load_scenario(BASELINE, recruitment__nurture_per_month=20), 5, reps)  # every market kept
    population.forget_markets()
    with population.reusing_markets():  # kept rows of another reach
        run_value(sim.load_scenario(BASELINE, recruitment__nurture_per_month=31), 5, reps)
        cut = run_value(scn, 5, reps)
    population.forget_markets()
    monkeypatch.setattr(sizing, "reusing_markets", contextlib.nullcontext)  # every market drawn afresh
    plain = run_value(scn, 5, reps)
    assert not population._MEMO._slot
    for name in first:
        for got in (again[name], cut[name], plain[name]):
            np.testing.assert_array_equal(first[name], got, err_msg=name)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_freed_memory_is_kept_for_the_next_block():
    assert reuse_freed_memory()
