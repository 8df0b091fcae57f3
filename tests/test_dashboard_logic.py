"""The dashboard's logic without a browser: which runs it makes and which numbers it shows."""

from __future__ import annotations

import socket
import sys

import numpy as np
import pandas as pd
import pytest
from conftest import BASELINE, SCENARIOS, run_cli, small_channel

import simulator as sim
from simulator.cli import dashboard as cli_dashboard
from simulator.dashboard import logic
from simulator.errors import ChannelError
from simulator.formatting import change, figure, money, share
from simulator.scenario import lever_catalogue
from simulator.stats import wilson_interval

REPS, SEED = 40, 3


@pytest.fixture(scope="module")
def base() -> sim.Scenario:
    return sim.load_scenario(small_channel())


@pytest.fixture(scope="module")
def unchanged(base):
    keys = {c.key: c.value for c in logic.controls(base)}
    variant = logic.build_variant(base, keys, logic.lever_settings(base))
    return variant, logic.run_pair(base, variant, REPS, SEED)


def _setting(base, name, **changes):
    return [
        logic.LeverSetting(**{**s.__dict__, **changes}) if s.name == name else s for s in logic.lever_settings(base)
    ]


# -- the variant --------------------------------------------------------------------------------------


def test_controls_start_at_the_scenario_values_and_their_range_holds_them(base):
    controls = {c.key: c for c in logic.controls(base)}
    assert set(controls) == set(logic.CONTROL_KEYS)
    for key, c in controls.items():
        assert c.value == base.get(key)
        assert c.low <= c.value <= c.high
    wide = base.override(recruitment__nurture_per_month=250, activation__window_months=30)
    controls = {c.key: c for c in logic.controls(wide)}
    assert controls["recruitment.nurture_per_month"].high >= 250
    assert controls["activation.window_months"].high >= 30


def test_lever_settings_list_the_scenario_levers_on_and_the_rest_of_the_catalogue_off():
    what_if = sim.load_scenario(SCENARIOS / "activation_first.yaml")
    settings = {s.name: s for s in logic.lever_settings(what_if)}
    own = {lever.name for lever in what_if.program.levers}
    assert own and {n for n, s in settings.items() if s.on} == own
    assert set(lever_catalogue()) <= set(settings) | {lv.use for lv in what_if.program.levers}
    for lever in what_if.program.levers:
        assert settings[lever.name].intensity == lever.intensity
        assert settings[lever.name].months == lever.month_range(what_if.horizon_months)


def test_an_unchanged_variant_is_the_baseline_itself(base, unchanged):
    variant, _ = unchanged
    assert variant is base
    # A slider moved away and back returns its value with float noise: still the baseline.
    assert logic.build_variant(base, {"activation.monthly_probability": 0.11 + 1e-15}) is base


def test_an_unchanged_variant_gives_exactly_zero_differences(unchanged):
    _, pair = unchanged
    assert logic.identical(pair)
    numbers = pair.paired.drop(columns="replication").to_numpy(float)
    assert np.all((numbers == 0) | np.isnan(numbers))
    rows = logic.differences(pair)
    assert [r.name for r in rows] == [n for n in logic.DIFFERENCE_FIGURES if n in pair.differences.index]
    assert all(r.mean_diff == 0 for r in rows)
    assert all(r.difference in ("0", "0 USD", "0.0 points") for r in rows), [r.difference for r in rows]
    p = logic.payoff(pair.trajectory)
    assert p.incremental_contribution == 0 and p.incremental_cost == 0
    assert p.ratio is None and p.payback_month is None
    assert dict(logic.payoff_lines(p, "USD", 24))["Payback (cumulative contribution difference above zero from)"] == (
        "nothing changes"
    )


def test_a_changed_key_moves_the_numbers_by_what_compare_reports(base):
    variant = logic.build_variant(base, {"activation.monthly_probability": 0.2})
    assert variant.activation.monthly_probability == 0.2
    assert variant.name == f"{base.name} (variant)"
    assert (
        variant.override(name=base.name).fingerprint()
        == base.override(activation__monthly_probability=0.2).fingerprint()
    )
    pair = logic.run_pair(base, variant, REPS, SEED)
    assert not logic.identical(pair)
    direct = sim.compare(base, base.override(activation__monthly_probability=0.2), replications=REPS, seed=SEED)
    rows = {r.name: r for r in logic.differences(pair)}
    for name, row in rows.items():
        expected = direct.differences.loc[name]
        assert row.mean_diff == pytest.approx(expected.mean_diff, rel=1e-12, abs=1e-9)
        assert row.difference == change(name, expected.mean_diff, base.currency)
    # The same difference recomputed from the two runs' own horizon figures.
    a = sim.simulate(base, REPS, SEED).kpis
    b = sim.simulate(base.override(activation__monthly_probability=0.2), REPS, SEED).kpis
    assert rows["revenue_last_12m"].mean_diff == pytest.approx(
        (b.revenue_last_12m - a.revenue_last_12m).mean(), rel=1e-12
    )
    # Faster first deals: more revenue on average, and never fewer first deals on a paired replication.
    assert rows["revenue_last_12m"].mean_diff > 0
    assert (pair.paired["activations"] >= 0).all() and pair.paired["activations"].sum() > 0
    assert rows["activations"].p05 >= 0


def test_a_switched_on_lever_is_the_catalogue_lever_and_costs_money(base):
    settings = _setting(base, "onboarding_guide", on=True, intensity=1.5, months=(4, 20))
    variant = logic.build_variant(base, levers=settings)
    assert [lv.name for lv in variant.program.levers] == ["onboarding_guide"]
    lever = variant.program.levers[0]
    assert (lever.intensity, lever.months) == (1.5, (4, 20))
    written = base.override(program__levers=[{"use": "onboarding_guide", "intensity": 1.5, "months": [4, 20]}])
    assert variant.override(name=base.name).fingerprint() == written.fingerprint()
    pair = logic.run_pair(base, variant, REPS, SEED)
    d = pair.differences
    assert d.loc["cost_total", "mean_diff"] > 0
    # Switched on and back off: the baseline again.
    assert logic.build_variant(base, levers=_setting(base, "onboarding_guide", on=False)) is base
    p = logic.payoff(pair.trajectory)
    assert p.incremental_cost == pytest.approx(d.loc["cost_total", "mean_diff"], rel=1e-9)
    assert p.incremental_contribution == pytest.approx(d.loc["contribution_total", "mean_diff"], rel=1e-9)
    assert p.ratio == pytest.approx(p.incremental_contribution / p.incremental_cost)


def test_the_variant_yaml_reads_back_as_the_variant(base, tmp_path):
    settings = _setting(base, "partner_portal", on=True, months=(7, 24))
    variant = logic.build_variant(base, {"recruitment.nurture_per_month": 18}, settings)
    path = tmp_path / "variant.yaml"
    path.write_text(variant.to_yaml())
    assert sim.load_scenario(path).fingerprint() == variant.fingerprint()


def test_switching_off_a_scenario_lever_removes_it_and_changing_it_keeps_the_rest():
    what_if = sim.load_scenario(SCENARIOS / "activation_first.yaml")
    first = what_if.program.levers[0].name
    off = logic.build_variant(what_if, levers=_setting(what_if, first, on=False))
    assert first not in [lv.name for lv in off.program.levers]
    assert len(off.program.levers) == len(what_if.program.levers) - 1
    stronger = logic.build_variant(what_if, levers=_setting(what_if, first, intensity=2.0))
    assert stronger.program.levers[0].intensity == 2.0
    assert stronger.program.levers[1:] == what_if.program.levers[1:]


# -- payback from a hand-made trajectory ----------------------------------------------------------------


def _trajectory(contribution, cost):
    months = np.arange(len(contribution) + 1)
    rows = []
    for name, values in (("contribution", contribution), ("cost", cost), ("revenue", [0.0] * len(contribution))):
        rows.append(pd.DataFrame({"month": months, "figure": name, "mean_diff": [123.0, *values]}))
    return pd.concat(rows, ignore_index=True)


def test_payback_is_the_month_the_cumulative_contribution_difference_turns_positive_for_good():
    # cumulative: -100, -150, -70, 20, 120 -> positive from month 4; month 0 (123) is not counted
    p = logic.payoff(_trajectory([-100, -50, 80, 90, 100], [100, 50, 10, 10, 10]))
    assert p.payback_month == 4
    assert p.incremental_contribution == 120 and p.incremental_cost == 180
    assert p.ratio == pytest.approx(120 / 180)
    assert list(p.cumulative) == [-100, -150, -70, 20, 120]
    # cumulative -100, 50, -50, 150: positive at month 2, below again at 3, positive for good from 4
    assert logic.payoff(_trajectory([-100, 150, -100, 200], [1, 1, 1, 1])).payback_month == 4
    # positive from the first month
    assert logic.payoff(_trajectory([5, 5], [0, 0])).payback_month == 1
    # never positive, or positive then negative at the horizon
    assert logic.payoff(_trajectory([-1, -2, -3], [1, 1, 1])).payback_month is None
    assert logic.payoff(_trajectory([10, -20], [1, 1])).payback_month is None
    # no extra cost: no ratio
    free = logic.payoff(_trajectory([10, 10], [0, 0]))
    assert free.ratio is None
    lines = dict(logic.payoff_lines(free, "USD", 2))
    assert lines["Incremental contribution / incremental cost"] == "no extra cost"
    assert lines["Incremental contribution over 2 months"] == "+20 USD"
    lines = dict(logic.payoff_lines(p, "USD", 5))
    assert lines["Incremental contribution / incremental cost"] == "0.67 USD of contribution per USD of extra cost"
    assert lines["Payback (cumulative contribution difference above zero from)"] == "month 4"
    never = dict(logic.payoff_lines(logic.payoff(_trajectory([-1, -2], [1, 1])), "USD", 2))
    assert never["Payback (cumulative contribution difference above zero from)"] == "not within the 2-month horizon"


# -- the numbers shown ----------------------------------------------------------------------------------


def test_answers_are_the_run_numbers_written_by_the_formatting_rules(unchanged):
    _, pair = unchanged
    result = pair.a
    scn = result.scenario
    shown = logic.answers(result)
    rev = result.kpis["revenue_last_12m"].to_numpy(float)
    target = scn.plan.revenue_target
    met = rev >= target
    assert shown["p_plan_met"].value == met.mean()
    assert shown["p_plan_met"].text == share(met.mean())
    low, high = wilson_interval(int(met.sum()), met.size)
    assert shown["p_plan_met"].detail.startswith(f"95% interval {share(low)} to {share(high)}")
    gap = max(target - np.quantile(rev, 0.1), 0.0)
    assert shown["gap"].value == pytest.approx(gap)
    assert shown["gap"].text == money(gap, scn.currency)
    assert shown["revenue_last_12m"].value == pytest.approx(np.median(rev))
    assert shown["top20_share"].value == pytest.approx(result.kpis["top20_share"].median())
    assert shown["gini"].text == figure("gini", result.kpis["gini"].median())
    for state in logic.STATE_NAMES:
        assert shown[state].value == pytest.approx(result.kpis[state].mean())
    # The gap is the capacity answer's measure, applied to this run.
    cap = sim.capacity(scn, replications=REPS, seed=SEED)
    revenue = cap.per_replication["revenue_last_12m"].to_numpy()
    assert logic.gap_at_confidence(revenue, target, scn.plan.confidence) == pytest.approx(cap.gap_at_confidence)


def test_a_scenario_without_a_plan_has_no_plan_answers():
    scn = sim.load_scenario(small_channel(plan={"revenue_target": None}))
    shown = logic.answers(sim.simulate(scn, 10, 0))
    assert "p_plan_met" not in shown and "gap" not in shown
    with pytest.raises(ChannelError, match="revenue target"):
        logic.size_variant(scn, seed=0, workers=1)


# -- choosing and uploading -------------------------------------------------------------------------------


def test_the_library_lists_the_named_files_or_the_scenarios_folder_baseline_first(monkeypatch, tmp_path):
    monkeypatch.delenv(logic.ENV_SCENARIOS, raising=False)
    monkeypatch.chdir(tmp_path)
    files = logic.library()
    assert next(iter(files)) == "baseline.yaml"
    assert set(files) == {p.name for p in SCENARIOS.glob("*.yaml")}
    monkeypatch.setenv(logic.ENV_SCENARIOS, f"{SCENARIOS / 'optimization.yaml'}:{BASELINE}")
    assert list(logic.library()) == ["baseline.yaml", "optimization.yaml"]


def test_an_uploaded_what_if_extends_the_library_baseline():
    path = SCENARIOS / "activation_first.yaml"
    uploaded = logic.scenario_from_upload("activation_first.yaml", path.read_bytes(), SCENARIOS)
    assert uploaded.fingerprint() == sim.load_scenario(path).fingerprint()
    plain = logic.scenario_from_upload("baseline.yaml", BASELINE.read_bytes())
    assert plain.fingerprint() == sim.load_scenario(BASELINE).fingerprint()
    assert plain.notes == sim.load_scenario(BASELINE).notes  # its comments are kept


def _cli_error(*args: str) -> str:
    done = run_cli(*args)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    return lines[0][len("error: ") :]


def test_a_bad_value_gives_the_cli_one_line(base, tmp_path):
    with pytest.raises(ChannelError) as caught:
        logic.build_variant(sim.load_scenario(BASELINE), {"activation.monthly_probability": 1.5})
    assert str(caught.value) == _cli_error("simulate", str(BASELINE), "--set", "activation.monthly_probability=1.5")
    assert "\n" not in str(caught.value)
    # Too much of a lever whose effect is negative: refused with the allowed intensity.
    custom = sim.load_scenario(
        small_channel(
            program={
                "levers": [{"name": "churny", "applies_to": ["active"], "effects": {"churn.exit_probability": -0.5}}]
            }
        )
    )
    with pytest.raises(ChannelError, match=r"intensity must be <= 2"):
        logic.build_variant(custom, levers=_setting(custom, "churny", intensity=3.0))


def test_a_bad_uploaded_file_gives_the_cli_one_line(tmp_path):
    text = b"name: typo\nactivation:\n  windw_months: 9\n"
    (tmp_path / "typo.yaml").write_bytes(text)
    with pytest.raises(ChannelError) as caught:
        logic.scenario_from_upload("typo.yaml", text)
    cli = _cli_error("validate", str(tmp_path / "typo.yaml"))
    assert str(caught.value) == cli.replace(str(tmp_path / "typo.yaml"), "typo.yaml")
    assert "windw_months" in str(caught.value) and "did you mean 'window_months'" in str(caught.value)
    for content, match in ((b"market: [1, 2", "not valid YAML"), (b"\xff\xfe\x00", "not a UTF-8 text file")):
        with pytest.raises(ChannelError, match=match) as caught:
            logic.scenario_from_upload("broken.yaml", content)
        assert "\n" not in str(caught.value) and "broken.yaml" in str(caught.value)


# -- the command ------------------------------------------------------------------------------------------


def test_the_server_binds_to_loopback_by_default():
    parser = __import__("simulator.cli.main", fromlist=["build_parser"]).build_parser()
    args = parser.parse_args(["dashboard"])
    assert args.host == "127.0.0.1" and args.port == 8501 and args.replications == 100
    command = cli_dashboard.streamlit_command(args.host, args.port)
    assert command[:4] == [sys.executable, "-m", "streamlit", "run"]
    flags = dict(zip(command[5::2], command[6::2], strict=True))
    assert flags["--server.address"] == "127.0.0.1"
    assert flags["--server.port"] == "8501"
    assert flags["--server.headless"] == "true"
    assert flags["--browser.gatherUsageStats"] == "false"
    assert flags["--global.developmentMode"] == "false"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nothere.yaml"], "nothere.yaml: scenario file not found: nothere.yaml"),
        (["--port", "70000"], "70000 must be between 1 and 65535"),
        (["--port", "http"], "'http' is not a whole number"),
        (["--host", "bad host"], "--host 'bad host': not an address"),
        (["--replications", "0"], "0 must be >= 1"),
    ],
)
def test_bad_arguments_exit_2_with_one_line_before_anything_starts(args, message):
    assert message in _cli_error("dashboard", *args)


def test_a_port_in_use_is_refused_before_anything_starts(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        line = _cli_error("dashboard", "--port", str(port))
    assert f"cannot listen on 127.0.0.1:{port}" in line


def test_a_bad_scenario_file_is_refused_before_anything_starts(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("activation:\n  monthly_probability: 2\n")
    line = _cli_error("dashboard", str(BASELINE), str(bad))
    assert line == _cli_error("validate", str(bad))


def test_the_charts_use_the_report_palette_and_round_ticks(unchanged):
    from simulator.dashboard import charts
    from simulator.reports.charts import PALETTE

    assert charts.PALETTE == PALETTE
    assert charts.nice_ticks(0, 130e6) == [0, 25e6, 50e6, 75e6, 100e6, 125e6]
    assert charts.money_ticks(-3e6, 12e6) == (
        [-2.5e6, 0, 2.5e6, 5e6, 7.5e6, 10e6],
        ["-2.5m", "0", "2.5m", "5m", "7.5m", "10m"],
    )
    _, pair = unchanged
    fan = charts.revenue_fan(pair.a)
    target = pair.a.scenario.plan.revenue_target
    assert f"plan target ({money(target, 'USD')})" in [t.name for t in fan.data]
    assert fan.layout.yaxis.title.text == "revenue, trailing 12 months (USD)"
    median = next(t for t in fan.data if t.name == "median")
    expected = pair.a.monthly.groupby("month")["revenue_t12m"].median().to_numpy()
    np.testing.assert_allclose(np.asarray(median.y, float), expected)
    assert list(median.customdata) == [money(v, "USD") for v in expected]
    lorenz = charts.lorenz_chart(pair.a)
    earning = next(t for t in lorenz.data if str(t.name).startswith("earning partners"))
    top = 1 - np.interp(0.8, np.asarray(earning.x, float), np.asarray(earning.y, float))
    assert earning.name == f"earning partners: top 20% earn {share(top)}"
    for fig in (
        charts.partners_by_state(pair.a),
        charts.compare_chart(pair),
        charts.payoff_chart(logic.payoff(pair.trajectory), "USD"),
    ):
        assert fig.data


def test_the_workbook_opens_with_openpyxl_when_the_excel_export_is_installed(unchanged):
    if logic.excel_export() is None:
        pytest.skip("the Excel export (simulator.reports.exports) is not part of this tree yet")
    import io

    import openpyxl

    _, pair = unchanged
    book = openpyxl.load_workbook(io.BytesIO(logic.workbook_bytes(pair)))
    assert "summary" in book.sheetnames
