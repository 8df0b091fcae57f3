"""Recruiting from the vendor's own scored prospect list (market.prospect_list)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import BASELINE

import simulator as sim
from simulator.engine.kernel import ChannelKernel


def write(folder, n=3000, seed=0, **columns):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "prospect_id": [f"X{i}" for i in range(n)],
            "segment": np.array(["reseller", "msp", "integrator"])[np.arange(n) % 3],
            "fit_score": rng.normal(50, 10, n),
        }
    )
    for k, v in columns.items():
        frame[k] = v
    path = folder / "prospects.csv"
    frame.to_csv(path, index=False)
    return path, frame


def test_the_market_is_the_list_and_its_best_scored_are_nurtured_first(tmp_path):
    path, frame = write(tmp_path)
    scn = sim.load_scenario(BASELINE, market__prospect_list=str(path))
    assert scn.market.prospects == 3000
    kernel = ChannelKernel(scn, 1, np.arange(4))
    P = kernel.layout.partners
    expected = np.sort(frame["fit_score"].to_numpy())[::-1]
    reachable = kernel.layout.width - P
    np.testing.assert_allclose(kernel.pop.fit_score[0, P : P + reachable], expected[:reachable], rtol=1e-6)
    result = sim.simulate(scn, replications=4, seed=1)
    first = result.monthly[result.monthly.month == 1]["nurtured"]
    assert (first == scn.recruitment.nurture_per_month).all()


def test_potential_given_the_score_is_correlated_at_the_scoring_accuracy(tmp_path):
    path, _ = write(tmp_path, n=30000)
    scn = sim.load_scenario(BASELINE, market__prospect_list=str(path), recruitment__scoring_accuracy=0.6)
    kernel = ChannelKernel(scn, 2, [0])
    P = kernel.layout.partners
    pot = np.log(kernel.pop.potential[0, P:].astype(np.float64))
    fit = kernel.pop.fit_score[0, P:].astype(np.float64)
    seg = kernel.pop.segment[0, P:]
    for g, name in enumerate(scn.segment_names):
        m = seg == g
        r = np.corrcoef(pot[m], fit[m])[0, 1]
        assert abs(r - 0.6) < 4 * (1 - 0.36) / np.sqrt(m.sum())  # standard error of a correlation
        s = scn.market.segments[name]
        assert abs(np.median(pot[m]) - np.log(s.revenue_median)) < 0.06  # centred on the segment's median


@pytest.mark.parametrize(
    ("columns", "needle"),
    [
        ({"fit_score": "high"}, "fit_score 'high' must be a finite number"),
        ({"segment": "retail"}, "unknown segment 'retail'"),
        ({"prospect_id": "same"}, "appears twice"),
    ],
)
def test_bad_prospect_lists_are_refused(tmp_path, columns, needle):
    path, _ = write(tmp_path, n=5, **columns)
    with pytest.raises(sim.ScenarioError) as err:
        sim.load_scenario(BASELINE, market__prospect_list=str(path))
    assert needle in str(err.value) and "prospect_list" in str(err.value)


def test_a_prospect_list_without_scores_is_refused(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("prospect_id,segment\nA,msp\n")
    with pytest.raises(sim.ScenarioError, match="no column 'fit_score'"):
        sim.load_scenario(BASELINE, market__prospect_list=str(path))
