"""Tornado: one-at-a-time swings on common random numbers, ranked by their effect."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import run_cli, small_channel

import simulator as sim
from simulator.planning.tornado import swing_range, tornado


def small(**extra):
    return sim.load_scenario(small_channel(horizon_months=12), **extra)


def test_each_swing_is_the_paired_effect_of_its_key_alone():
    result = tornado(small(), ["recruitment.win_share", "activation.window_months"], replications=8, seed=3, workers=1)
    t = result.table.set_index("key")
    base = sim.simulate(small(), replications=8, seed=3).kpis["revenue_last_12m"].mean()
    assert t["figure_base"].iloc[0] == pytest.approx(base, rel=1e-12)
    for key, override in (("recruitment.win_share", "recruitment__win_share"),):
        low = sim.simulate(small(), replications=8, seed=3, **{override: t.loc[key, "low"]}).kpis
        high = sim.simulate(small(), replications=8, seed=3, **{override: t.loc[key, "high"]}).kpis
        assert t.loc[key, "figure_low"] == pytest.approx(low["revenue_last_12m"].mean(), rel=1e-12)
        assert t.loc[key, "figure_high"] == pytest.approx(high["revenue_last_12m"].mean(), rel=1e-12)
    assert t.loc["recruitment.win_share", "low"] == pytest.approx(0.3 * 0.75)
    assert t.loc["activation.window_months", "low"] == round(6 * 0.75)  # whole numbers stay whole
    sizes = result.table["size"].to_numpy()
    assert (np.diff(sizes) <= 0).all()  # sorted, largest first


def test_ranges_come_from_the_uncertainty_section_where_given():
    scn = small(uncertainty={"recruitment.win_share": {"uniform": [0.1, 0.5]}})
    low, high, source = swing_range(scn, "recruitment.win_share")
    assert low == pytest.approx(0.1 + 0.05 * 0.4) and high == pytest.approx(0.1 + 0.95 * 0.4)
    assert source.startswith("uncertainty")
    assert swing_range(scn, "churn.exit_probability")[2] == "+-25%"


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"keys": ["recruitment.win_shar"]}, "did you mean 'recruitment.win_share'"),
        ({"keys": ["name"]}, "only numeric keys"),
        ({"kpi": "revnue"}, "not a horizon figure"),
        ({"spread": 0}, "spread must be"),
    ],
)
def test_bad_tornado_arguments_are_refused_in_one_line(kwargs, needle):
    with pytest.raises(sim.ChannelError) as err:
        tornado(small(), replications=2, workers=1, **kwargs)
    assert needle in str(err.value) and "\n" not in str(err.value)


def test_cli_tornado_writes_its_table_and_chart(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(small().to_yaml())
    proc = run_cli(
        "tornado", str(path), "-r", "4", "-w", "1", "--keys", "recruitment.win_share", "--out", str(tmp_path)
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "tornado.csv").exists() and (tmp_path / "tornado.png").exists()
    assert "recruitment.win_share" in proc.stdout
