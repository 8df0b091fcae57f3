"""Hostile sweep folders and sweep definitions (issue 16, classes 1 and 6).

A sweep folder proves its chunks: every chunk has a journal line (point, replications, rows, sha256)
written before the file is put in place. Whatever is done to the folder afterwards (a chunk copied over
another, a stray or empty chunk, one flipped byte, a lost manifest, an edited manifest or journal), a
resume or :func:`open_sweep` either redoes what is missing or refuses with the file named: never a lost,
duplicated, foreign or changed row. Sweep definitions that used to be misread (a key given twice, a CSV
row with a field too many, a cell that is not a whole number, a range without a whole number, a list
value, a bad point far into a large grid) are refused before anything runs.
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
from pathlib import Path

import pandas as pd
import pytest
from conftest import BASELINE, small_channel, small_grid

from simulator import ChannelError
from simulator.cli import main
from simulator.sweeps import SweepDesign, open_sweep, sweep, sweep_monthly
from simulator.sweeps.design import MAX_POINTS, parse_grid, parse_ranges
from simulator.sweeps.storage import JOURNAL, LAYOUT_VERSION, _checksum

CHUNK = 5  # 12 replications -> blocks of 5, 5, 2: 4 points x 3 blocks = 12 chunks


@pytest.fixture(scope="module")
def design():
    return small_grid()


@pytest.fixture(scope="module")
def finished(design, tmp_path_factory):
    """A finished sweep with monthly series, kept pristine: each test works on a copy."""
    folder = tmp_path_factory.mktemp("finished") / "sweep"
    table = sweep(design, out=folder, workers=1, chunk_size=CHUNK, monthly=True)
    return folder, table


@pytest.fixture
def folder(finished, tmp_path):
    copy = tmp_path / "sweep"
    shutil.copytree(finished[0], copy)
    return copy


def _kpi(folder: Path, point: int, block: int) -> Path:
    return folder / "kpis" / f"chunk-{point:06d}-{block:05d}.parquet"


def _snapshot(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.rglob("*") if p.is_file()
    }


def _rewrite_manifest(folder: Path, recheck: bool = True, **fields) -> None:
    """Edit manifest fields; ``recheck`` recomputes the checksum (a careful forger)."""
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text())
    for key, value in fields.items():
        if key.startswith("definition."):
            manifest["definition"][key.split(".", 1)[1]] = value
        else:
            manifest[key] = value
    if recheck:
        manifest["checksum"] = _checksum(manifest)
    path.write_text(json.dumps(manifest))


def _flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01  # in the middle: a data page, not the footer
    path.write_bytes(bytes(data))


def _empty_chunk_like(path: Path) -> None:
    pd.read_parquet(path).iloc[:0].to_parquet(path, index=False)


# -- class 1: tampered or damaged folders ------------------------------------------------------------------

TAMPERINGS = {
    "copied over another chunk": (lambda f: shutil.copy(_kpi(f, 0, 0), _kpi(f, 1, 0)), "chunk-000001-00000"),
    "copied over another block": (lambda f: shutil.copy(_kpi(f, 2, 0), _kpi(f, 2, 1)), "chunk-000002-00001"),
    "stray chunk outside the design": (
        lambda f: shutil.copy(_kpi(f, 0, 0), _kpi(f, 99, 0)),
        "chunk-000099-00000.*not a chunk of this sweep",
    ),
    "stray block outside the design": (
        lambda f: shutil.copy(_kpi(f, 0, 0), _kpi(f, 0, 3)),
        "chunk-000000-00003.*not a chunk of this sweep",
    ),
    "a file that is not a chunk": (lambda f: (f / "kpis" / "notes.txt").write_text("x"), "notes.txt"),
    "zero-row chunk with the right columns": (lambda f: _empty_chunk_like(_kpi(f, 3, 2)), "chunk-000003-00002"),
    "one flipped byte": (lambda f: _flip_a_byte(_kpi(f, 1, 1)), "chunk-000001-00001.*content changed"),
    "one flipped byte in a monthly chunk": (
        lambda f: _flip_a_byte(f / "monthly" / "chunk-000002-00002.parquet"),
        "monthly/chunk-000002-00002",
    ),
    "truncated chunk": (
        lambda f: _kpi(f, 0, 1).write_bytes(_kpi(f, 0, 1).read_bytes()[:100]),
        "chunk-000000-00001",
    ),
    "journal line removed": (
        lambda f: (f / JOURNAL).write_text("".join((f / JOURNAL).read_text().splitlines(True)[1:])),
        "chunk-000000-0000[0-2].*no line for it",
    ),
    "journal line garbled": (
        lambda f: (f / JOURNAL).write_text("{garbage\n" + (f / JOURNAL).read_text()),
        f"{JOURNAL} line 1",
    ),
    "journal line pointing outside the design": (
        lambda f: (f / JOURNAL).write_text((f / JOURNAL).read_text().replace('"point": 3', '"point": 7')),
        f"{JOURNAL} line .*not a chunk of the design",
    ),
    "journal row count edited": (
        lambda f: (f / JOURNAL).write_text((f / JOURNAL).read_text().replace('"rows": 2', '"rows": 0')),
        f"{JOURNAL} line .*rows",
    ),
    "journal deleted": (lambda f: (f / JOURNAL).unlink(), f"{JOURNAL} is missing"),
    "points replaced": (
        lambda f: pd.DataFrame({"point": [0], "activation.window_months": [9]}).to_parquet(f / "points.parquet"),
        "points.parquet does not hold the points",
    ),
    "manifest chunk size edited": (lambda f: _rewrite_manifest(f, recheck=False, chunk_size=4), "checksum"),
    "manifest chunk size edited, checksum redone": (
        lambda f: _rewrite_manifest(f, chunk_size=3),
        "n_chunks = 12 does not fit",
    ),
    "manifest chunk size edited to a size with as many chunks": (
        lambda f: _rewrite_manifest(f, chunk_size=4),
        f"{JOURNAL} line 1.*does not hold replications",
    ),
    "manifest chunk size and count edited, checksum redone": (
        lambda f: _rewrite_manifest(f, chunk_size=3, n_chunks=16),
        f"{JOURNAL} line 1.*does not hold replications",
    ),
    "manifest older layout": (lambda f: _rewrite_manifest(f, layout=1), "older version"),
    "manifest newer layout": (lambda f: _rewrite_manifest(f, layout=LAYOUT_VERSION + 1), "newer version"),
    "manifest monthly as text": (lambda f: _rewrite_manifest(f, monthly="yes"), "monthly = 'yes'"),
    "manifest negative replications": (
        lambda f: _rewrite_manifest(f, **{"definition.replications": -1}),
        "replications = -1",
    ),
    "manifest chunk size zero": (lambda f: _rewrite_manifest(f, chunk_size=0), "chunk_size = 0"),
    "manifest not an object": (lambda f: (f / "manifest.json").write_text("[1, 2]"), "not a JSON object"),
}


@pytest.mark.parametrize("tamper", TAMPERINGS, ids=list(TAMPERINGS))
def test_a_tampered_folder_is_refused_naming_the_file_by_open_sweep_and_resume(design, folder, tamper):
    change, needle = TAMPERINGS[tamper]
    change(folder)
    before = _snapshot(folder)
    with pytest.raises(ChannelError, match=needle):
        open_sweep(folder)
        sweep_monthly(folder)
    with pytest.raises(ChannelError, match=needle):
        sweep(design, out=folder, workers=1, chunk_size=CHUNK, monthly=True, resume=True)
    assert _snapshot(folder) == before  # a refusal writes nothing, deletes nothing


def test_a_monthly_chunk_tampered_alone_is_refused_when_the_monthly_series_are_read(folder):
    _flip_a_byte(folder / "monthly" / "chunk-000001-00000.parquet")
    assert len(open_sweep(folder)) == 48  # the horizon table does not depend on that file
    with pytest.raises(ChannelError, match=r"monthly/chunk-000001-00000\.parquet"):
        sweep_monthly(folder)


@pytest.mark.parametrize("victim", [(0, 0), (3, 2)])
def test_deleting_a_refused_chunk_and_resuming_redoes_exactly_that_chunk(design, finished, folder, victim):
    _flip_a_byte(_kpi(folder, *victim))
    with pytest.raises(ChannelError, match=_kpi(folder, *victim).name):
        sweep(design, out=folder, workers=1, chunk_size=CHUNK, monthly=True, resume=True)
    _kpi(folder, *victim).unlink()  # as the message says
    partial = open_sweep(folder)
    first = CHUNK * victim[1]
    assert not partial.attrs["complete"] and partial.attrs["missing"] == [(victim[0], first, min(first + CHUNK, 12))]
    resumed = sweep(design, out=folder, workers=1, chunk_size=CHUNK, monthly=True, resume=True)
    assert resumed.attrs["run"]["ran"] == 1 and resumed.attrs["complete"]
    pd.testing.assert_frame_equal(resumed, finished[1], check_exact=True)


def test_a_torn_last_journal_line_is_a_chunk_still_to_run(design, finished, folder):
    """A run killed while writing a journal line never renamed that chunk's file: resume runs it again."""
    lines = (folder / JOURNAL).read_text().splitlines(True)
    last = json.loads(lines[-1])
    (folder / "kpis" / last["chunk"]).unlink()
    (folder / "monthly" / last["chunk"]).unlink()
    (folder / JOURNAL).write_text("".join(lines[:-1]) + lines[-1][:40])  # the last line cut, no newline
    assert open_sweep(folder).attrs["missing"] == [(last["point"], last["first"], last["stop"])]
    resumed = sweep(design, out=folder, workers=1, chunk_size=CHUNK, monthly=True, resume=True)
    assert resumed.attrs["run"]["ran"] == 1
    pd.testing.assert_frame_equal(resumed, finished[1], check_exact=True)
    assert all(line.endswith("\n") for line in (folder / JOURNAL).read_text().splitlines(True))


@pytest.mark.parametrize("resume", [True, False])
def test_a_folder_with_chunks_but_no_manifest_is_refused(design, folder, resume):
    (folder / "manifest.json").unlink()
    with pytest.raises(ChannelError, match="no manifest.json" if resume else "not empty"):
        sweep(design, out=folder, workers=1, chunk_size=CHUNK, monthly=True, resume=resume)
    with pytest.raises(ChannelError, match="not a sweep folder"):
        open_sweep(folder)
    assert not (folder / "manifest.json").exists()


def test_a_partial_sweep_opens_with_its_missing_chunks_listed(design, tmp_path):
    def stop_after(done: int, total: int) -> None:
        if done == 5:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        sweep(design, out=tmp_path / "p", workers=1, chunk_size=CHUNK, on_chunk=stop_after)
    partial = open_sweep(tmp_path / "p")
    on_disk = {(int(p.name[6:12]), int(p.name[13:18])) for p in (tmp_path / "p" / "kpis").glob("chunk-*")}
    expected = [
        (pt, b * CHUNK, min(b * CHUNK + CHUNK, 12)) for pt in range(4) for b in range(3) if (pt, b) not in on_disk
    ]
    assert partial.attrs["complete"] is False and len(on_disk) == 5
    assert partial.attrs["missing"] == expected and len(expected) == 7
    covered = {(pt, r) for pt, b in on_disk for r in range(b * CHUNK, min(b * CHUNK + CHUNK, 12))}
    assert set(zip(partial["point"], partial["replication"], strict=True)) == covered
    assert len(partial) == len(covered) and not partial.duplicated(["point", "replication"]).any()


def test_tampering_at_random_moments_of_an_interrupted_sweep(design, finished, tmp_path):
    """Interrupt at seeded random moments, damage a random finished chunk each time: refused with its name;
    once the named file is deleted the resume finishes to the uninterrupted table."""
    rng = random.Random(1616)
    folder = tmp_path / "random"
    ways = [_flip_a_byte, _empty_chunk_like, lambda p: shutil.copy(sorted(p.parent.glob("chunk-*"))[0], p)]
    for moment in sorted(rng.sample(range(2, 12), 3)):

        def stop(done: int, total: int, moment=moment) -> None:
            if done == moment:
                raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            sweep(design, out=folder, workers=1, chunk_size=CHUNK, monthly=True, resume=True, on_chunk=stop)
        victim = rng.choice(sorted((folder / "kpis").glob("chunk-*"))[1:])
        rng.choice(ways)(victim)
        with pytest.raises(ChannelError, match=victim.name):
            open_sweep(folder)
        victim.unlink()
    resumed = sweep(design, out=folder, workers=1, chunk_size=CHUNK, monthly=True, resume=True)
    pd.testing.assert_frame_equal(resumed, finished[1], check_exact=True)
    pd.testing.assert_frame_equal(sweep_monthly(folder), sweep_monthly(finished[0]), check_exact=True)


def test_the_command_line_refuses_a_tampered_resume_in_one_line(design, tmp_path, capsys):
    folder = tmp_path / "cli"
    argv = ["sweep", str(BASELINE), "--set", "horizon_months=6", "--grid", "activation.window_months=3,6"]
    argv += ["-r", "4", "--chunk-size", "2", "--workers", "1", "--no-progress", "--out", str(folder)]
    assert main(argv) == 0
    capsys.readouterr()
    shutil.copy(_kpi(folder, 0, 0), _kpi(folder, 1, 1))
    before = _snapshot(folder)
    assert main([*argv, "--resume"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "chunk-000001-00001.parquet" in err and "Traceback" not in err
    assert _snapshot(folder) == before


# -- class 6: sweep definitions that were misread ----------------------------------------------------------

SMALL = small_channel(horizon_months=12)


@pytest.mark.parametrize(
    "parse, items, needle",
    [
        (parse_grid, ["activation.window_months=3,6", "activation.window_months=9"], "given twice"),
        (parse_grid, [" activation.window_months=3", "activation.window_months =9"], "given twice"),
        (lambda i: parse_ranges(i, "--lhs"), ["churn.monthly_rate=0.01:0.02", "churn.monthly_rate=0.1:0.2"], "--lhs"),
        (lambda i: parse_ranges(i, "--sobol"), ["a.b=1:2", "a.b=3:4"], "--sobol a.b is given twice"),
        (parse_grid, ["activation.window_months=[3,6]"], "list or mapping values cannot be swept"),
        (parse_grid, ["activation.window_months={a: 1}"], "list or mapping values cannot be swept"),
    ],
)
def test_command_line_definitions_that_were_silently_misread(parse, items, needle):
    with pytest.raises(ChannelError, match=needle):
        parse(items)


@pytest.mark.parametrize(
    "grid, needle",
    [
        ({"activation.window_months": [[3, 6]]}, "is a list"),
        ({"activation.window_months": [3, {"a": 1}]}, "is a dict"),
        ({"program.levers[0].intensity": [1], "program.levers.0.intensity": [2]}, "given twice"),
        (
            {"market.segments.reseller.revenue_sigma": [1.0] * 1001, "recruitment.nurture_per_month": [1] * 1000},
            "1,001,000 points",
        ),
    ],
)
def test_grids_that_crashed_mid_sweep_or_exploded_are_refused_before_running(grid, needle):
    with pytest.raises(ChannelError, match=needle):
        SweepDesign.grid(SMALL, grid, replications=1)


def test_a_grid_whose_product_is_astronomical_is_refused_without_being_made():
    grid = {"recruitment.nurture_per_month": list(range(1000)), "activation.window_months": list(range(1, 1001))}
    grid["market.segments.reseller.revenue_sigma"] = [1.0] * 1000
    with pytest.raises(ChannelError, match=f"1,000,000,000 points; a sweep may have at most {MAX_POINTS:,}"):
        SweepDesign.grid(SMALL, grid, replications=1)


@pytest.mark.parametrize("sampler", ["lhs", "sobol"])
@pytest.mark.parametrize("bounds", [(3.2, 3.8), (6.01, 6.99)])
def test_an_integer_range_without_a_whole_number_is_refused(sampler, bounds):
    make = SweepDesign.latin_hypercube if sampler == "lhs" else SweepDesign.sobol
    with pytest.raises(ChannelError, match="holds no whole number"):
        make(SMALL, {"activation.window_months": bounds}, points=8, replications=1)


def test_too_many_sampled_points_are_refused():
    with pytest.raises(ChannelError, match="--points asks for 1,000,001 points"):
        SweepDesign.latin_hypercube(SMALL, {"market.segments.reseller.revenue_sigma": (1, 2)}, points=MAX_POINTS + 1)


@pytest.mark.parametrize(
    "text, needle",
    [
        ("activation.window_months\n3\n6,7\n", "row 3 has 2 fields, the header has 1"),
        ("activation.window_months,churn.monthly_rate\n3,0.01,9\n", "row 2 has 3 fields, the header has 2"),
        ("activation.window_months,churn.monthly_rate\n3,0.01\n4\n", "row 3 has 1 fields"),
        ("activation.window_months,activation.window_months\n3,4\n", "appears twice in the header"),
        ("activation.window_months\n3\nabc\n", r"column activation.window_months, row 3: 'abc' is not a whole number"),
        ("activation.window_months\n3\ninf\n", r"row 3: inf is not a whole number"),
        ("activation.window_months\n1e20\n", r"row 2: 1e\+20 is not a whole number"),
        ("activation.window_months\n3\n2.5\n", r"row 3: 2.5 is not a whole number"),
        ("activation.window_months\n3\n\n,\n", "row"),
        ("", "empty"),
    ],
)
def test_a_points_csv_that_was_misread_is_refused_with_key_row_and_value(tmp_path, text, needle):
    path = tmp_path / "points.csv"
    path.write_text(text)
    with pytest.raises(ChannelError, match=needle):
        SweepDesign.from_csv(SMALL, path, replications=1)


def test_a_bad_point_far_into_a_large_grid_is_refused_before_running(tmp_path):
    """Each key's values are fine alone; one combination is not (a lever running past a shorter horizon).
    With 2,400 points the old check validated 100 of them, and the sweep stopped half-way."""
    base = small_channel(horizon_months=24)
    base["program"] = {
        "levers": [{"name": "mdf", "effects": {"activation.monthly_probability": 0.2}, "months": [1, 6]}]
    }
    grid = {
        "horizon_months": [24, 12],
        "program.levers[0].months[1]": [6, 20],
        "recruitment.nurture_per_month": list(range(600)),
    }
    with pytest.raises(ChannelError, match=r"point 1800 \(horizon_months=12, program.levers\[0\].months\[1\]=20"):
        SweepDesign.grid(base, grid, replications=1)
    out = tmp_path / "never"
    argv = ["sweep", str(BASELINE), "--grid", "horizon_months=6,12", "--grid", "activation.window_months=3,0"]
    assert main([*argv, "-r", "2", "--workers", "1", "--no-progress", "--out", str(out)]) == 2
    assert not out.exists()
