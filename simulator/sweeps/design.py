"""Sweep designs: which scenario variants to run, as data.

A design is a base scenario, a table of points (one row per variant, one
column per varied dotted key), replications per point and a seed. Points come
from a grid of listed values, from Latin hypercube or scrambled Sobol samples
of ranges (``scipy.stats.qmc``), or from a CSV file. Every point is validated
when the design is made, so a bad value is reported before anything runs.

Common random numbers: replication ``r`` of every point draws from the same
stream (it is keyed by ``seed`` and ``r`` only), so differences between points
are differences of the scenarios, not of the draws.
"""

from __future__ import annotations

import csv as csvlib
import hashlib
import io
import itertools
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ChannelError, ScenarioError
from ..scenario import Scenario, load_scenario
from ..scenario.keys import dotted_key, keyword_key
from ..scenario.loading import ScenarioLike
from ..scenario.yaml_io import parse_yaml
from ..validation import POSITIVE_COUNT, SEED

SAMPLERS = ("grid", "lhs", "sobol", "csv", "points")
MAX_POINTS = 1_000_000  # points per sweep: beyond this the design itself is a mistake (and its table huge)
MAX_WHOLE = 2**53  # whole numbers beyond this are not exact as read from text or floats


override_name = keyword_key  # ``program.levers[0].intensity`` -> ``program__levers__0__intensity``


def is_integer_key(base: Scenario, key: str) -> bool:
    """Whether a key holds whole numbers in the base scenario (sampled values get rounded)."""
    value = base.get(key)
    return isinstance(value, int) and not isinstance(value, bool)


def point_scenario(base: Scenario, values: Mapping[str, Any]) -> Scenario:
    """The base scenario with one point's values applied."""
    return load_scenario(base, **{override_name(k): _plain(v) for k, v in values.items()})


def _plain(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


@dataclass(frozen=True, eq=False)
class SweepDesign:
    """A sweep as data: base scenario, points, replications per point, seed.

    ``points`` has one row per point (index ``point`` = 0..n-1) and one column
    per varied key. Build designs with :meth:`grid`, :meth:`latin_hypercube`,
    :meth:`sobol`, :meth:`from_csv` or :meth:`from_points`.
    """

    base: Scenario
    points: pd.DataFrame
    replications: int
    seed: int = 0
    sampler: str = "points"
    ranges: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "replications", POSITIVE_COUNT("replications", self.replications))
        object.__setattr__(self, "seed", SEED("seed", self.seed))
        if len(self.points) == 0:
            raise ChannelError("the sweep has no points")
        _check_point_count(len(self.points))
        _check_keys(self.keys)
        self._validate_points()

    def _validate_points(self) -> None:
        """Refuse a bad point before anything runs: every point is validated (each distinct one once)."""
        for key in self.keys:
            for i, value in enumerate(self.points[key].to_numpy()):
                if not _is_scalar(value):
                    raise ChannelError(
                        f"point {i}: {key} = {_short(value)} is a {type(value).__name__}; a swept key takes numbers, "
                        "text or true/false (sweep a list item by its position, e.g. program.levers[0].intensity)"
                    )
        seen: set[tuple] = set()
        for i, row in enumerate(self.points.to_dict("records")):
            plain = tuple((k, _plain(v)) for k, v in row.items())
            if plain not in seen:
                seen.add(plain)
                self._check(row, f"point {i}")

    def _check(self, values: Mapping[str, Any], where: str) -> None:
        try:
            point_scenario(self.base, values)
        except ScenarioError as exc:
            raise ScenarioError(f"{where} ({_describe(values)}): {exc}") from None

    # -- constructors --------------------------------------------------------

    @classmethod
    def grid(
        cls,
        base: ScenarioLike,
        values: Mapping[str, Sequence[Any]],
        replications: int = 100,
        seed: int = 0,
    ) -> SweepDesign:
        """Every combination of the listed values (full factorial)."""
        scn = load_scenario(base)
        if not values:
            raise ChannelError("a grid needs at least one key with values")
        _check_keys(list(values))  # before spellings are merged: two spellings of one key are refused
        values = {dotted_key(k): v for k, v in values.items()}
        for key, vals in values.items():
            scn.get(key)  # the key must exist in the scenario
            if isinstance(vals, str) or not isinstance(vals, Sequence) or len(vals) == 0:
                raise ChannelError(f"grid {key}: give a non-empty list of values")
            for value in vals:
                if not _is_scalar(value):
                    raise ChannelError(
                        f"grid {key}: the value {_short(value)} is a {type(value).__name__}; a swept key takes "
                        "numbers, text or true/false (sweep a list item by its position, "
                        "e.g. program.levers[0].intensity)"
                    )
        # The product is refused before it is made: a few long value lists can multiply past any memory.
        _check_point_count(math.prod(len(v) for v in values.values()), "the grid has")
        rows = [dict(zip(values, combo, strict=True)) for combo in itertools.product(*values.values())]
        return cls(
            scn,
            _table(rows, list(values)),
            int(replications),
            int(seed),
            "grid",
            {k: list(map(_plain, v)) for k, v in values.items()},
        )

    @classmethod
    def latin_hypercube(
        cls,
        base: ScenarioLike,
        ranges: Mapping[str, tuple[float, float]],
        points: int,
        replications: int = 100,
        seed: int = 0,
    ) -> SweepDesign:
        """``points`` Latin hypercube samples of the ranges (scipy.stats.qmc)."""
        return cls._sampled("lhs", base, ranges, points, replications, seed)

    @classmethod
    def sobol(
        cls,
        base: ScenarioLike,
        ranges: Mapping[str, tuple[float, float]],
        points: int,
        replications: int = 100,
        seed: int = 0,
    ) -> SweepDesign:
        """``points`` scrambled Sobol samples of the ranges (best with a power of two)."""
        return cls._sampled("sobol", base, ranges, points, replications, seed)

    @classmethod
    def _sampled(
        cls,
        sampler: str,
        base: ScenarioLike,
        ranges: Mapping[str, tuple[float, float]],
        points: int,
        replications: int,
        seed: int,
    ) -> SweepDesign:
        from scipy.stats import qmc

        scn, bounds = _ranges(base, ranges, points)
        if sampler == "lhs":
            unit = qmc.LatinHypercube(d=len(bounds), seed=np.random.default_rng([seed, 1])).random(points)
        else:
            sobol = qmc.Sobol(d=len(bounds), scramble=True, seed=np.random.default_rng([seed, 2]))
            unit = sobol.random_base2(int(np.ceil(np.log2(points))))[:points]  # a balanced prefix
        return cls(scn, _scaled(scn, bounds, unit), int(replications), int(seed), sampler, _bounds_spec(bounds))

    @classmethod
    def from_csv(cls, base: ScenarioLike, path: str | Path, replications: int = 100, seed: int = 0) -> SweepDesign:
        """Points listed in a CSV file: one column per dotted key, one row per point."""
        p = Path(path)
        table = _read_points_csv(p)
        table = table.drop(columns=[c for c in ("point",) if c in table.columns])
        _check_keys([str(c) for c in table.columns])
        table.columns = [dotted_key(str(c)) for c in table.columns]
        scn = load_scenario(base)
        for key in table.columns:
            scn.get(str(key))
            if is_integer_key(scn, str(key)):
                table[key] = _whole_column(table[key], f"{p}: column {key}")
        rows = table.to_dict("records")
        return cls(scn, _table(rows, list(table.columns)), int(replications), int(seed), "csv")

    @classmethod
    def from_points(
        cls,
        base: ScenarioLike,
        points: pd.DataFrame | Sequence[Mapping[str, Any]],
        replications: int = 100,
        seed: int = 0,
    ) -> SweepDesign:
        """Explicit points (a DataFrame or a list of ``{key: value}`` dicts)."""
        scn = load_scenario(base)
        table = pd.DataFrame(list(points)) if not isinstance(points, pd.DataFrame) else points.copy()
        table.columns = [dotted_key(str(c)) for c in table.columns]
        for key in table.columns:
            scn.get(str(key))
        return cls(scn, _table(table.to_dict("records"), list(table.columns)), int(replications), int(seed))

    # -- views -----------------------------------------------------------------

    @property
    def keys(self) -> list[str]:
        """The varied keys (columns of ``points``)."""
        return [str(c) for c in self.points.columns]

    def values(self, point: int) -> dict[str, Any]:
        """The varied keys' values at one point (each with its column's type)."""
        row = self.points.iloc[[int(point)]].to_dict("records")[0]
        return {str(k): _plain(v) for k, v in row.items()}

    def scenario(self, point: int) -> Scenario:
        """The scenario of one point."""
        return point_scenario(self.base, self.values(point))

    def definition(self) -> dict[str, Any]:
        """Everything that determines the results (compared on resume)."""
        return {
            "base": self.base.to_dict(),
            "keys": self.keys,
            "points_sha256": points_digest(self.points),
            "n_points": len(self.points),
            "replications": int(self.replications),
            "seed": int(self.seed),
            "sampler": self.sampler,
            "ranges": self.ranges,
        }


def points_digest(points: pd.DataFrame) -> str:
    rows = [{k: _plain(v) for k, v in r.items()} for r in points.to_dict("records")]
    text = json.dumps(rows, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _table(rows: list[dict[str, Any]], keys: list[str]) -> pd.DataFrame:
    table = pd.DataFrame(rows, columns=keys)
    table.index = pd.RangeIndex(len(table), name="point")
    return table


def _ranges(base: ScenarioLike, ranges: Mapping[str, tuple[float, float]], points: int):  # noqa: ANN202
    scn = load_scenario(base)
    if not ranges:
        raise ChannelError("give at least one key=low:high range")
    if isinstance(points, bool) or not isinstance(points, int | np.integer) or points < 1:
        raise ChannelError(f"--points {points!r}: must be a whole number >= 1")
    _check_point_count(int(points), "--points asks for")
    _check_keys(list(ranges))
    bounds = {}
    for key, pair in ((dotted_key(k), v) for k, v in ranges.items()):
        value = scn.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ChannelError(f"{key} = {value!r} is not a number; only numeric keys can take a range")
        lo, hi = (float(x) for x in pair)
        if not np.isfinite([lo, hi]).all() or not lo < hi:
            raise ChannelError(f"{key}: range {lo:g}:{hi:g} must have low < high")
        if is_integer_key(scn, key) and math.ceil(lo) > math.floor(hi):
            raise ChannelError(f"{key}: range {lo:g}:{hi:g} holds no whole number, and {key} takes whole numbers")
        bounds[key] = (lo, hi)
    return scn, bounds


def _scaled(scn: Scenario, bounds: dict[str, tuple[float, float]], unit: np.ndarray) -> pd.DataFrame:
    lo = np.array([b[0] for b in bounds.values()])
    hi = np.array([b[1] for b in bounds.values()])
    values = lo + unit * (hi - lo)
    columns = {}
    for j, key in enumerate(bounds):
        col = values[:, j]
        # Whole-number keys (counts, months) take the nearest whole number in range.
        columns[key] = (
            np.clip(np.round(col), np.ceil(lo[j]), np.floor(hi[j])).astype("int64") if is_integer_key(scn, key) else col
        )
    table = pd.DataFrame(columns)
    table.index = pd.RangeIndex(len(table), name="point")
    return table


def _bounds_spec(bounds: dict[str, tuple[float, float]]) -> dict[str, list[float]]:
    return {k: [float(lo), float(hi)] for k, (lo, hi) in bounds.items()}


def _describe(row: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={_short(_plain(v))}" for k, v in row.items())


def _short(value: Any) -> str:
    from ..errors import bounded_repr

    return bounded_repr(value)


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | bool | int | float | np.integer | np.floating | np.bool_)


def _check_point_count(n: int, what: str = "the sweep has") -> None:
    if n > MAX_POINTS:
        raise ChannelError(f"{what} {n:,} points; a sweep may have at most {MAX_POINTS:,} (split it into several)")


def _check_keys(keys: Sequence[str]) -> None:
    """Each key at most once (``a.b[0]`` and ``a.b.0`` are the same key)."""
    seen: dict[str, str] = {}
    for key in keys:
        name = override_name(str(key))
        if name in seen:
            raise ChannelError(f"the key {key} is given twice (as {seen[name]} and {key}); give each key once")
        seen[name] = str(key)


def _read_points_csv(p: Path) -> pd.DataFrame:
    """A points CSV, refused unless every row has exactly the header's fields and every header is new."""
    if not p.is_file():
        raise ChannelError(f"points file not found: {p}")
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ChannelError(f"cannot read {p}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ChannelError(f"{p}: not a UTF-8 text file") from None
    try:
        rows = list(csvlib.reader(io.StringIO(text)))
    except csvlib.Error as exc:
        raise ChannelError(f"{p}: not a readable CSV file ({exc})") from None
    rows = [r for r in rows if r]  # blank lines
    if not rows:
        raise ChannelError(f"{p}: the file is empty; give a header line of keys and one row per point")
    header = [h.strip() for h in rows[0]]
    for i, name in enumerate(header):
        if not name:
            raise ChannelError(f"{p}: column {i + 1} of the header has no key")
        if name in header[:i]:
            raise ChannelError(f"{p}: the column {name} appears twice in the header; give each key once")
    for number, row in enumerate(rows[1:], 2):
        if len(row) != len(header):
            raise ChannelError(
                f"{p}: row {number} has {len(row)} fields, the header has {len(header)} "
                f"({', '.join(header)}); a comma too many or too few?"
            )
    _check_point_count(len(rows) - 1, f"{p} has")
    try:
        return pd.read_csv(io.StringIO(text), index_col=False, skip_blank_lines=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise ChannelError(f"{p}: not a readable CSV file ({str(exc).splitlines()[0]})") from None


def _whole_column(col: pd.Series, where: str) -> pd.Series:
    """A column of whole numbers as int64, refused at its first cell that is not one (text, inf, 2.5, 1e20)."""
    numbers = pd.to_numeric(col, errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(numbers) | (np.abs(numbers) > MAX_WHOLE)
    bad |= ~bad & (numbers != np.round(numbers))
    if bad.any():
        i = int(np.argmax(bad))
        raise ChannelError(
            f"{where}, row {i + 2}: {_short(_plain(col.iloc[i]))} is not a whole number "
            f"(the key takes whole numbers up to {MAX_WHOLE:,})"
        )
    return pd.Series(numbers.astype("int64"), index=col.index, name=col.name)


# -- command-line parsing ---------------------------------------------------------


def parse_grid(items: Sequence[str]) -> dict[str, list[Any]]:
    """``["key=v1,v2", ...]`` -> ``{key: [v1, v2]}`` (values read as YAML scalars)."""
    out: dict[str, list[Any]] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key or not raw.strip():
            raise ChannelError(f"--grid {item!r}: expected key=v1,v2,... e.g. activation.window_months=3,6,9")
        if key in out:
            raise ChannelError(f"--grid {key} is given twice; give each key once, with all its values")
        if raw.strip()[:1] in "[{":
            raise ChannelError(
                f"--grid {key}: list or mapping values cannot be swept; sweep one item by its position, "
                "e.g. --grid program.levers[0].intensity=0.5,1"
            )
        out[key] = [parse_yaml(v.strip(), f"--grid {key}") for v in raw.split(",") if v.strip()]
    return out


def parse_ranges(items: Sequence[str], flag: str) -> dict[str, tuple[float, float]]:
    """``["key=lo:hi", ...]`` -> ``{key: (lo, hi)}``."""
    out: dict[str, tuple[float, float]] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        lo, colon, hi = raw.partition(":")
        if key.strip() in out:
            raise ChannelError(f"{flag} {key.strip()} is given twice; give each key one range")
        try:
            if not sep or not colon:
                raise ValueError
            out[key.strip()] = (float(lo), float(hi))
        except ValueError:
            raise ChannelError(f"{flag} {item!r}: expected key=low:high, e.g. recruitment.win_share=0.1:0.4") from None
    return out
