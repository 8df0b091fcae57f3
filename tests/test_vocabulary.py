"""The vocabulary is the one home of states, rates and figures: everything else derives from it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import small_channel

import simulator as sim
from simulator import vocabulary
from simulator.cli.main import main
from simulator.engine.kernel import INTEGER_COLUMNS, MONTHLY_COLUMNS
from simulator.engine.results import KPI_COLUMNS
from simulator.formatting import change, figure
from simulator.planning.decisions import _WORSE, RATE_DIRECTION
from simulator.vocabulary import VOCABULARY, Figure, extended


def _cost_per_signing(columns):
    signings = columns["signings"][:, 1:].sum(axis=1)
    return columns["cost"][:, 1:].sum(axis=1) / np.maximum(signings, 1)


COST_PER_SIGNING = Figure(
    "cost_per_signing", "money", "Cost per signing", table="kpis", better=-1, summary=True, compute=_cost_per_signing
)


def test_a_new_figure_is_one_entry_and_reaches_kpis_compare_and_the_cli(tmp_path, capsys):
    scn = sim.load_scenario(small_channel(horizon_months=12))
    path = tmp_path / "small.yaml"
    path.write_text(scn.to_yaml())
    with extended(COST_PER_SIGNING):
        result = sim.simulate(scn, replications=6, seed=3)
        m = result.monthly
        cost = m[m.month > 0].groupby("replication")["cost"].sum().to_numpy()
        signings = m[m.month > 0].groupby("replication")["signings"].sum().to_numpy()
        np.testing.assert_allclose(result.kpis["cost_per_signing"], cost / np.maximum(signings, 1), rtol=1e-12)
        # read back from the monthly table too (as after Parquet)
        back = sim.engine.results.horizon_kpis(m, scn)
        np.testing.assert_allclose(back["cost_per_signing"], result.kpis["cost_per_signing"], rtol=1e-12)
        cmp = sim.compare(scn, replications=6, seed=3, recruitment__nurture_per_month=20)
        row = cmp.differences.loc["cost_per_signing"]
        assert row["better"] == "lower"
        paired = cmp.b.kpis["cost_per_signing"] - cmp.a.kpis["cost_per_signing"]
        assert row["mean_diff"] == pytest.approx(paired.mean(), rel=1e-12)
        assert main(["simulate", str(path), "-r", "4", "--out", str(tmp_path / "out")]) == 0
        printed = capsys.readouterr().out
        assert f"Cost per signing ({scn.currency})" in printed
    assert "cost_per_signing" not in sim.simulate(scn, replications=2, seed=3).kpis.columns  # gone after the block


def test_derived_tables_follow_the_vocabulary():
    assert VOCABULARY.names("monthly") == MONTHLY_COLUMNS
    assert tuple(n for n in VOCABULARY.names("kpis") if n != "plan_met") == KPI_COLUMNS
    result = sim.simulate(small_channel(horizon_months=6), replications=2, seed=1)
    for col in MONTHLY_COLUMNS:
        expected = np.int64 if col in INTEGER_COLUMNS else np.float64
        assert result.monthly[col].dtype == expected, col
    assert list(result.kpis.columns) == ["replication", *KPI_COLUMNS, "plan_met"]
    # every kpi has a label, a kind the formatter knows, and a direction compare uses
    for f in VOCABULARY.figures("kpis"):
        assert f.label and f.kind in vocabulary.KINDS
    cmp = sim.compare(small_channel(horizon_months=6), replications=2, seed=1)
    for name, row in cmp.differences.iterrows():
        assert row["better"] == {1: "higher", -1: "lower", 0: ""}[vocabulary.better(name)]


def test_rate_directions_come_from_the_vocabulary():
    assert set(RATE_DIRECTION) == set(vocabulary.RATE_KEYS)
    assert RATE_DIRECTION["churn.exit_probability"] == -1 and RATE_DIRECTION["growth.active"] == 1
    assert {k for k, d in RATE_DIRECTION.items() if d < 0} <= _WORSE
    assert dict(vocabulary.GROWTH_RATES) == {
        "growth.active": vocabulary.State.ACTIVE,
        "growth.collaborating": vocabulary.State.COLLABORATING,
    }


@pytest.mark.parametrize(
    ("name", "value", "text"),
    [
        ("revenue_last_12m", 30_812_345.0, "30.8m"),
        ("top20_share", 0.8406, "84.1%"),
        ("gini", 0.8061, "0.81"),
        ("hhi", 0.01234, "0.0123"),
        ("active", 94.6, "95"),
        ("p_plan_met", 0.905, "90.5%"),
    ],
)
def test_figures_are_written_by_their_kind(name, value, text):
    assert figure(name, value) == text


def test_changes_of_shares_are_points_and_no_negative_zero():
    assert change("p_plan_met", 0.145) == "+14.5 points"
    assert change("top20_share", -0.00001) == "0.0 points"
    assert change("revenue_last_12m", -0.2) == "0"
    assert change("signings", 12) == "+12"


def test_signed_partner_rule_is_one_function():
    state = np.array(
        [vocabulary.State.PROSPECT, vocabulary.State.SIGNED, vocabulary.State.CHURNED, vocabulary.State.CHURNED]
    )
    revenue = np.array([0.0, 0.0, 5.0, 0.0])
    assert vocabulary.signed_or_earning(state, revenue).tolist() == [False, True, True, False]
    codes = vocabulary.state_codes(pd.Series(["prospect", "signed", "churned"]))
    assert codes.tolist() == [0, 2, 6]
