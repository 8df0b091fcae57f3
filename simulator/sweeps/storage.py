"""Sweep storage: a Parquet dataset of finished chunks, plus a manifest.

Layout of an output folder::

    manifest.json       what the sweep is (compared on --resume)
    points.parquet      the design's points
    kpis/chunk-<point>-<block>.parquet      horizon figures, one row per replication
    monthly/chunk-<point>-<block>.parquet   monthly series (only with monthly=True)

Every file is written to a hidden temporary name and renamed into place, so a
file that exists is complete; a chunk counts as finished when its ``kpis``
file exists (it is written last). File names come from chunk indices only,
never from scenario content, so nothing can be written outside the folder.
"""

from __future__ import annotations

import io
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import ChannelError
from .design import SweepDesign

LAYOUT_VERSION = 1
_CHUNK = re.compile(r"^chunk-(\d+)-(\d+)\.parquet$")


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


def chunks_of(design: SweepDesign, chunk_size: int) -> list[Chunk]:
    """All chunks of a design, point by point."""
    out = []
    for point in range(len(design.points)):
        for block, first in enumerate(range(0, design.replications, chunk_size)):
            out.append(Chunk(point, block, first, min(first + chunk_size, design.replications)))
    return out


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


def atomic_write_parquet(path: Path, table: pd.DataFrame) -> None:
    buffer = io.BytesIO()
    table.to_parquet(buffer, index=False)
    atomic_write_bytes(path, buffer.getvalue())


class SweepStore:
    """The output folder of one sweep."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.kpi_dir = self.folder / "kpis"
        self.monthly_dir = self.folder / "monthly"
        self.manifest_path = self.folder / "manifest.json"

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
            store.remove_leftovers()
            stored = manifest.get("definition", {})
            if stored != definition or bool(manifest.get("monthly")) != bool(monthly):
                raise ChannelError(
                    f"--resume: the sweep in {store.folder} was defined differently "
                    f"({_first_difference(stored, definition, manifest.get('monthly'), monthly)}); "
                    "run it with the same definition or choose another --out"
                )
            return store, int(manifest["chunk_size"])
        if store.folder.exists() and not store.folder.is_dir():
            raise ChannelError(f"--out {store.folder}: exists and is not a folder")
        if store.folder.exists() and any(store.folder.iterdir()) and not resume:
            raise ChannelError(f"--out {store.folder}: the folder is not empty; choose a new or empty folder")
        try:
            store.kpi_dir.mkdir(parents=True, exist_ok=True)
            if monthly:
                store.monthly_dir.mkdir(exist_ok=True)
            atomic_write_parquet(store.folder / "points.parquet", design.points.reset_index())
            manifest = {
                "layout": LAYOUT_VERSION,
                "definition": definition,
                "chunk_size": int(chunk_size),
                "monthly": bool(monthly),
                "n_chunks": len(chunks_of(design, chunk_size)),
            }
            atomic_write_bytes(store.manifest_path, json.dumps(manifest, indent=1, sort_keys=True).encode())
        except OSError as exc:
            raise ChannelError(f"cannot write the sweep to {store.folder}: {exc.strerror or exc}") from None
        return store, int(chunk_size)

    def manifest(self) -> dict[str, Any]:
        try:
            return json.loads(self.manifest_path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise ChannelError(f"{self.manifest_path}: not a readable sweep manifest ({exc})") from None

    def remove_leftovers(self) -> None:
        """Delete temporary files a killed run left half-written (never counted as chunks)."""
        for folder in (self.kpi_dir, self.monthly_dir, self.folder):
            if folder.is_dir():
                for leftover in folder.glob(".tmp-*"):
                    leftover.unlink(missing_ok=True)

    # -- chunks ---------------------------------------------------------------------

    def finished(self, check: bool = False) -> set[tuple[int, int]]:
        """(point, block) of every chunk whose results are on disk.

        ``check`` reads each file's Parquet footer too (done on resume), so a
        damaged file is reported instead of being counted as finished.
        """
        if not self.kpi_dir.is_dir():
            return set()
        done = set()
        for entry in os.scandir(self.kpi_dir):
            m = _CHUNK.match(entry.name)
            if m:
                if check:
                    _check_parquet(Path(entry.path))
                    if (self.monthly_dir / entry.name).exists():
                        _check_parquet(self.monthly_dir / entry.name)
                done.add((int(m.group(1)), int(m.group(2))))
        return done

    def write(self, chunk: Chunk, kpis: pd.DataFrame, monthly: pd.DataFrame | None) -> None:
        """Store a finished chunk: monthly first, then the kpis file that marks it finished."""
        try:
            if monthly is not None:
                atomic_write_parquet(self.monthly_dir / chunk.name, monthly)
            atomic_write_parquet(self.kpi_dir / chunk.name, kpis)
        except OSError as exc:
            raise ChannelError(
                f"cannot write results to {self.folder}: {exc.strerror or exc}; "
                "the chunks already finished are kept (rerun with --resume)"
            ) from None

    # -- reading -----------------------------------------------------------------------

    def points(self) -> pd.DataFrame:
        return pd.read_parquet(self.folder / "points.parquet").set_index("point")

    def read(self, table: str = "kpis", columns: list[str] | None = None) -> pd.DataFrame:
        """A table of the sweep (``kpis`` or ``monthly``), sorted by point, replication (and month)."""
        folder = self.kpi_dir if table == "kpis" else self.monthly_dir
        files = sorted(p for p in folder.glob("chunk-*.parquet")) if folder.is_dir() else []
        if not files:
            raise ChannelError(f"{folder}: no finished chunks")
        frame = pd.concat((_read_chunk(f, columns) for f in files), ignore_index=True)
        keys = [k for k in ("point", "replication", "month") if k in frame.columns]
        return frame.sort_values(keys, kind="stable").reset_index(drop=True)


def _damaged(path: Path, exc: Exception) -> ChannelError:
    return ChannelError(
        f"{path} is damaged ({type(exc).__name__}); delete it and run the sweep again with --resume to redo that chunk"
    )


def _check_parquet(path: Path) -> None:
    import pyarrow.parquet as pq

    try:
        pq.read_metadata(path)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is reported the same way
        raise _damaged(path, exc) from None


def _read_chunk(path: Path, columns: list[str] | None) -> pd.DataFrame:
    try:
        return pd.read_parquet(path, columns=columns)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is reported the same way
        raise _damaged(path, exc) from None


def _first_difference(stored: dict, new: dict, stored_monthly: Any, monthly: bool) -> str:
    if bool(stored_monthly) != bool(monthly):
        return f"monthly series {'on' if stored_monthly else 'off'} before, {'on' if monthly else 'off'} now"
    for key in ("replications", "seed", "keys", "n_points", "sampler", "ranges", "points_sha256"):
        if stored.get(key) != new.get(key):
            return f"{key}: {stored.get(key)!r} before, {new.get(key)!r} now"
    if stored.get("base") != new.get("base"):
        return "the base scenario changed"
    return "definition changed"
