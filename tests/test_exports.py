"""Exports for slides and spreadsheets: charts as PNG and SVG, the Excel workbook, and CSV files whose
formula-like text stays text; every write atomic, every I/O error naming the file."""

from __future__ import annotations

import re
import subprocess

import openpyxl
import pandas as pd
import pytest
from conftest import SCENARIOS, run_cli

import simulator as sim
from simulator.errors import ChannelError
from simulator.reports.exports import CHART_FILES, SHEETS, Deliverables, write_charts, write_workbook
from simulator.reports.tables import neutralise, write_csv

EVIL = ['=HYPERLINK("http://x.example","click")', "+1", "-2+3", "@SUM(A1:A2)", "\tTAB", "\rCR"]


@pytest.fixture(scope="module")
def everything():
    scn = sim.load_scenario(SCENARIOS / "baseline.yaml", horizon_months=24, plan__revenue_target=40e6)
    comparison = sim.compare(
        scn, scn.override(recruitment__nurture_per_month=20), replications=8, seed=1, partners=True
    )
    sizing = sim.size_recruitment(scn, replications=8, seed=1, workers=1, max_replications=16)
    return Deliverables(result=comparison.a, sizing=sizing, comparison=comparison)


def test_neutralise_follows_owasp():
    assert [neutralise(t) for t in EVIL] == ["'" + t for t in EVIL]
    assert neutralise("USD") == "USD" and neutralise("a=b") == "a=b" and neutralise("") == ""


def test_workbook_sheets_headers_and_formats(everything, tmp_path):
    path = write_workbook(tmp_path / "plan.xlsx", everything)
    book = openpyxl.load_workbook(path)
    assert tuple(book.sheetnames) == SHEETS
    expected = {
        "summary": ["figure", "unit", "mean", "p10", "p50", "p90"],
        "compare": ["figure", "label", "mean_a", "mean_b", "mean_diff", "p05", "p95", "p_b_better"],
        "sizing": ["value", "step", "replications", "p_plan_met", "p_low", "p_high", "meets", "revenue_mean (USD)"],
        "assumptions": ["scenario", "key", "in words", "value", "origin", "file", "line", "note"],
        "scorecard": ["segment", "tier", "partners", "recruited"],
        "monthly": ["month", "revenue_t12m P10 (USD)", "revenue_t12m P25 (USD)", "revenue_t12m P50 (USD)"],
    }
    for name, header in expected.items():
        ws = book[name]
        assert ws.freeze_panes == "A4", name  # title, blank line, frozen header row
        cells = [c.value for c in ws[3]]
        assert cells[: len(header)] == header, (name, cells)
        assert ws.max_row > 4, name
    summary = book["summary"]
    rows = {r[0]: r for r in summary.iter_rows(min_row=4, values_only=True) if r[0]}
    kpis = everything.result.summary()
    revenue = rows["Revenue, last 12 months"]
    assert revenue[1] == "USD" and revenue[2] == pytest.approx(kpis.loc["revenue_last_12m", "mean"])
    # money rows in whole currency, shares as percentages, the Gini as an index
    by_label = {r[0].value: r for r in summary.iter_rows(min_row=4) if r[0].value}
    assert by_label["Revenue, last 12 months"][2].number_format == "#,##0"
    assert by_label["Top-20% share (earning)"][2].number_format == "0.0%"
    assert by_label["Gini (earning)"][2].number_format == "0.000"
    monthly = book["monthly"]
    months = [r[0] for r in monthly.iter_rows(min_row=4, values_only=True) if r[0] is not None]
    assert months == list(range(25))
    p50 = everything.result.monthly.groupby("month")["revenue_t12m"].median()
    assert monthly.cell(4 + 24, 4).value == pytest.approx(p50[24])
    sizing = book["sizing"]
    values = [r[0] for r in sizing.iter_rows(min_row=4, max_row=3 + len(everything.sizing.curve), values_only=True)]
    assert values == everything.sizing.curve["value"].tolist()
    assumptions = book["assumptions"]
    rows = list(assumptions.iter_rows(min_row=4, values_only=True))
    n = len(rows) // 2  # A's rows, then B's
    a = {r[1]: r for r in rows[:n]}
    b = {r[1]: r for r in rows[n:]}
    assert a["recruitment.nurture_per_month"][3] == 12 and a["recruitment.nurture_per_month"][4] == "file"
    assert a["recruitment.nurture_per_month"][5] == "scenarios/baseline.yaml" and a["horizon_months"][4] == "override"
    assert b["recruitment.nurture_per_month"][3] == 20 and b["recruitment.nurture_per_month"][4] == "override"


def test_workbook_without_a_what_if_or_sizing_says_so(tmp_path):
    result = sim.simulate(SCENARIOS / "baseline.yaml", replications=3, seed=1, horizon_months=12)
    book = openpyxl.load_workbook(write_workbook(tmp_path / "r.xlsx", Deliverables(result=result)))
    assert tuple(book.sheetnames) == SHEETS
    notes = [c.value for row in book["compare"].iter_rows() for c in row if c.value]
    assert any("No what-if" in str(n) for n in notes)


@pytest.mark.parametrize("name", EVIL[:4])
def test_a_formula_like_scenario_name_stays_text_in_the_workbook(name, tmp_path):
    result = sim.simulate(SCENARIOS / "baseline.yaml", replications=2, seed=1, horizon_months=12, name=name)
    path = write_workbook(tmp_path / "w.xlsx", Deliverables(result=result))
    book = openpyxl.load_workbook(path)
    cells = [c for row in book["assumptions"].iter_rows(min_row=4) for c in row if c.value == name]
    assert cells, "the name is in the assumptions sheet"
    assert all(c.data_type == "s" for c in cells)  # a string, not a formula ("f")
    # nowhere in the workbook is there a formula
    for ws in book:
        assert not any(c.data_type == "f" for row in ws.iter_rows() for c in row), ws.title
    # and the raw XML holds no formula element
    import zipfile

    with zipfile.ZipFile(path) as z:
        assert not any(b"<f>" in z.read(n) for n in z.namelist() if n.startswith("xl/worksheets/"))


def test_formula_like_text_stays_text_in_every_csv(tmp_path):
    evil = EVIL[0]
    # compare --out: the changed currency is written in changes.csv
    out = tmp_path / "cmp"
    proc = run_cli(
        "compare",
        str(SCENARIOS / "baseline.yaml"),
        "--set",
        f"currency={evil}",
        "--set-both",
        "horizon_months=12",
        "-r",
        "3",
        "--out",
        str(out),
    )
    assert proc.returncode == 0, proc.stderr
    text = (out / "changes.csv").read_text()
    assert "'=HYPERLINK" in text and ",=HYPERLINK" not in text
    assert pd.read_csv(out / "changes.csv").b.tolist() == ["'" + evil]
    # results CSV (simulate --csv): a scenario name is not in them, but a formula-like partner id would be
    frame = pd.DataFrame({"who": EVIL, "n": [1, -2, 3, 4, 5, 6]})
    path = write_csv(frame, tmp_path / "t.csv")
    back = pd.read_csv(path, keep_default_na=False)
    assert back.who.tolist() == ["'" + t for t in EVIL]
    assert back.n.tolist() == [1, -2, 3, 4, 5, 6]  # numbers are numbers, negative ones too
    # the index and column names are neutralised as well
    indexed = pd.DataFrame({"@col": [1]}, index=pd.Index(["=A1"], name="figure"))
    text = write_csv(indexed, tmp_path / "i.csv", index=True).read_text()
    assert text.splitlines()[:2] == ["figure,'@col", "'=A1,1"]


def test_every_csv_writer_goes_through_write_csv():
    """One mechanism: no to_csv call on a file path anywhere in the package but tables.py."""
    found = subprocess.run(
        ["grep", "-rn", r"\.to_csv(", "simulator", "--include=*.py"], capture_output=True, text=True, check=False
    ).stdout.splitlines()
    allowed = ("def to_csv", "card.to_csv(")  # ScorecardResult.to_csv is itself a write_csv call
    offenders = [
        line
        for line in found
        if not line.startswith("simulator/reports/tables.py") and not any(x in line for x in allowed)
    ]
    assert offenders == []


def test_writes_are_atomic_and_errors_name_the_file(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ChannelError, match=re.escape(f"cannot write {blocker / 't.csv'}")):
        write_csv(pd.DataFrame({"a": [1]}), blocker / "t.csv")
    # replacing a file: the new content whole, and no temporary file left beside it
    target = tmp_path / "keep.csv"
    target.write_text("old")
    write_csv(pd.DataFrame({"a": [1]}), target)
    assert target.read_bytes() == b"a\r\n1\r\n"
    assert not any(p.name.startswith(".tmp-") for p in tmp_path.iterdir())
    # a folder where the file should be is refused by name
    (tmp_path / "dir.csv").mkdir()
    with pytest.raises(ChannelError, match=r"dir\.csv: it is a folder"):
        write_csv(pd.DataFrame({"a": [1]}), tmp_path / "dir.csv")


def test_charts_as_png_and_svg_with_stable_names(everything, tmp_path):
    written = write_charts(tmp_path / "charts", everything, dpi=50)
    names = sorted(p.name for p in written)
    assert names == sorted(f"{stem}.{ext}" for stem in CHART_FILES for ext in ("png", "svg"))
    for p in written:
        data = p.read_bytes()
        if p.suffix == ".png":
            assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
        else:
            assert b"<svg" in data[:2000] and len(data) > 5000
    # the same run gives the same SVG: stable for version control
    again = write_charts(tmp_path / "again", everything, dpi=50)
    first = {p.name: p.read_bytes() for p in written if p.suffix == ".svg"}
    assert all(first[p.name] == p.read_bytes() for p in again if p.suffix == ".svg")


@pytest.mark.parametrize(
    "command",
    [
        ["simulate", str(SCENARIOS / "baseline.yaml"), "--set", "horizon_months=12", "-r", "3"],
        ["compare", str(SCENARIOS / "baseline.yaml"), "--set", "recruitment.nurture_per_month=20", "-r", "3"],
        [
            "size",
            str(SCENARIOS / "baseline.yaml"),
            "--set",
            "horizon_months=12",
            "--target",
            "30m",
            "-r",
            "6",
            "-w",
            "1",
        ],
        ["report", str(SCENARIOS / "baseline.yaml"), "--set", "horizon_months=12", "-r", "3"],
    ],
)
def test_charts_and_xlsx_on_the_commands(command, tmp_path):
    extra = ["--out", str(tmp_path / ("r.html" if command[0] == "report" else "out"))]
    if command[0] == "size":
        extra = []
    proc = run_cli(*command, *extra, "--charts", str(tmp_path / "charts"), "--xlsx", str(tmp_path / "plan.xlsx"))
    assert proc.returncode == 0, proc.stderr
    book = openpyxl.load_workbook(tmp_path / "plan.xlsx")
    assert tuple(book.sheetnames) == SHEETS
    charts = {p.name for p in (tmp_path / "charts").iterdir()}
    want = {
        "simulate": {"revenue_fan", "partners_by_state", "recruitment_funnel", "lorenz"},
        "compare": {"revenue_fan", "compare"},
        "size": {"sizing_curve"},
        "report": {"revenue_fan", "lorenz"},
    }[command[0]]
    assert {f"{s}.png" for s in want} | {f"{s}.svg" for s in want} <= charts


def test_a_bad_xlsx_path_is_refused_before_any_work(tmp_path):
    out = ["--out", str(tmp_path / "out")]
    proc = run_cli("simulate", str(SCENARIOS / "baseline.yaml"), "-r", "2", *out, "--xlsx", str(tmp_path))
    assert proc.returncode == 2 and "is a folder" in proc.stderr and "Traceback" not in proc.stderr
    proc = run_cli("simulate", str(SCENARIOS / "baseline.yaml"), "-r", "2", *out, "--xlsx", str(tmp_path / "plan.csv"))
    assert proc.returncode == 2 and ".xlsx" in proc.stderr
    assert not (tmp_path / "plan.csv").exists() and not (tmp_path / "out").exists()
