"""Who is hard to win: recruitment.size_elasticity scales a prospect's win-share hazard by (potential / median)^-e."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import small_channel

import simulator as sim
from simulator.engine.kernel import ChannelKernel


def market(e: float):
    return sim.load_scenario(
        small_channel(
            horizon_months=2,
            channel={"signed": 0, "active": 0, "collaborating": 0, "dormant": 0},
            market={
                "prospects": 3000,
                "segments": {"only": {"share": 1.0, "revenue_median": 5000, "revenue_sigma": 1.0}},
            },
            recruitment={"nurture_per_month": 3000, "win_share": 0.3, "nurture_months": 6, "size_elasticity": e},
        )
    )


@pytest.mark.parametrize("e", [0.0, 0.5, 1.0])
def test_signing_rate_by_potential_decile_matches_the_scaled_hazard(e):
    """All 3,000 prospects enter nurturing in month 1; month 2 is their first chance to sign."""
    scn = market(e)
    kernel = ChannelKernel(scn, 11, np.arange(40))
    kernel.step()
    nurtured = kernel.pop.state == sim.State.NURTURING
    potential = kernel.pop.potential[:, : nurtured.shape[1]].astype(np.float64)
    kernel.step()
    signed = kernel.pop.state == sim.State.SIGNED
    v, w = scn.market.vendor_signings_per_year, scn.recruitment.win_share
    f = (potential / 5000.0) ** -e
    p = -np.expm1(-v / 12 * (1 - (1 - w) ** f))  # closed form per company
    frame = pd.DataFrame({"potential": potential[nurtured], "signed": signed[nurtured], "p": p[nurtured]})
    frame["decile"] = pd.qcut(frame["potential"], 10, labels=False)
    by = frame.groupby("decile").agg(rate=("signed", "mean"), p=("p", "mean"), n=("signed", "size"))
    z = (by["rate"] - by["p"]) / np.sqrt(by["p"] * (1 - by["p"]) / by["n"])
    assert np.abs(z).max() < 4.5
    if e > 0:  # the biggest prospects are the hardest to win, by the stated factor
        top, bottom = by.iloc[-1], by.iloc[0]
        assert top["rate"] < bottom["rate"] and top["p"] < 0.6 * bottom["p"]


def test_zero_elasticity_is_todays_model():
    # The elastic path (each nurtured prospect its own signing probability) at a vanishing elasticity, where
    # every size factor is exactly 1, gives exactly the plain path's numbers (e = 0: MODEL.md's model).
    zero = sim.simulate("scenarios/baseline.yaml", replications=6, seed=2, recruitment__size_elasticity=0.0)
    tiny = sim.simulate("scenarios/baseline.yaml", replications=6, seed=2, recruitment__size_elasticity=1e-300)
    assert tiny.monthly.signings.sum() > 0
    pd.testing.assert_frame_equal(zero.monthly, tiny.monthly)


def test_elasticity_picks_smaller_recruits():
    """With targeting by fit score, recruits are big; size elasticity makes the signed ones smaller."""
    kw = dict(replications=30, seed=4)
    plain = sim.simulate("scenarios/baseline.yaml", recruitment__size_elasticity=0.0, **kw).partners
    hard = sim.simulate("scenarios/baseline.yaml", recruitment__size_elasticity=1.0, **kw).partners
    med_plain = plain.loc[plain.cohort == "recruited", "potential"].median()
    med_hard = hard.loc[hard.cohort == "recruited", "potential"].median()
    assert med_hard < 0.8 * med_plain
