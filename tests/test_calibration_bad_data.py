"""Broken exports (EXPORT.md, "Bad data"): each refused with exit 2 and one line naming the table, the row
and the value, with nothing written; or set aside and counted in the report."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from simulator.calibration import calibrate
from simulator.calibration.export import MAX_FILE_BYTES
from simulator.cli.main import main


def tables() -> dict[str, pd.DataFrame]:
    """A tiny clean export: four partners over six months."""
    partners = pd.DataFrame(
        {
            "partner_id": ["A", "B", "C", "D"],
            "segment": ["reseller", "reseller", "msp", "msp"],
            "onboarded": ["2023-01-10", "2023-02-01", "2023-01-05", "2023-03-15"],
            "first_deal": ["2023-02-10", "2023-03-03", "", "2023-04-20"],
            "offboarded": ["", "", "", "2023-06-10"],
        }
    )
    rows = (
        [("A", m, 1000 + 10 * i) for i, m in enumerate(["2023-02", "2023-03", "2023-04", "2023-05", "2023-06"])]
        + [("B", m, 500.0) for m in ("2023-03", "2023-04", "2023-06")]
        + [("D", "2023-04", 200.0), ("D", "2023-05", 210.0)]
    )
    revenue = pd.DataFrame(rows, columns=["partner_id", "month", "revenue"])
    return {"partners": partners, "revenue": revenue}


def write(folder: Path, t: dict[str, pd.DataFrame]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in t.items():
        frame.to_csv(folder / f"{name}.csv", index=False)
    return folder


def set_value(table, row, column, value):
    def change(t):
        t[table][column] = t[table][column].astype(object)
        t[table].loc[row, column] = value
        return t

    return change


def add_row(table, values):
    def change(t):
        t[table] = pd.concat([t[table], pd.DataFrame([values])], ignore_index=True)
        return t

    return change


def drop(table=None, column=None):
    def change(t):
        if column is None:
            del t[table]
        else:
            t[table] = t[table].drop(columns=column)
        return t

    return change


#: Broken exports that must be refused: (name, change, words the one line must hold).
REFUSED = [
    ("missing partners table", drop("partners"), ["partners table is missing"]),
    ("missing revenue table", drop("revenue"), ["revenue table is missing"]),
    ("missing column", drop("partners", "onboarded"), ["partners.csv", "'onboarded' is missing"]),
    (
        "conflicting duplicate key",
        set_value("partners", 3, "partner_id", "A"),
        ["row 5", "partner_id = A", "used twice"],
    ),
    (
        "unparseable date",
        set_value("partners", 1, "onboarded", "01/02/2023"),
        ["row 3", "onboarded", "'01/02/2023'", "not a date"],
    ),
    ("empty onboarding date", set_value("partners", 0, "onboarded", ""), ["row 2", "onboarded", "not a date"]),
    (
        "unparseable month",
        set_value("revenue", 2, "month", "April"),
        ["revenue.csv", "row 4", "'April'", "not a month"],
    ),
    ("unparseable revenue", set_value("revenue", 0, "revenue", "12k"), ["row 2", "revenue = '12k'", "not a number"]),
    (
        "offboarded before onboarded",
        set_value("partners", 3, "offboarded", "2022-01-01"),
        ["row 5", "before onboarded"],
    ),
    ("duplicate revenue month", set_value("revenue", 1, "month", "2023-02"), ["revenue.csv", "row 3", "used twice"]),
    (
        "bad prospect outcome",
        lambda t: {**t, "prospects": pd.DataFrame({"prospect_id": ["Q1"], "segment": ["msp"], "outcome": ["won"]})},
        ["prospects.csv", "row 2", "'won'", "signed, lost, open"],
    ),
]

#: Broken rows that are set aside: (name, change, table, words of the reason, count).
SET_ASIDE = [
    (
        "exact duplicate row",
        lambda t: {**t, "partners": pd.concat([t["partners"], t["partners"].iloc[[1]]], ignore_index=True)},
        "partners",
        "exact duplicates",
        1,
    ),
    (
        "first deal before onboarding",
        set_value("partners", 1, "first_deal", "2022-12-01"),
        "partners",
        "first deal before onboarding",
        1,
    ),
    (
        "revenue after offboarding",
        add_row("revenue", {"partner_id": "D", "month": "2023-08", "revenue": 50.0}),
        "revenue",
        "after the partner's offboarding",
        1,
    ),
    (
        "negative revenue",
        add_row("revenue", {"partner_id": "A", "month": "2023-07", "revenue": -120.0}),
        "revenue",
        "negative revenue",
        1,
    ),
    (
        "partner missing from partners",
        add_row("revenue", {"partner_id": "ZZ", "month": "2023-03", "revenue": 9.0}),
        "revenue",
        "missing from partners",
        1,
    ),
    (
        "first deal missing though it transacted",
        set_value("partners", 1, "first_deal", ""),
        "partners",
        "without a first_deal",
        1,
    ),
]


@pytest.mark.parametrize(("name", "change", "words"), REFUSED, ids=[c[0] for c in REFUSED])
def test_refused_with_one_line_and_nothing_written(tmp_path, capsys, name, change, words):
    folder = write(tmp_path / "export", change(tables()))
    out = tmp_path / "out" / "acme.yaml"
    assert main(["calibrate", str(folder), "--out", str(out), "--report", str(tmp_path / "out" / "r.html")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: ")
    for word in words:
        assert word in err, err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("name", "change", "table", "reason", "count"), SET_ASIDE, ids=[c[0] for c in SET_ASIDE])
def test_set_aside_and_counted(tmp_path, name, change, table, reason, count):
    folder = write(tmp_path / "export", change(tables()))
    result = calibrate(folder, dormant_after=1)
    found = [a for a in result.set_aside if a.table == table and reason in a.reason]
    assert len(found) == 1 and found[0].count == count, [a.describe() for a in result.set_aside]
    assert found[0].rows[0] >= 2  # a spreadsheet row, the header being row 1
    from simulator.calibration.report import calibration_report

    html = calibration_report(result)
    assert reason.split(" ")[0] in html and 'id="set-aside-total">' in html


def test_clean_export_sets_nothing_aside(tmp_path):
    result = calibrate(write(tmp_path / "export", tables()), dormant_after=1)
    assert result.set_aside == []
    assert result.fitted["activation.monthly_probability"].thin  # four partners: the interval says so
    assert any("only" in w and "events" in w for w in result.warnings)


def test_empty_and_header_only_files(tmp_path, capsys):
    folder = write(tmp_path / "export", tables())
    (folder / "revenue.csv").write_text("")
    assert main(["calibrate", str(folder), "--out", str(tmp_path / "o.yaml")]) == 2
    assert "revenue.csv is empty" in capsys.readouterr().err
    (folder / "revenue.csv").write_text("partner_id,month,revenue\n")
    assert main(["calibrate", str(folder), "--out", str(tmp_path / "o.yaml")]) == 2
    assert "has a header but no rows" in capsys.readouterr().err
    assert not (tmp_path / "o.yaml").exists()


def test_oversized_file_is_refused_before_reading(tmp_path, capsys):
    folder = write(tmp_path / "export", tables())
    with open(folder / "revenue.csv", "r+b") as fh:  # sparse: no disk is used
        fh.truncate(MAX_FILE_BYTES + 1)
    assert os.path.getsize(folder / "revenue.csv") > 100_000_000
    assert main(["calibrate", str(folder), "--out", str(tmp_path / "o.yaml")]) == 2
    err = capsys.readouterr().err
    assert "revenue.csv is 100 MB" in err and "at most 100 MB" in err


def test_missing_export_and_bad_out(tmp_path, capsys):
    assert main(["calibrate", str(tmp_path / "nowhere"), "--out", str(tmp_path / "o.yaml")]) == 2
    assert "export not found" in capsys.readouterr().err
    folder = write(tmp_path / "export", tables())
    assert main(["calibrate", str(folder), "--out", str(tmp_path / "o.txt")]) == 2
    assert "ends in .yaml" in capsys.readouterr().err
    assert main(["calibrate", str(folder), "--out", str(tmp_path / "o.yaml"), "--as-of", "someday"]) == 2


def test_columns_case_insensitive_unknown_listed_once(tmp_path):
    t = tables()
    t["partners"] = t["partners"].rename(columns={"partner_id": "Partner_ID", "segment": "SEGMENT"})
    t["partners"]["Region"] = "EMEA"
    t["partners"]["segment2"] = "x"
    t["partners"]["SEGMENT"] = [" Reseller", "RESELLER ", "Msp", "msp"]
    result = calibrate(write(tmp_path / "export", t), dormant_after=1)
    assert result.export.unknown_columns == {"partners": ["Region", "segment2"]}
    assert result.history.segments == ("msp", "reseller")
    from simulator.calibration.report import calibration_report

    html = calibration_report(result)
    assert html.count("Region, segment2") == 1


def test_excel_workbook_and_parquet(tmp_path):
    t = tables()
    book = tmp_path / "export.xlsx"
    with pd.ExcelWriter(book) as writer:
        for name, frame in t.items():
            frame.to_excel(writer, sheet_name=name.capitalize(), index=False)
    from_book = calibrate(book, dormant_after=1)
    folder = tmp_path / "parquet"
    folder.mkdir()
    for name, frame in t.items():
        frame.to_parquet(folder / f"{name}.parquet", index=False)
    from_parquet = calibrate(folder, dormant_after=1)
    from_csv = calibrate(write(tmp_path / "csv", t), dormant_after=1)
    for other in (from_book, from_parquet):
        assert [(f.key, f.value) for f in other.fits] == [(f.key, f.value) for f in from_csv.fits]
