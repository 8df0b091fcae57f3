"""The dashboard page driven by Streamlit's own test harness (AppTest): no browser, the real script."""

from __future__ import annotations

import json
import os
import re

import pytest
from conftest import SCENARIOS, small_channel
from streamlit.testing.v1 import AppTest

import simulator as sim
from simulator.dashboard import logic
from simulator.formatting import change
from simulator.scenario.yaml_io import dump_yaml

APP = os.path.join(os.path.dirname(sim.__file__), "dashboard", "app.py")
REPS = 40


@pytest.fixture
def library(tmp_path, monkeypatch):
    """A library of two small scenarios (fast), handed to the page as run.py dashboard does."""
    small = tmp_path / "small.yaml"
    small.write_text(dump_yaml(small_channel(name="Small channel")))
    bigger = tmp_path / "small_more_recruiting.yaml"
    bigger.write_text(dump_yaml(small_channel(name="Small, more recruiting", recruitment={"nurture_per_month": 25})))
    monkeypatch.setenv(logic.ENV_SCENARIOS, os.pathsep.join([str(small), str(bigger)]))
    monkeypatch.setenv(logic.ENV_REPLICATIONS, str(REPS))
    monkeypatch.setenv(logic.ENV_SEED, "5")
    return {"small": small, "bigger": bigger}


def _app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _shown(text: str) -> str:
    """What Markdown renders from the page's escaped text (the backslashes removed)."""
    return re.sub(r"\\(.)", r"\1", text)


def _table(at: AppTest, column: str):
    found = [d.value for d in [*at.table, *at.dataframe] if column in d.value.columns]
    assert found, [list(d.value.columns) for d in at.dataframe]
    return found[0].map(lambda v: _shown(v) if isinstance(v, str) else v)


def _metrics(at: AppTest) -> list[tuple[str, str, str]]:
    return [(_shown(m.label), m.value, m.delta) for m in at.metric]


def _slider(at: AppTest, label: str):
    return next(s for s in at.slider if s.label == label)


def test_the_first_answer_is_the_baseline_with_an_unchanged_variant(library):
    at = _app()
    base = sim.load_scenario(library["small"])
    assert _shown(at.title[0].value) == "Small channel"
    assert [s.value for s in at.success] == ["The variant is the baseline: every paired difference is exactly 0."]
    table = _table(at, "P(B better)")
    assert set(table["B - A"]) <= {"0", "0 USD", "0.0 points"}, table["B - A"].tolist()
    # The numbers are the run's, written by the formatting rules.
    result = sim.simulate(base, REPS, 5)
    shown = logic.answers(result)
    metrics = _metrics(at)
    a, b = metrics[:5], metrics[5:10]  # the baseline's column, then the variant's
    by_label = {m[0]: m for m in a}
    for name in ("revenue_last_12m", "p_plan_met", "gap", "top20_share", "gini"):
        assert by_label[shown[name].label] == (shown[name].label, shown[name].text, "")
    assert [m[:2] for m in a] == [m[:2] for m in b]  # the variant is the baseline
    assert all(m[2] in ("0", "0.0 points") for m in b), b
    states = _table(at, "state")
    assert states["state"].tolist() == [shown[n].label for n in logic.STATE_NAMES]
    assert states["baseline (A)"].tolist() == [shown[n].text for n in logic.STATE_NAMES]
    assert set(states["B - A"]) == {"0"}
    assert at.selectbox[0].options == ["small.yaml", "small_more_recruiting.yaml", logic_upload()]


def logic_upload() -> str:
    return "Upload a scenario file..."


def test_choosing_another_scenario_shows_its_answers(library):
    at = _app()
    at.selectbox[0].select("small_more_recruiting.yaml").run()
    assert not at.exception
    assert _shown(at.title[0].value) == "Small, more recruiting"
    assert _slider(at, "Prospects nurtured a month").value == 25  # the sliders start at its values
    shown = logic.answers(sim.simulate(sim.load_scenario(library["bigger"]), REPS, 5))
    assert _metrics(at)[0][:2] == (shown["revenue_last_12m"].label, shown["revenue_last_12m"].text)


def test_moving_a_slider_changes_the_variant_by_what_compare_reports(library):
    at = _app()
    before = _metrics(at)
    _slider(at, "First-deal probability a month").set_value(0.2).run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.success and "changes 1 value" in at.info[0].value
    after = _metrics(at)
    assert after[:5] == before[:5]  # the baseline does not move
    assert after[5][1] != before[5][1]  # the variant's revenue does
    base = sim.load_scenario(library["small"])
    direct = sim.compare(base, base.override(activation__monthly_probability=0.2), replications=REPS, seed=5)
    table = _table(at, "P(B better)").set_index("figure")
    d = direct.differences
    assert table.loc["Revenue, last 12 months (USD)", "B - A"] == change(
        "revenue_last_12m", d.loc["revenue_last_12m", "mean_diff"], "USD"
    )
    assert d.loc["revenue_last_12m", "mean_diff"] > 0
    assert table.loc["Activations (first deals) over the horizon", "B - A"].startswith("+")
    changes = _table(at, "change")
    assert changes["key"].tolist() == ["activation.monthly_probability"]
    # Back to the baseline's value: exactly zero again.
    _slider(at, "First-deal probability a month").set_value(0.11).run()
    assert [s.value for s in at.success] == ["The variant is the baseline: every paired difference is exactly 0."]


def test_a_lever_switched_on_adds_its_cost(library):
    at = _app()
    at.toggle(key=f"{sim.load_scenario(library['small']).fingerprint()}:lever:onboarding_guide:on").set_value(
        True
    ).run()
    assert not at.exception, [e.value for e in at.exception]
    table = _table(at, "P(B better)").set_index("figure")
    assert table.loc["Cost, last 12 months (USD)", "B - A"].startswith("+")
    changes = _table(at, "change")
    assert changes["change"].tolist() == ["lever added"]
    payoff = {m[0]: m[1] for m in _metrics(at)}
    assert payoff["Incremental cost over 24 months"].startswith("+")


def test_a_bad_uploaded_file_shows_the_one_line_error(library):
    at = _app()
    at.selectbox[0].select(logic_upload()).run()
    assert at.info and "Upload a scenario" in at.info[0].value
    content = b"name: typo\nactivation:\n  windw_months: 9\n"
    at.file_uploader[0].set_value(("typo.yaml", content, "application/x-yaml")).run()
    assert not at.exception
    expected = (
        "typo.yaml: activation.windw_months: unknown key (did you mean 'window_months'?); "
        "allowed here: monthly_probability, ramp_months, ramp_start, window_months"
    )
    assert [_shown(e.value) for e in at.error] == [expected]
    assert not at.metric  # nothing computed from a refused file


def test_a_good_uploaded_file_is_used(library):
    at = _app()
    at.selectbox[0].select(logic_upload()).run()
    path = SCENARIOS / "activation_first.yaml"
    at.file_uploader[0].set_value(("activation_first.yaml", path.read_bytes(), "application/x-yaml")).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert _shown(at.title[0].value) == sim.load_scenario(path).name


def test_a_variant_the_engine_refuses_shows_the_one_line_error(library, tmp_path, monkeypatch):
    custom = tmp_path / "custom.yaml"
    lever = {"name": "churny", "applies_to": ["active"], "effects": {"churn.exit_probability": -0.5}}
    custom.write_text(dump_yaml(small_channel(name="Custom", program={"levers": [lever]})))
    monkeypatch.setenv(logic.ENV_SCENARIOS, str(custom))
    at = _app()
    fp = sim.load_scenario(custom).fingerprint()
    at.slider(key=f"{fp}:lever:churny:intensity").set_value(3.0).run()
    assert not at.exception
    assert len(at.error) == 1 and "intensity must be <= 2" in _shown(at.error[0].value)
    assert "\n" not in at.error[0].value


def test_the_downloads_are_offered(library):
    at = _app()
    labels = [b.label for b in at.download_button]
    assert labels == ["Variant as a scenario YAML"]
    assert [b.label for b in at.button if b.key == "report"] == ["Prepare the HTML report"]


def test_size_it_shows_the_sizing_answer_for_the_variant(library):
    at = _app()
    _slider(at, "Activation window (months)").set_value(9).run()
    at.button(key="size").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    variant = sim.load_scenario(library["small"]).override(activation__window_months=9, name="Small channel (variant)")
    sizing = sim.size_recruitment(
        variant, replications=logic.SIZING_REPLICATIONS, seed=5, max_replications=logic.SIZING_REPLICATIONS
    )
    assert sizing.message in [_shown(m.value) for m in at.markdown]
    assert "Optimise for budget" not in [b.label for b in at.button] or hasattr(sim, "optimize")


def test_the_html_report_is_offered_after_it_is_prepared(library):
    at = _app()
    at.button(key="report").click().run()
    assert not at.exception and not at.error
    assert "Download the HTML report" in [b.label for b in at.download_button]


def test_scenario_text_is_shown_as_written_not_read_as_markup(tmp_path, monkeypatch):
    name = "[click](https://evil.example) <b>loud</b> :red[x] $x^2$ **bold**"
    path = tmp_path / "markup.yaml"
    path.write_text(dump_yaml(small_channel(name=name, description="_em_ [a](b)", currency="<i>EUR</i>")))
    monkeypatch.setenv(logic.ENV_SCENARIOS, str(path))
    monkeypatch.setenv(logic.ENV_REPLICATIONS, "10")
    at = _app()
    assert at.title[0].value == logic.plain(name)
    assert _shown(at.title[0].value) == name
    assert at.caption[0].value == logic.plain("_em_ [a](b)")
    # Markdown cells and labels carry the currency escaped; no unescaped markup character survives.
    for cell in _raw_cells(at):
        assert re.search(r"(?<!\\)[<>\[\]*_$]", cell) is None, cell
    fans = json.loads(next(iter(at.get("plotly_chart"))).proto.spec)
    assert fans["layout"]["yaxis"]["title"]["text"] == "revenue, trailing 12 months (&lt;i&gt;EUR&lt;/i&gt;)"
    assert "<i>" not in json.dumps(fans)


def _raw_cells(at: AppTest) -> list[str]:
    cells = [v for t in at.table for v in t.value.to_numpy().ravel() if isinstance(v, str)]
    return cells + [m.label for m in at.metric]
