"""Sweep storage: a Parquet dataset of finished chunks, a journal that proves them, and a manifest.

Layout of an output folder::

    manifest.json       what the sweep is (compared on --resume), with its own checksum
    points.parquet      the design's points
    journal.jsonl       one line per chunk written: its point, replications, rows and sha256
    kpis/chunk-<point>-<block>.parquet      horizon figures, one row per replication
    monthly/chunk-<point>-<block>.parquet   monthly series (only with monthly=True)

Every file is written to a hidden temporary name and renamed into place, so a
file that exists is complete. A chunk's journal line is appended (and synced)
*before* its files are renamed into place, so every chunk file this sweep
ever put in the folder has a line: a chunk is finished when its line exists
and its file's bytes hash to the line's sha256. A file with no line, a file
whose bytes changed, a line outside the design or a line whose row count does
not fit its replications is refused with the file named, on ``--resume``
and by :func:`~simulator.sweeps.open_sweep`; a line whose file never arrived
(a run killed in between) is a chunk still to run. File names come from
chunk indices only, never from scenario content, so nothing can be written
outside the folder.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ChannelError
from .design import MAX_POINTS, SweepDesign, points_digest

LAYOUT_VERSION = 2  # 2: chunks proven by journal.jsonl; 1 had no journal and is refused
_CHUNK = re.compile(r"^chunk-(\d+)-(\d+)\.parquet$")
JOURNAL = "journal.jsonl"
_RECORD_FIELDS = ("chunk", "point", "block", "first", "stop", "rows", "sha256", "monthly_rows", "monthly_sha256")


@dataclass(frozen=True)
class Chunk:
    """A unit of work: one point, a range of replications."""

    point: int
    block: int
    first: int  # first replication
    stop: int  # one past the last replication

    @property
    def name(self) -> str:
        return f"chunk-{self.point:06d}-{self.block:05d}.parquet"


@dataclass(frozen=True)
class ChunkPlan:
    """Which chunks a sweep has: points x blocks of ``chunk_size`` replications."""

    n_points: int
    replications: int
    chunk_size: int

    @property
    def blocks(self) -> int:
        return -(-self.replications // self.chunk_size)

    def __len__(self) -> int:
        return self.n_points * self.blocks

    def chunk(self, point: int, block: int) -> Chunk | None:
        """The chunk at (point, block), or None when the design has no such chunk."""
        if not (0 <= point < self.n_points and 0 <= block < self.blocks):
            return None
        first = block * self.chunk_size
        return Chunk(point, block, first, min(first + self.chunk_size, self.replications))

    def __iter__(self):  # noqa: ANN204 - an iterator of Chunk
        for point in range(self.n_points):
            for block in range(self.blocks):
                yield self.chunk(point, block)


def chunks_of(design: SweepDesign, chunk_size: int) -> list[Chunk]:
    """All chunks of a design, point by point."""
    return list(ChunkPlan(len(design.points), design.replications, chunk_size))


def atomic_write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".tmp-{os.getpid()}-{path.name}")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def parquet_bytes(table: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    table.to_parquet(buffer, index=False)
    return buffer.getvalue()


def atomic_write_parquet(path: Path, table: pd.DataFrame) -> None:
    atomic_write_bytes(path, parquet_bytes(table))


def _checksum(fields: dict[str, Any]) -> str:
    body = {k: v for k, v in fields.items() if k != "checksum"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


class SweepStore:
    """The output folder of one sweep."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.kpi_dir = self.folder / "kpis"
        self.monthly_dir = self.folder / "monthly"
        self.manifest_path = self.folder / "manifest.json"
        self.journal_path = self.folder / JOURNAL
        self._plan: ChunkPlan | None = None

    # -- creating and resuming --------------------------------------------------

    @classmethod
    def prepare(
        cls, folder: str | Path, design: SweepDesign, chunk_size: int, monthly: bool, resume: bool
    ) -> tuple[SweepStore, int]:
        """Create the folder (or check it on resume); return the store and the chunk size to use."""
        store = cls(folder)
        definition = json.loads(json.dumps(design.definition(), sort_keys=True))  # as stored
        if store.manifest_path.exists():
            if not resume:
                raise ChannelError(
                    f"{store.folder} already holds a sweep; pass --resume to finish it, or choose another --out"
                )
            manifest = store.manifest()
            stored = manifest["definition"]
            if stored != definition or manifest["monthly"] != bool(monthly):
                raise ChannelError(
                    f"--resume: the sweep in {store.folder} was defined differently "
                    f"({_first_difference(stored, definition, manifest['monthly'], monthly)}); "
                    "run it with the same definition or choose another --out"
                )
            store.remove_leftovers()
            store.check_points()
            store.tidy_journal()
            return store, manifest["chunk_size"]
        if store.folder.exists() and not store.folder.is_dir():
            raise ChannelError(f"--out {store.folder}: exists and is not a folder")
        if store.folder.is_dir() and any(store.folder.iterdir()):
            if resume and (store._chunk_files(store.kpi_dir) or store.journal_path.exists()):
                raise ChannelError(
                    f"--resume: {store.folder} holds chunks but no manifest.json, so nothing proves they belong to "
                    "this sweep; choose another --out (or empty the folder)"
                )
            if not resume:
                raise ChannelError(f"--out {store.folder}: the folder is not empty; choose a new or empty folder")
        try:
            store.kpi_dir.mkdir(parents=True, exist_ok=True)
            if monthly:
                store.monthly_dir.mkdir(exist_ok=True)
            atomic_write_parquet(store.folder / "points.parquet", design.points.reset_index())
            atomic_write_bytes(store.journal_path, b"")
            manifest = {
                "layout": LAYOUT_VERSION,
                "definition": definition,
                "chunk_size": int(chunk_size),
                "monthly": bool(monthly),
                "n_chunks": len(ChunkPlan(len(design.points), design.replications, int(chunk_size))),
            }
            manifest["checksum"] = _checksum(manifest)
            # The manifest comes last: a folder with a manifest has everything a resume needs.
            atomic_write_bytes(store.manifest_path, json.dumps(manifest, indent=1, sort_keys=True).encode())
        except OSError as exc:
            raise ChannelError(f"cannot write the sweep to {store.folder}: {exc.strerror or exc}") from None
        return store, int(chunk_size)

    def manifest(self) -> dict[str, Any]:
        """The manifest, with every field checked (types, ranges, consistency, checksum)."""
        try:
            raw = json.loads(self.manifest_path.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
            raise ChannelError(f"{self.manifest_path}: not a readable sweep manifest ({exc})") from None
        manifest = _validated_manifest(raw, self.manifest_path)
        definition = manifest["definition"]
        self._plan = ChunkPlan(definition["n_points"], definition["replications"], manifest["chunk_size"])
        return manifest

    @property
    def plan(self) -> ChunkPlan:
        if self._plan is None:
            self.manifest()
        assert self._plan is not None
        return self._plan

    def check_points(self) -> pd.DataFrame:
        """The stored points, refused unless they are the manifest's (count and digest)."""
        definition = self.manifest()["definition"]
        path = self.folder / "points.parquet"
        try:
            points = pd.read_parquet(path).set_index("point")
        except Exception as exc:  # noqa: BLE001 - any unreadable file is reported the same way
            raise _damaged(path, exc) from None
        if len(points) != definition["n_points"] or points_digest(points) != definition["points_sha256"]:
            raise ChannelError(f"{path} does not hold the points of {self.manifest_path} (it was changed or replaced)")
        return points

    def remove_leftovers(self) -> None:
        """Delete temporary files a killed run left half-written (never counted as chunks)."""
        for folder in (self.kpi_dir, self.monthly_dir, self.folder):
            if folder.is_dir():
                for leftover in folder.glob(".tmp-*"):
                    leftover.unlink(missing_ok=True)

    # -- the journal ------------------------------------------------------------------

    def records(self) -> dict[tuple[int, int], dict[str, Any]]:
        """The journal's last line for each chunk, each checked against the design.

        A torn last line (a run killed while writing it) is ignored: its chunk's files were never renamed
        into place. Any other unreadable line, or a line for a chunk the design does not have, is refused.
        """
        if not self.journal_path.exists():
            raise ChannelError(
                f"{self.journal_path} is missing: nothing proves which chunks of {self.folder} are finished; "
                "run the sweep again into a new folder"
            )
        try:
            lines = self.journal_path.read_bytes().split(b"\n")
        except OSError as exc:
            raise ChannelError(f"cannot read {self.journal_path}: {exc.strerror or exc}") from None
        plan = self.plan
        out: dict[tuple[int, int], dict[str, Any]] = {}
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            torn = number == len(lines)  # no newline after it: the write was cut
            try:
                record = _validated_record(json.loads(line), plan)
            except (ValueError, TypeError, KeyError, RecursionError) as exc:
                if torn:
                    continue
                raise ChannelError(
                    f"{self.journal_path} line {number}: not a chunk record of this sweep ({exc})"
                ) from None
            out[(record["point"], record["block"])] = record
        return out

    def tidy_journal(self) -> None:
        """Rewrite the journal without a torn last line, so that new lines start on a line of their own."""
        records = self.records()
        text = b"".join(json.dumps(r, sort_keys=True).encode() + b"\n" for r in records.values())
        if text != self.journal_path.read_bytes():
            try:
                atomic_write_bytes(self.journal_path, text)
            except OSError as exc:
                raise ChannelError(f"cannot write {self.journal_path}: {exc.strerror or exc}") from None

    def _append(self, record: dict[str, Any]) -> None:
        with open(self.journal_path, "ab") as fh:
            fh.write(json.dumps(record, sort_keys=True).encode() + b"\n")
            fh.flush()
            os.fsync(fh.fileno())

    # -- chunks ---------------------------------------------------------------------

    def finished(self, check: bool = False) -> set[tuple[int, int]]:
        """(point, block) of every chunk whose results are on disk and recorded in the journal.

        ``check`` (done on resume) proves each of them: every chunk file must have a journal line and
        hash to it; anything else is refused with the file named.
        """
        if not self.manifest_path.exists():
            return set()
        records = self.records()
        if check:
            self._refuse_unrecorded(records)
        done = set()
        for key, record in records.items():
            path = self.kpi_dir / record["chunk"]
            if not path.exists():
                continue  # recorded, then killed before the file was in place: still to run
            if check:
                _verified_bytes(path, record["sha256"])
                if record["monthly_sha256"] is not None:
                    monthly = self.monthly_dir / record["chunk"]
                    if not monthly.exists():
                        raise ChannelError(f"{monthly} is missing though {path} is finished; delete {path} and resume")
                    _verified_bytes(monthly, record["monthly_sha256"])
            done.add(key)
        return done

    def _chunk_files(self, folder: Path) -> list[Path]:
        if not folder.is_dir():
            return []
        return sorted(Path(e.path) for e in os.scandir(folder) if not e.name.startswith(".tmp-"))

    def _refuse_unrecorded(self, records: dict[tuple[int, int], dict[str, Any]]) -> None:
        """Every file in kpis/ and monthly/ must be a chunk of the design with a journal line."""
        plan = self.plan
        for folder in (self.kpi_dir, self.monthly_dir):
            for path in self._chunk_files(folder):
                m = _CHUNK.match(path.name)
                key = (int(m.group(1)), int(m.group(2))) if m else None
                if key is None or plan.chunk(*key) is None:
                    raise ChannelError(
                        f"{path} is not a chunk of this sweep (the design has {plan.n_points} points x "
                        f"{plan.blocks} blocks); move it out of the folder"
                    )
                if key not in records or (folder == self.monthly_dir and records[key]["monthly_sha256"] is None):
                    raise ChannelError(
                        f"{path} was not written by this sweep (no line for it in {JOURNAL}); "
                        "delete it (--resume runs that chunk again)"
                    )

    def write(self, chunk: Chunk, kpis: pd.DataFrame, monthly: pd.DataFrame | None) -> None:
        """Store a finished chunk: its journal line, then monthly, then the kpis file that marks it finished."""
        kpi_bytes = parquet_bytes(kpis)
        monthly_bytes = parquet_bytes(monthly) if monthly is not None else None
        record = {
            "chunk": chunk.name,
            "point": chunk.point,
            "block": chunk.block,
            "first": chunk.first,
            "stop": chunk.stop,
            "rows": len(kpis),
            "sha256": hashlib.sha256(kpi_bytes).hexdigest(),
            "monthly_rows": None if monthly is None else len(monthly),
            "monthly_sha256": None if monthly_bytes is None else hashlib.sha256(monthly_bytes).hexdigest(),
        }
        try:
            self._append(record)
            if monthly_bytes is not None:
                atomic_write_bytes(self.monthly_dir / chunk.name, monthly_bytes)
            atomic_write_bytes(self.kpi_dir / chunk.name, kpi_bytes)
        except OSError as exc:
            raise ChannelError(
                f"cannot write results to {self.folder}: {exc.strerror or exc}; "
                "the chunks already finished are kept (rerun with --resume)"
            ) from None

    # -- reading -----------------------------------------------------------------------

    def points(self) -> pd.DataFrame:
        return pd.read_parquet(self.folder / "points.parquet").set_index("point")

    def read(self, table: str = "kpis", columns: list[str] | None = None) -> tuple[pd.DataFrame, list[Chunk]]:
        """A table of the sweep (``kpis`` or ``monthly``), sorted by point, replication (and month), and the
        chunks still missing from it.

        Only proven chunks are read: each file's bytes must hash to its journal line and its rows must be
        exactly its point and replications, so no row is ever duplicated, foreign or changed.
        """
        records = self.records()
        self._refuse_unrecorded(records)
        folder = self.kpi_dir if table == "kpis" else self.monthly_dir
        frames, missing = [], []
        for chunk in self.plan:
            record = records.get((chunk.point, chunk.block))
            if record is None or not (self.kpi_dir / chunk.name).exists():
                missing.append(chunk)
                continue
            path = folder / chunk.name
            data = _verified_bytes(path, record["sha256"] if table == "kpis" else record["monthly_sha256"])
            frames.append(_checked_rows(path, data, chunk, columns, per_replication=table == "kpis"))
        if not frames:
            raise ChannelError(f"{folder}: no finished chunks")
        frame = pd.concat(frames, ignore_index=True)
        keys = [k for k in ("point", "replication", "month") if k in frame.columns]
        return frame.sort_values(keys, kind="stable").reset_index(drop=True), missing


def _validated_manifest(raw: Any, path: Path) -> dict[str, Any]:
    """The manifest's own fields: types, ranges, consistency with each other, and its checksum."""

    def bad(why: str) -> ChannelError:
        return ChannelError(f"{path}: {why}; this folder cannot be resumed or read, run the sweep into a new folder")

    if not isinstance(raw, dict):
        raise bad("not a sweep manifest (not a JSON object)")
    layout = raw.get("layout")
    if not _whole(layout):
        raise bad(f"layout {layout!r} is not a layout version")
    if layout < LAYOUT_VERSION:
        raise bad(
            f"written by an older version (layout {layout}, before chunks were recorded in {JOURNAL}), "
            "so its chunks cannot be proven"
        )
    if layout > LAYOUT_VERSION:
        raise bad(f"written by a newer version (layout {layout}; this version reads layout {LAYOUT_VERSION})")
    if raw.get("checksum") != _checksum(raw):
        raise bad("edited after the sweep was created (its checksum does not match its fields)")
    definition = raw.get("definition")
    if not isinstance(definition, dict) or not isinstance(definition.get("base"), dict):
        raise bad("definition is not a sweep definition")
    keys = definition.get("keys")
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise bad(f"definition.keys {keys!r} is not a list of keys")
    for name, low, high in (("n_points", 1, MAX_POINTS), ("replications", 1, None), ("seed", 0, 2**63 - 1)):
        value = definition.get(name)
        if not _whole(value) or value < low or (high is not None and value > high):
            raise bad(f"definition.{name} = {value!r} is out of range")
    if not isinstance(definition.get("points_sha256"), str):
        raise bad("definition.points_sha256 is missing")
    size = raw.get("chunk_size")
    if not _whole(size) or not 1 <= size <= definition["replications"]:
        raise bad(f"chunk_size = {size!r} must be a whole number from 1 to {definition['replications']} (replications)")
    if not isinstance(raw.get("monthly"), bool):
        raise bad(f"monthly = {raw.get('monthly')!r} must be true or false")
    expected = len(ChunkPlan(definition["n_points"], definition["replications"], size))
    if raw.get("n_chunks") != expected:
        raise bad(f"n_chunks = {raw.get('n_chunks')!r} does not fit {definition['n_points']} points x chunks of {size}")
    return raw


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _validated_record(record: Any, plan: ChunkPlan) -> dict[str, Any]:
    if not isinstance(record, dict) or set(record) != set(_RECORD_FIELDS):
        raise ValueError("unexpected fields")
    whole = _whole(record["point"]) and _whole(record["block"])
    chunk = plan.chunk(record["point"], record["block"]) if whole else None
    if chunk is None:
        raise ValueError(f"point {record['point']!r}, block {record['block']!r} is not a chunk of the design")
    if (record["chunk"], record["first"], record["stop"]) != (chunk.name, chunk.first, chunk.stop):
        raise ValueError(f"{record['chunk']!r} does not hold replications {chunk.first}-{chunk.stop - 1}")
    if record["rows"] != chunk.stop - chunk.first or not isinstance(record["sha256"], str):
        raise ValueError(f"{chunk.name}: {record['rows']!r} rows for {chunk.stop - chunk.first} replications")
    if (record["monthly_sha256"] is None) != (record["monthly_rows"] is None):
        raise ValueError(f"{chunk.name}: monthly fields disagree")
    return record


def _verified_bytes(path: Path, sha256: str) -> bytes:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ChannelError(f"cannot read {path}: {exc.strerror or exc}") from None
    if hashlib.sha256(data).hexdigest() != sha256:
        raise ChannelError(
            f"{path} is not the chunk this sweep wrote (its content changed since: damaged, edited or replaced); "
            "delete it and run the sweep again with --resume to redo that chunk"
        )
    return data


def _checked_rows(
    path: Path, data: bytes, chunk: Chunk, columns: list[str] | None, per_replication: bool
) -> pd.DataFrame:
    """A chunk's table, refused unless its rows are exactly its point and its replications."""
    try:
        frame = pd.read_parquet(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 - any unreadable file is reported the same way
        raise _damaged(path, exc) from None
    expected = np.arange(chunk.first, chunk.stop)
    ok = {"point", "replication"} <= set(frame.columns) and (frame["point"] == chunk.point).all()
    if ok:
        reps = frame["replication"].to_numpy()
        ok = np.array_equal(reps, expected) if per_replication else np.array_equal(np.unique(reps), expected)
    if not ok:
        raise ChannelError(
            f"{path} does not hold point {chunk.point}, replications {chunk.first}-{chunk.stop - 1}; "
            "delete it and run the sweep again with --resume to redo that chunk"
        )
    return frame if columns is None else frame[columns]


def _damaged(path: Path, exc: Exception) -> ChannelError:
    return ChannelError(
        f"{path} is damaged ({type(exc).__name__}); delete it and run the sweep again with --resume to redo that chunk"
    )


def _first_difference(stored: dict, new: dict, stored_monthly: Any, monthly: bool) -> str:
    if bool(stored_monthly) != bool(monthly):
        return f"monthly series {'on' if stored_monthly else 'off'} before, {'on' if monthly else 'off'} now"
    for key in ("replications", "seed", "keys", "n_points", "sampler", "ranges", "points_sha256"):
        if stored.get(key) != new.get(key):
            return f"{key}: {stored.get(key)!r} before, {new.get(key)!r} now"
    if stored.get("base") != new.get("base"):
        return "the base scenario changed"
    return "definition changed"
