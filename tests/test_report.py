"""Charts and the HTML report: render without warnings, self-contained, inert, readable in Chromium."""

from __future__ import annotations

import re
import warnings

import pytest
from browser import Browser, chromium_required, find_chromium
from conftest import SCENARIOS, run_cli

import simulator as sim
from simulator.reports import charts
from simulator.reports.html import build_report, render


@pytest.fixture(scope="module")
def result():
    return sim.simulate(SCENARIOS / "baseline.yaml", replications=30, seed=2)


@pytest.fixture(scope="module")
def sizing():
    return sim.size_recruitment(SCENARIOS / "baseline.yaml", replications=30, seed=2, workers=1, max_replications=60)


@pytest.fixture(scope="module")
def comparison():
    return sim.compare(SCENARIOS / "baseline.yaml", SCENARIOS / "activation_first.yaml", replications=30, seed=2)


def test_every_chart_renders_without_warnings(result, sizing, comparison, tmp_path):
    from simulator.sweeps import sensitivity

    sens = sensitivity(
        SCENARIOS / "baseline.yaml",
        {"recruitment.win_share": (0.1, 0.4), "activation.monthly_probability": (0.05, 0.2)},
        samples=8,
        model=lambda s: s.recruitment.win_share * 2 + s.activation.monthly_probability,
    )
    makers = {
        "fan": lambda: charts.revenue_fan(result),
        "fan_monthly": lambda: charts.revenue_fan(result, column="revenue"),
        "states": lambda: charts.partners_by_state(result),
        "funnel": lambda: charts.recruitment_funnel(result),
        "lorenz": lambda: charts.lorenz_chart(result),
        "sizing": lambda: charts.sizing_chart(sizing),
        "compare": lambda: charts.compare_chart(comparison),
        "sensitivity": lambda: charts.sensitivity_chart(sens),
    }
    for name, make in makers.items():
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            fig = make()
            path = tmp_path / f"{name}.png"
            fig.savefig(path, dpi=60)
        assert path.stat().st_size > 5000, name
        for ax in fig.axes:
            if ax.get_visible() and (ax.lines or ax.patches or ax.collections):
                assert ax.get_title(loc="left") or fig.get_suptitle(), f"{name}: untitled chart"


def test_funnel_counts(result):
    counts = charts.funnel_counts(result)
    assert list(counts.index) == ["nurtured", "signed", "activated", "collaborating"]
    assert (counts.diff().dropna() <= 0).all()  # a funnel narrows


def test_report_is_self_contained_and_states_the_answers(result, sizing, comparison):
    cap = sim.capacity(SCENARIOS / "baseline.yaml", replications=30, seed=2)
    report = render(result, cap, sizing, comparison)
    html = report.html
    assert html.count("<img ") == 6
    assert not re.search(r"""(src|href)=["'](?!data:|#)""", html), "the report links to something outside itself"
    assert "<script" not in html.lower()
    assert "http://" not in html and "https://" not in html
    for value in report.headline.values():
        assert value in html
    # the question comes first: the answers precede the charts
    assert html.index("The answers") < html.index("Charts") < html.index("Appendix: assumptions")
    # every scenario value is in the appendix, with its source note
    assert "market.segments.reseller.revenue_median" in html and "Walsh 2009" in html


def test_scenario_text_is_escaped():
    scn = sim.load_scenario(
        SCENARIOS / "baseline.yaml",
        name="<script>alert('x')</script> & $5M plan",
        description="<img src=x onerror=alert(1)>",
        horizon_months=12,
    )
    html = build_report(scn, replications=5, seed=1).html
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; $5M plan" in html


def test_a_what_if_leaves_the_outlook_of_the_scenario_unchanged():
    """With --compare the scenario runs once, as A of the what-if: the outlook is the one without it."""
    scn = sim.load_scenario(SCENARIOS / "baseline.yaml", horizon_months=12)
    alone = build_report(scn, replications=8, seed=3)
    other = scn.override(activation__window_months=9)
    paired = build_report(scn, compare_with=other, replications=8, seed=3)
    assert paired.headline["revenue_median"] == alone.headline["revenue_median"]
    assert paired.headline["top20_share"] == alone.headline["top20_share"]
    assert "compare_revenue" in paired.headline


@pytest.fixture(scope="module")
def browser():
    executable = find_chromium()
    if executable is None:
        if chromium_required():
            pytest.fail("REQUIRE_CHROMIUM=1 but no Chromium is installed (apt-get install chromium)")
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    b = Browser(executable)
    yield b
    b.close()


def test_report_renders_in_headless_chromium(browser, tmp_path):
    out = tmp_path / "report.html"
    proc = run_cli(
        "report",
        str(SCENARIOS / "baseline.yaml"),
        "--compare",
        str(SCENARIOS / "activation_first.yaml"),
        "--size",
        "-r",
        "30",
        "--seed",
        "3",
        "--out",
        str(out),
    )
    assert proc.returncode == 0, proc.stderr
    page = browser.open(out)
    assert page["images"] == 6 and page["loaded"] == 6, page["images"]
    assert page["scripts"] == 0 and page["external"] == []
    text = page["text"]
    for label in (
        "Revenue outlook against the plan",
        "Recruitment needed",
        "Revenue concentration",
        "What-if: Activation first",
        "Appendix: assumptions",
    ):
        assert label in text
    # the headline numbers printed by the command are on the rendered page
    name, headline = proc.stdout.strip().splitlines()[0].split(": ", 1)
    assert name == "Baseline mid-size vendor"
    for part in headline.split("; "):
        assert part.split(": ", 1)[1] in text, part


def test_a_script_in_a_scenario_name_stays_text_in_the_browser(browser, tmp_path):
    evil = tmp_path / "evil.yaml"
    evil.write_text(
        "extends: " + str(SCENARIOS / "baseline.yaml") + "\n"
        'name: "<script>alert(1)</script><img src=x onerror=alert(2)>"\nhorizon_months: 12\n'
    )
    out = tmp_path / "evil.html"
    proc = run_cli("report", str(evil), "-r", "5", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    page = browser.open(out)
    assert page["alerts"] == 0 and page["scripts"] == 0
    assert "<script>alert(1)</script>" in page["text"]
    assert page["images"] == page["loaded"] == 4
