"""Where each value came from (scenario.sources), and the finished report: its appendix, its numbers, its
executive summary, sizing at the size command's precision, and no sideways scrolling in Chromium."""

from __future__ import annotations

import html as html_lib
import re
from pathlib import Path

import pytest
from browser import Browser, chromium_required, find_chromium
from conftest import SCENARIOS, run_cli

import simulator as sim
from simulator.reports.html import build_report, render
from simulator.scenario.sources import CALIBRATED, Source, source_of

BASE = """\
# Header: what this file is about. It describes the file, not its first key.
# A second line of the header.
name: Base vendor
horizon_months: 24  # a two-year plan
market:
  prospects: 800
  segments:
    reseller:  # value-added resellers
      share: 1.0
      revenue_median: 3000  # CRM median, 2025
recruitment:
  # nurture what marketing can handle
  nurture_per_month: 10
activation:
  monthly_probability: 0.12  # calibrated: Kaplan-Meier on 412 partners, export 2025-06
economics:
  gross_margin: 0.75
program:
  levers:
    - use: training  # the catalogue's training
"""

WHAT_IF = """\
# What-if header: must not become anyone's note.
extends: base.yaml
name: More nurturing
recruitment:
  nurture_per_month: 24  # doubled budget
"""


@pytest.fixture()
def files(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "base.yaml").write_text(BASE)
    (tmp_path / "what_if.yaml").write_text(WHAT_IF)
    return tmp_path


def test_a_file_with_comments(files):
    scn = sim.load_scenario(files / "base.yaml")
    src = scn.sources
    assert source_of(src, "horizon_months") == Source("file", "base.yaml", 4, "a two-year plan")
    # a key without a comment is still the file's, on its own line: never "MODEL.md default"
    assert source_of(src, "market.prospects") == Source("file", "base.yaml", 6, "")
    assert source_of(src, "economics.gross_margin") == Source("file", "base.yaml", 17, "")
    # a comment block right above a key is its note; a section's comment covers its keys
    assert source_of(src, "recruitment.nurture_per_month").note == "nurture what marketing can handle"
    assert source_of(src, "market.segments.reseller.share") == Source("file", "base.yaml", 9, "value-added resellers")
    assert source_of(src, "market.segments.reseller.revenue_median").note == "CRM median, 2025"
    # the header describes the file: it is not the note of `name`
    assert source_of(src, "name") == Source("file", "base.yaml", 3, "")
    assert all("Header" not in s.note for s in src.values())
    # keys nobody set are the engine's defaults
    assert source_of(src, "churn.exit_probability").origin == "default"
    assert source_of(src, "activation.window_months").origin == "default"
    # a lever written as a list item: its fields come from that line
    assert source_of(src, "program.levers[0].intensity") == Source("file", "base.yaml", 20, "the catalogue's training")
    # scenario.notes keeps working: dotted key -> comment
    assert scn.notes["horizon_months"] == "a two-year plan"
    assert "name" not in scn.notes


def test_a_calibrated_value(files):
    scn = sim.load_scenario(files / "base.yaml")
    assert CALIBRATED == "calibrated:"
    assert source_of(scn.sources, "activation.monthly_probability") == Source(
        "calibrated", "base.yaml", 15, "Kaplan-Meier on 412 partners, export 2025-06"
    )


def test_an_extending_file(files):
    scn = sim.load_scenario(files / "what_if.yaml")
    src = scn.sources
    assert scn.recruitment.nurture_per_month == 24 and scn.horizon_months == 24
    assert source_of(src, "recruitment.nurture_per_month") == Source("file", "what_if.yaml", 5, "doubled budget")
    assert source_of(src, "name") == Source("file", "what_if.yaml", 3, "")  # its own name, not the base's header
    assert source_of(src, "horizon_months") == Source("base file", "base.yaml", 4, "a two-year plan")
    assert source_of(src, "market.prospects") == Source("base file", "base.yaml", 6, "")
    # calibrated in the base file: still calibrated, and the file says where
    assert source_of(src, "activation.monthly_probability").origin == "calibrated"
    assert source_of(src, "activation.monthly_probability").file == "base.yaml"
    assert source_of(src, "churn.exit_probability").origin == "default"
    assert "extends" not in src
    assert all("header" not in s.note.lower() for s in src.values())


def test_a_list_set_in_the_extending_file_replaces_the_base_entries(files):
    (files / "levers.yaml").write_text("extends: base.yaml\nprogram:\n  levers:\n    - use: events\n")
    scn = sim.load_scenario(files / "levers.yaml")
    assert [lv.name for lv in scn.program.levers] == ["events"]
    assert source_of(scn.sources, "program.levers[0].name") == Source("file", "levers.yaml", 4, "")
    assert not any(k.startswith("program.levers[1]") for k in scn.sources)


def test_overrides_are_recorded_as_such(files):
    scn = sim.load_scenario(files / "what_if.yaml", activation__window_months=9, market__prospects=900)
    assert source_of(scn.sources, "activation.window_months").origin == "override"
    assert source_of(scn.sources, "market.prospects") == Source("override")
    assert source_of(scn.sources, "recruitment.nurture_per_month").origin == "file"  # untouched
    # --set on the command line is the same mechanism, and an override of a whole list covers its items
    cli = sim.scenario.apply_assignments(files / "base.yaml", ["program.levers=[{use: events}]"])
    assert source_of(cli.sources, "program.levers[0].name").origin == "override"
    # a scenario derived from another keeps its sources and adds the new overrides
    derived = scn.override(horizon_months=12)
    assert source_of(derived.sources, "horizon_months").origin == "override"
    assert source_of(derived.sources, "activation.window_months").origin == "override"
    assert source_of(derived.sources, "recruitment.nurture_per_month").note == "doubled budget"


def test_the_appendix_says_where_each_value_came_from(files):
    scn = sim.load_scenario(files / "what_if.yaml", activation__window_months=9)
    html = build_report(scn, replications=4, seed=1).html
    appendix = html[html.index('id="assumptions"') :]
    rows = dict(re.findall(r"<code>([^<]+)</code></td>(.*?)</tr>", appendix, flags=re.S))

    def row(key: str) -> str:
        return re.sub(r"<[^>]+>", " ", rows[key])

    assert "the scenario file" in row("recruitment.nurture_per_month") and "what_if.yaml, line 5" in row(
        "recruitment.nurture_per_month"
    )
    assert "doubled budget" in row("recruitment.nurture_per_month")
    assert "inherited from the base file" in row("horizon_months") and "base.yaml, line 4" in row("horizon_months")
    assert "calibrated from an export" in row("activation.monthly_probability")
    assert "Kaplan-Meier on 412 partners" in row("activation.monthly_probability")
    assert "override (--set)" in row("activation.window_months")
    assert "the engine&#39;s default" in row("churn.exit_probability")
    assert "Header" not in html and "What-if header" not in html
    assert "800" in row("market.prospects") and "MODEL.md default" not in row("market.prospects")


@pytest.fixture(scope="module")
def report_with_everything():
    result = sim.simulate(SCENARIOS / "baseline.yaml", replications=20, seed=4)
    cap = sim.capacity(SCENARIOS / "baseline.yaml", replications=20, seed=4)
    sizing = sim.size_recruitment(SCENARIOS / "baseline.yaml", replications=20, seed=4, workers=1, max_replications=40)
    comparison = sim.compare(
        SCENARIOS / "baseline.yaml", SCENARIOS / "activation_first.yaml", replications=20, seed=4, partners=True
    )
    return render(comparison.a, cap, sizing, comparison), result, cap, sizing, comparison


def _text(html: str) -> str:
    body = html[html.index("<body>") :] if "<body>" in html else html
    return html_lib.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)))


def test_numbers_follow_the_formatting_rules(report_with_everything):
    report, *_ = report_with_everything
    text = _text(report.html)
    assert not re.search(r"\d[eE][+-]?\d", text), "a number in exponent notation"
    assert "-0.0%" not in text and "-0 " not in text
    assert not re.search(r"\d+\.\d{2,}k\b|\d+\.\d{3,}m\b", text), "money with too many decimals"
    assert "recruitment.nurture_per_month =" not in text and "top20 share" not in text and "p plan met" not in text
    # P always as a percentage; Gini as an index; HHI not a percentage
    assert re.search(r"Gini 0\.\d\d\)", text)
    assert re.search(r"HHI 0\.\d+\)", text)
    assert not re.search(r"P\(plan met\) = 0\.\d", text)
    # counts whole: "sign about 64 partners a year", never 64.3
    assert re.search(r"[Ss]ign about \d+ partners a year", text)
    assert not re.search(r"[Ss]ign about \d+\.\d", text)


def test_the_executive_summary_comes_first_and_says_the_answer(report_with_everything):
    report, result, cap, sizing, comparison = report_with_everything
    html = report.html
    assert html.index("Executive summary") < html.index("The answers") < html.index("Charts")
    summary = _text(html[html.index('id="executive-summary"') : html.index("The answers")])
    target = sim.formatting.money(result.scenario.plan.revenue_target, "USD")
    signings = round(sizing.implied["signings_per_year"])
    assert f"To reach {target} in year 3 with 90% confidence, sign about {signings} partners a year" in summary
    assert f"nurture {int(sizing.value)} prospects a month" in summary
    channel = sim.formatting.money(float(cap.per_replication["revenue_last_12m"].median()), "USD")
    assert f"today's channel alone reaches {channel}" in summary
    top20 = sim.formatting.share(comparison.a.monthly.query("month == 36")["top20_share"].median())
    assert f"the top 20% of earning partners earn {top20}" in summary
    assert "Activation first" in summary
    assert 2 <= summary.count(". ") + 1 <= 4


def test_what_changed_in_words_with_levers_and_segments(tmp_path):
    base = sim.load_scenario(SCENARIOS / "baseline.yaml", horizon_months=12)
    other = base.override(
        recruitment__nurture_per_month=24,
        market__segments__msp__share=0.35,
        market__segments__reseller__share=0.5,
        program__levers=[{"use": "presales_support", "segments": ["msp"]}],
    )
    html = build_report(base, compare_with=other, replications=4, seed=1).html
    changed = _text(html[html.index("What changed:") : html.index("Charts")])
    assert "prospects nurtured a month: 12 → 24" in changed
    assert "msp: share of prospects: 0.3 → 0.35" in changed
    assert "lever added: presales support" in changed and "in msp only" in changed
    assert "costs 450 USD a partner a month" in changed
    assert "recruitment.nurture_per_month" not in changed and "presales_support" not in changed
    # the what-if's own assumptions and levers are in the appendix, with a cost column
    whatif = html[html.index('id="whatif-assumptions"') :]
    assert "recruitment.nurture_per_month" in whatif and "market.segments.msp.share" in whatif
    assert "cost a year (mean)" in whatif and "450 USD a partner a month" in whatif


def test_report_size_answers_as_the_size_command(tmp_path):
    """--size uses the size command's replications by default (both default to DEFAULT_REPLICATIONS) and
    says so; with the same replications and seed both give the same answer."""
    scn = sim.load_scenario(SCENARIOS / "baseline.yaml", horizon_months=24, plan__revenue_target=25e6)
    sized = sim.size_recruitment(scn, replications=40, seed=2, workers=1, max_replications=80)
    report = build_report(
        scn, size=True, replications=10, seed=2, size_replications=40, size_max_replications=80, workers=1
    )
    assert report.headline["nurture_answer"] == str(int(sized.value))
    # the replications sizing ended on (more are added near the boundary up to --max-replications)
    assert f"Sized on {sized.replications:,} replications, seed 2" in report.html
    import inspect

    from simulator.planning import DEFAULT_REPLICATIONS

    default = inspect.signature(build_report).parameters["size_replications"].default
    assert default == DEFAULT_REPLICATIONS == inspect.signature(sim.size_recruitment).parameters["replications"].default


def test_report_size_without_a_target_says_what_to_do(tmp_path):
    out = tmp_path / "r.html"
    proc = run_cli(
        "report",
        str(SCENARIOS / "baseline.yaml"),
        "--set",
        "plan.revenue_target=null",
        "--set",
        "horizon_months=12",
        "--size",
        "-r",
        "4",
        "--out",
        str(out),
    )
    assert proc.returncode == 0, proc.stderr
    html = out.read_text()
    assert "Run the report with" not in html
    assert "Sizing needs a revenue target" in html


# -- in the browser -------------------------------------------------------------------------------------


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


def test_no_horizontal_overflow_at_1024_and_1280_px(browser, tmp_path, report_with_everything):
    report, *_ = report_with_everything
    # the longest values and notes a scenario can have: a long description, a lever note without spaces
    scn = sim.load_scenario(
        SCENARIOS / "activation_first.yaml",
        description="word " * 200,
        name="A very long scenario name " * 6,
        program__levers=[{"use": "training", "note": "x" * 400}],
    )
    long = build_report(scn, compare_with=SCENARIOS / "baseline.yaml", replications=4, seed=1)
    for name, page in (("full", report), ("long", long)):
        path = tmp_path / f"{name}.html"
        page.write(path)
        for width in (1024, 1280):
            browser.call(
                "Emulation.setDeviceMetricsOverride", width=width, height=900, deviceScaleFactor=1, mobile=False
            )
            seen = browser.open(path)
            assert seen["images"] == seen["loaded"] > 0
            widths = browser.call(
                "Runtime.evaluate",
                expression="[document.documentElement.scrollWidth, document.documentElement.clientWidth]",
                returnByValue=True,
            )["result"]["value"]
            assert widths[0] <= widths[1], f"{name} at {width} px: scrollWidth {widths[0]} > {widths[1]}"
            assert widths[1] > 900  # the viewport was applied
    browser.call("Emulation.clearDeviceMetricsOverride")


def test_formula_like_text_stays_text_in_the_page(tmp_path: Path):
    scn = sim.load_scenario(SCENARIOS / "baseline.yaml", name='=HYPERLINK("http://x.example","y")', horizon_months=12)
    html = build_report(scn, replications=3, seed=1).html
    assert "=HYPERLINK(&#34;http://x.example&#34;,&#34;y&#34;)" in html
