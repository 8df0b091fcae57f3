"""Numbers that would overflow are refused by name; whatever is accepted gives finite results."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import small_channel

import simulator as sim
from simulator.vocabulary import CONCENTRATION_COLUMNS


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        ({"economics__onboarding_cost": 1e308}, "economics.onboarding_cost"),
        ({"economics__nurture_cost_per_month": 2e9}, "economics.nurture_cost_per_month"),
        ({"plan__revenue_target": 1e300}, "plan.revenue_target"),
        ({"program__levers": [{"use": "rebates", "cost": {"per_partner_month": 1e300}}]}, "per_partner_month"),
        ({"program__levers": [{"use": "events", "cost": {"fixed_per_month": 1e13}}]}, "fixed_per_month"),
        ({"program__levers": [{"use": "onboarding_guide", "cost": {"per_signing": 1e10}}]}, "per_signing"),
        (
            {"program__levers": [{"use": "rebates", "effects": {"revenue.uplift": 100}, "intensity": 20}]},
            "program.levers",
        ),
        (
            {
                "program__levers": [
                    {"use": "rebates", "effects": {"revenue.uplift": 40}},
                    {"use": "co_selling", "effects": {"revenue.uplift": 40}},
                ]
            },
            "program.levers",
        ),
    ],
)
def test_money_and_effects_beyond_the_bounds_are_refused(overrides, key):
    with pytest.raises(sim.ScenarioError) as err:
        sim.load_scenario(small_channel(), **overrides)
    assert key in str(err.value) and "\n" not in str(err.value)


def extreme():
    """Every money and effect key at (or near) its bound, over a long horizon."""
    levers = [
        {"use": "rebates", "effects": {"revenue.uplift": 30}, "cost": {"per_partner_month": 1e9, "revenue_share": 1}},
        {"use": "co_selling", "effects": {"revenue.uplift": 30}, "cost": {"fixed_per_month": 1e12}},
    ]
    return sim.load_scenario(
        small_channel(
            horizon_months=240,
            market={
                "prospects": 200,
                "segments": {"only": {"share": 1.0, "revenue_median": 1e8, "revenue_sigma": 4.0}},
            },
            growth={"active": 0.9, "collaborating": 0.8, "volatility": 2.0},
            economics={"nurture_cost_per_month": 1e9, "onboarding_cost": 1e9},
            plan={"revenue_target": 1e15},
        ),
        program__levers=levers,
    )


def test_the_most_extreme_accepted_scenario_gives_finite_figures():
    result = sim.simulate(extreme(), replications=6, seed=1)
    m = result.monthly
    other = [c for c in m.columns if c not in CONCENTRATION_COLUMNS]
    assert np.isfinite(m[other].to_numpy(np.float64)).all()
    # concentration is NaN only where no partner earns
    undefined = m["top20_share"].isna()
    assert (m.loc[undefined, "earning_partners"] == 0).all()
    assert (m["top20_share"].dropna() <= 1.0).all() and (m["top20_share_all"].dropna() <= 1.0).all()
    k = result.kpis
    assert np.isfinite(k.drop(columns=[c for c in k.columns if c in CONCENTRATION_COLUMNS]).to_numpy(float)).all()


def test_comparing_the_extreme_scenario_with_itself_is_exactly_zero():
    cmp = sim.compare(extreme(), replications=4, seed=2)
    assert (cmp.differences["mean_diff"].dropna() == 0).all()
    assert cmp.differences.loc["revenue_last_12m", "mean_diff"] == 0


def test_a_top_share_never_exceeds_one_by_rounding():
    from simulator.lifecycle.measurement import concentration_rows

    rng = np.random.default_rng(0)
    values = rng.lognormal(20, 4, size=(200, 7))
    out = concentration_rows(values, np.ones_like(values, bool), q=1.0)
    assert (out["top_share"] <= 1.0).all() and np.allclose(out["top_share"], 1.0)


def test_bad_sensitivity_figure_is_refused_before_any_run(tmp_path):
    out = tmp_path / "sens"
    with pytest.raises(sim.ChannelError, match="not a figure of the sweep"):
        sim.sensitivity(small_channel(), {"recruitment.win_share": (0.1, 0.4)}, kpi="revnue", out=out, samples=2)
    assert not out.exists()


def test_an_unusable_dask_address_writes_nothing(tmp_path):
    out = tmp_path / "sweep"
    with pytest.raises(sim.ChannelError, match=r"--dask tcp://127\.0\.0\.1:9"):
        sim.sweep(small_channel(), grid={"recruitment.win_share": [0.2, 0.3]}, out=out, dask="tcp://127.0.0.1:9")
    assert not (out / "manifest.json").exists()


def test_results_that_cannot_be_written_name_the_file(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = sim.simulate(small_channel(horizon_months=3), replications=2, seed=0)
    with pytest.raises(sim.ChannelError, match=r"cannot write .*file"):
        result.to_parquet(blocker / "out")


@pytest.mark.parametrize("command", ["simulate", "capacity", "compare", "scorecard"])
def test_an_unusable_output_folder_fails_before_any_run(tmp_path, command):
    from conftest import BASELINE, run_cli

    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    proc = run_cli(command, str(BASELINE), "-r", "400", "--out", str(blocker / "out"))
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "cannot write there" in proc.stderr
    assert "Revenue" not in proc.stdout  # no table printed before the error
