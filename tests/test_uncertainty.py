"""Parameter uncertainty: each replication draws its own values of the uncertain keys."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import small_channel
from scipy import stats

import simulator as sim
from simulator.engine.kernel import ChannelKernel


def scenario(**uncertainty):
    return sim.load_scenario(small_channel(horizon_months=12), uncertainty=uncertainty)


def drawn(scn, key, replications=2000, seed=0):
    return ChannelKernel(scn, seed, np.arange(replications)).params.drawn[key]


def test_draws_follow_the_distribution():
    scn = scenario(**{"recruitment.win_share": {"uniform": [0.15, 0.35]}})
    x = drawn(scn, "recruitment.win_share")
    assert x.min() >= 0.15 and x.max() <= 0.35
    assert stats.kstest(x, stats.uniform(0.15, 0.2).cdf).pvalue > 1e-3
    assert abs(x.mean() - 0.25) < 4 * 0.2 / np.sqrt(12 * x.size)


def test_draws_are_truncated_to_the_keys_range():
    """A normal on a probability is drawn truncated to [0, 1]: its mean is the truncated normal's."""
    scn = scenario(**{"activation.monthly_probability": {"normal": [0.1, 0.2]}})
    x = drawn(scn, "activation.monthly_probability", 4000)
    assert x.min() >= 0.0 and x.max() <= 1.0
    a, b = (0.0 - 0.1) / 0.2, (1.0 - 0.1) / 0.2
    expected = stats.truncnorm(a, b, loc=0.1, scale=0.2)
    assert abs(x.mean() - expected.mean()) < 4 * expected.std() / np.sqrt(x.size)


def test_each_replication_uses_its_own_value():
    """Month-1 first deals of 4,000 signed partners follow each replication's drawn probability."""
    data = small_channel(horizon_months=2, channel={"signed": 4000, "active": 0, "collaborating": 0, "dormant": 0})
    data["market"]["segments"] = {"partner": {"share": 1.0}}
    data["recruitment"] = {"nurture_per_month": 0}
    scn = sim.load_scenario(data, uncertainty={"activation.monthly_probability": {"beta": [2.0, 8.0]}})
    kernel = ChannelKernel(scn, 1, np.arange(200)).run()
    p = kernel.params.drawn["activation.monthly_probability"]
    rate = kernel.record["activations"][:, 1] / 4000
    se = np.sqrt(p * (1 - p) / 4000)
    z = (rate - p) / se
    assert np.abs(z).max() < 5 and abs(z.mean()) < 4 / np.sqrt(z.size)
    assert np.corrcoef(rate, p)[0, 1] > 0.99


def test_uncertain_money_keys_act_per_replication():
    scn = scenario(**{"economics.gross_margin": {"beta": [6, 4]}, "economics.onboarding_cost": {"uniform": [1e3, 9e3]}})
    kernel = ChannelKernel(scn, 2, np.arange(50)).run()
    gm = kernel.params.drawn["economics.gross_margin"]
    cost = kernel.params.drawn["economics.onboarding_cost"]
    rec = kernel.record
    np.testing.assert_allclose(rec["margin"], gm[:, None] * rec["revenue"], rtol=1e-12)
    np.testing.assert_allclose(rec["cost_onboarding"], cost[:, None] * rec["signings"], rtol=1e-12)


def test_uncertainty_widens_the_spread_of_revenue():
    base = small_channel(horizon_months=12)
    certain = sim.simulate(base, replications=300, seed=3).kpis["revenue_last_12m"]
    spread = {
        "market.segments.reseller.revenue_median": {"lognormal": [np.log(3000), 0.5]},
        "market.segments.msp.revenue_median": {"lognormal": [np.log(4000), 0.5]},
        "market.segments.integrator.revenue_median": {"lognormal": [np.log(9000), 0.5]},
    }
    uncertain = sim.simulate(sim.load_scenario(base, uncertainty=spread), replications=300, seed=3)
    ratio = uncertain.kpis["revenue_last_12m"].std() / certain.std()
    assert ratio > 1.2  # each median times an independent lognormal(0, 0.5) factor
    # and the replications that drew larger medians earn more, in proportion
    medians = ChannelKernel(uncertain.scenario, 3, np.arange(300)).params.drawn
    revenue = uncertain.kpis["revenue_last_12m"].to_numpy()
    assert np.corrcoef(np.log(medians["market.segments.integrator.revenue_median"]), np.log(revenue))[0, 1] > 0.2


def test_replication_identity_and_compare_with_itself():
    scn = scenario(**{"recruitment.win_share": {"beta": [3, 7]}, "growth.active": {"normal": [0.11, 0.05]}})
    many = sim.simulate(scn, replications=20, seed=5)
    alone = sim.simulate(scn, replications=[13], seed=5)
    pd.testing.assert_frame_equal(alone.kpis, many.kpis[many.kpis.replication == 13].reset_index(drop=True))
    cmp = sim.compare(scn, replications=10, seed=5)
    assert (cmp.differences["mean_diff"].fillna(0) == 0).all() and (
        cmp.paired.drop(columns="replication") == 0
    ).all().all()


def test_a_shared_uncertain_key_draws_the_same_values_in_both_scenarios():
    one = scenario(**{"recruitment.win_share": {"beta": [3, 7]}})
    two = scenario(**{"recruitment.win_share": {"beta": [3, 7]}, "churn.exit_probability": {"beta": [1, 99]}})
    np.testing.assert_array_equal(drawn(one, "recruitment.win_share", 50), drawn(two, "recruitment.win_share", 50))


def test_uncertainty_false_is_the_scenario_without_the_section(tmp_path):
    scn = scenario(**{"recruitment.win_share": {"beta": [3, 7]}})
    off = sim.simulate(scn, replications=8, seed=1, uncertainty=False).kpis
    plain = sim.simulate(scn.without_uncertainty(), replications=8, seed=1).kpis
    pd.testing.assert_frame_equal(off, plain)
    assert not off.equals(sim.simulate(scn, replications=8, seed=1).kpis)
    path = tmp_path / "u.yaml"
    path.write_text(scn.to_yaml())
    from conftest import run_cli

    with_flag = run_cli("simulate", str(path), "-r", "3", "--no-uncertainty", "--out", str(tmp_path / "o"))
    assert with_flag.returncode == 0, with_flag.stderr


@pytest.mark.parametrize(
    ("section", "needle"),
    [
        ({"recruitment.win_sahre": {"beta": [1, 2]}}, "did you mean 'recruitment.win_share'"),
        ({"horizon_months": {"normal": [36, 1]}}, "cannot be uncertain"),
        ({"recruitment.win_share": {"beta": [0, 2]}}, "both shape parameters must be > 0"),
        ({"recruitment.win_share": {"uniform": [0.5, 0.2]}}, "low must be below high"),
        ({"recruitment.win_share": {"triangular": [0.1, 0.5, 0.3]}}, "low <= mode <= high"),
        ({"recruitment.win_share": {"normal": [9, 0.1]}}, "puts no probability within"),
        ({"recruitment.win_share": {"beta": [1, 2], "uniform": [0, 1]}}, "exactly one distribution"),
        ({"recruitment.win_share": {"gamma": [1, 2]}}, "unknown key"),
        ({"market.segments.retail.revenue_median": {"normal": [5, 1]}}, "no segment 'retail'"),
        ({"recruitment.win_share": {"beta": [1, 2, 3]}}, "beta takes 2 parameters"),
    ],
)
def test_bad_uncertainty_sections_are_refused(section, needle):
    with pytest.raises(sim.ScenarioError) as err:
        scenario(**section)
    assert needle in str(err.value) and "uncertainty" in str(err.value) and "\n" not in str(err.value)
