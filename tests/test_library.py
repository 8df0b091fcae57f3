"""The scenario library: every file validates, simulates, and says what question it answers."""

from __future__ import annotations

import pytest
from conftest import SCENARIOS

import simulator as sim
from simulator import ScenarioError

FILES = sorted(SCENARIOS.glob("*.yaml"))


def test_library_has_the_baseline_and_five_what_ifs():
    names = {f.stem for f in FILES}
    assert "baseline" in names
    for what_if in (
        "activation_first",
        "engagement_incentives",
        "collaboration_program",
        "aggressive_recruitment",
        "optimization",
    ):
        assert what_if in names


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_scenario_validates_simulates_and_states_its_question(path):
    header = path.read_text().splitlines()[:6]
    assert any("Question" in line for line in header), f"{path.name}: no question in the header"
    scn = sim.load_scenario(path)
    result = sim.simulate(scn, replications=3, seed=1, partners=False)
    assert (
        result.monthly[["prospect", "nurturing", "signed", "active", "collaborating", "dormant", "churned"]].sum(axis=1)
        == scn.companies
    ).all()


def test_what_ifs_extend_the_baseline():
    base = sim.load_scenario(SCENARIOS / "baseline.yaml")
    what_if = sim.load_scenario(SCENARIOS / "aggressive_recruitment.yaml")
    assert what_if.recruitment.nurture_per_month == 2 * base.recruitment.nurture_per_month
    assert what_if.recruitment.win_share == base.recruitment.win_share  # inherited
    assert what_if.market == base.market and what_if.channel == base.channel
    assert [lv.use for lv in what_if.program.levers] == ["marketing_automation"]
    assert "recruitment.nurture_per_month" in what_if.notes and "market.prospects" in what_if.notes


def test_extends_errors(tmp_path):
    (tmp_path / "a.yaml").write_text("extends: b.yaml\n")
    (tmp_path / "b.yaml").write_text("extends: a.yaml\n")
    with pytest.raises(ScenarioError, match="cycle"):
        sim.load_scenario(tmp_path / "a.yaml")
    (tmp_path / "c.yaml").write_text("extends: missing.yaml\n")
    with pytest.raises(ScenarioError, match="not found"):
        sim.load_scenario(tmp_path / "c.yaml")
    (tmp_path / "d.yaml").write_text("extends: 3\n")
    with pytest.raises(ScenarioError, match="extends = 3"):
        sim.load_scenario(tmp_path / "d.yaml")
