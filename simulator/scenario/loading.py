"""Loading scenarios: files, dicts, overrides, and one-line errors.

Overrides address nested keys the way scikit-learn addresses nested
parameters: ``activation__window_months=9`` as a Python keyword,
``activation.window_months=9`` on the command line. List items are addressed
by position (``program__levers__0__months=[1, 12]``).
"""

from __future__ import annotations

import copy
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from ..errors import ScenarioError, did_you_mean, one_of
from .keys import dotted_key, key_parts, keyword_key
from .schema import FrozenDict, Scenario
from .sources import Source, dotted, from_comment, replace_under, under
from .yaml_io import key_lines, parse_yaml, read_scenario_text

ScenarioLike = Scenario | Mapping[str, Any] | str | Path


def load_scenario(source: ScenarioLike, /, **overrides: Any) -> Scenario:
    """Read and validate a scenario.

    ``source`` is a YAML file path, a plain dict, or a :class:`Scenario`.
    Overrides are ``section__key=value`` keywords (``horizon_months=24``,
    ``activation__window_months=9``, ``market__segments__msp__share=0.3``).
    Raises :class:`~simulator.errors.ScenarioError` with a one-line message
    naming the key, the value and what is allowed.

    The scenario records where each value came from (``scenario.sources``, see
    :mod:`simulator.scenario.sources`): the file and line, a base file, an
    override (these keywords or ``--set``) or, for keys nobody set, the
    engine's default. A dict records no sources.
    """
    sources: dict[str, Source] = {}
    if isinstance(source, Scenario):
        data = source.to_dict()
        sources = dict(source.sources)
        origin = source.name
    elif isinstance(source, Mapping):
        data = _thaw(source)
        origin = "scenario"  # no sources: plain data says nothing of where its values came from
    elif isinstance(source, str | Path):
        data, sources = read_file(Path(source))
        origin = str(source)
    else:
        raise ScenarioError(
            f"cannot read a scenario from a {type(source).__name__}; give a YAML path, a dict or a Scenario"
        )
    if not isinstance(data, dict):
        raise ScenarioError(
            f"{origin} must be a mapping of sections (market:, channel:, ...), not a {_yaml_type(data)}"
        )
    for key, value in overrides.items():
        set_key(data, key_parts(key), _plain_value(value))
        sources = replace_under(sources, dotted(key_parts(key)), Source("override"))
    scenario = validate(data)
    # private attributes, not part of the value
    scenario._sources = FrozenDict(sources)
    scenario._notes = FrozenDict({k: s.note for k, s in sources.items() if s.note and s.origin != "override"})
    return scenario


def _display_path(path: Path) -> str:
    """A file as a reader finds it: relative to the working folder when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(path)


MAX_EXTENDS = 8


def read_file(path: Path, chain: tuple[Path, ...] = ()) -> tuple[Any, dict[str, Source]]:
    """Plain data of a scenario file, with ``extends:`` resolved, and the source of every key.

    ``extends: baseline.yaml`` (relative to the file) starts from another
    scenario file: its mappings are merged key by key, and any other value
    (a number, a list such as ``program.levers``) replaces the base's. Keys
    written in this file are its own (with their comments); the others are
    ``base file`` entries of the file that set them.
    """
    text = read_scenario_text(path)
    data = parse_yaml(text, str(path))
    if data is None:
        raise ScenarioError(f"{path} is empty; a scenario needs at least a name")
    shown = _display_path(path)
    sources = {key: from_comment("file", shown, line, note) for key, (line, note) in key_lines(text).items()}
    sources.pop("extends", None)
    if not isinstance(data, dict):
        return data, sources
    data.setdefault("name", path.stem)
    _resolve_paths(data, path.parent)
    base = data.pop("extends", None)
    if base is None:
        return data, sources
    if not isinstance(base, str) or not base.strip():
        raise ScenarioError("must name a scenario file, e.g. extends: baseline.yaml", "extends", base)
    if "\x00" in base:
        raise ScenarioError(f"{path}: a file name cannot hold a NUL character", "extends", base)
    try:
        target = (path.parent / base).resolve()
    except (OSError, RuntimeError) as exc:  # a symlink loop (RuntimeError before Python 3.13)
        raise ScenarioError(f"{path}: {base} cannot be followed ({exc})", "extends") from None
    if target in chain or target == path.resolve():
        raise ScenarioError(f"{path}: extends {base} again (a cycle)", "extends")
    if len(chain) >= MAX_EXTENDS:
        raise ScenarioError(f"more than {MAX_EXTENDS} files extend each other", "extends")
    base_data, base_sources = read_file(target, (*chain, path.resolve()))
    if not isinstance(base_data, dict):
        raise ScenarioError(f"{base} is not a mapping of sections", "extends")
    base_data.pop("description", None)  # a description belongs to its own file
    inherited = {
        k: s if s.origin != "file" else Source("base file", s.file, s.line, s.note)
        for k, s in base_sources.items()
        if not under(k, "description")
    }
    # A value this file sets replaces the base's whole (a list, a number); a section only merges.
    for key in _replaced_keys(data):
        inherited = {k: s for k, s in inherited.items() if not under(k, key)}
    return _merge(base_data, data), {**inherited, **sources}


def _replaced_keys(data: dict[str, Any], path: str = "") -> list[str]:
    """Dotted keys whose value (not a mapping) replaces the base's when merged."""
    out: list[str] = []
    for key, value in data.items():
        child = f"{path}.{key}" if path else str(key)
        out.extend(_replaced_keys(value, child) if isinstance(value, dict) else [child])
    return out


#: Keys that name a file, read relative to the scenario file that names it.
FILE_KEYS = (("channel", "partner_list"), ("market", "prospect_list"))


def _resolve_paths(data: dict[str, Any], folder: Path) -> None:
    """Make the file names a scenario gives (``channel.partner_list``) relative to its own folder."""
    for section, key in FILE_KEYS:
        node = data.get(section)
        if isinstance(node, dict) and isinstance(node.get(key), str) and node[key].strip():
            given = Path(node[key].strip())
            node[key] = str(given if given.is_absolute() else (folder / given))


def _merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in top.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def parse_assignment(text: str) -> tuple[str, Any]:
    """Parse a command-line override ``section.key=value`` (value read as YAML)."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ScenarioError(f"--set {text!r}: expected key=value, e.g. activation.window_months=9")
    value = parse_yaml(raw, f"--set {key}") if raw.strip() else None
    if raw.strip() and value is None and raw.strip() not in ("null", "~"):
        value = raw
    return dotted_key(key), value


def apply_assignments(scenario: ScenarioLike, assignments: list[str] | None) -> Scenario:
    """Load a scenario with command-line ``key=value`` overrides."""
    pairs = [parse_assignment(a) for a in assignments or []]
    return load_scenario(scenario, **{keyword_key(k): v for k, v in pairs})


def set_key(data: dict[str, Any], path: list[str], value: Any) -> None:
    """Set a nested key in plain scenario data, creating sections as needed."""
    node: Any = data
    for i, part in enumerate(path):
        last = i == len(path) - 1
        where = dotted_key(path[: i + 1])
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise ScenarioError(f"no item {part!r}; the list has {len(node)} item(s), numbered from 0", where)
            if last:
                node[int(part)] = value
            else:
                node = node[int(part)]
            continue
        if not isinstance(node, dict):
            raise ScenarioError(f"cannot set a key inside a {_yaml_type(node)}", where)
        if last:
            node[part] = value
        else:
            if not isinstance(node.get(part), dict | list):
                if path[i + 1].isdigit():  # an item of a list that is not there
                    raise ScenarioError(f"no item {path[i + 1]}; the list has 0 item(s)", where)
                node[part] = {}
            node = node[part]


def validate(data: dict[str, Any]) -> Scenario:
    """Validate plain data into a Scenario, turning errors into one line."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise _one_line(exc, data) from None


# -- error messages ---------------------------------------------------------


def _one_line(exc: ValidationError, data: dict[str, Any]) -> ScenarioError:
    errors = exc.errors(include_url=False)
    first = errors[0]
    loc = tuple(first["loc"])
    more = f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})" if len(errors) > 1 else ""
    inner = (first.get("ctx") or {}).get("error")
    if isinstance(inner, ScenarioError):
        key = _join(loc + tuple(key_parts(inner.key)) if inner.key else loc)
        return ScenarioError(f"{inner.problem}{more}", key or None)
    key = _join(loc)
    kind = first["type"]
    value = first.get("input")
    if kind == "extra_forbidden":
        allowed = _fields_at(loc[:-1])
        name = str(loc[-1])
        return ScenarioError(
            f"unknown key{did_you_mean(name, allowed)}; allowed here: {one_of(allowed)}{more}",
            key,
        )
    if kind == "missing":
        if loc and isinstance(loc[-1], int):  # a short tuple such as months: [5]
            return ScenarioError(f"must be a list of two months, [first, last]{more}", _join(loc[:-1]))
        return ScenarioError(f"required key is missing{more}", key)
    return ScenarioError(f"{_problem(first, loc)}{more}", key, value)


def _problem(error: dict[str, Any], loc: tuple) -> str:
    kind = error["type"]
    expected = {
        "float_type": "must be a number",
        "int_type": "must be a whole number",
        "bool_type": "must be true or false",
        "string_type": "must be text",
        "dict_type": "must be a mapping (key: value lines)",
        "tuple_type": "must be a list",
        "list_type": "must be a list",
        "model_type": "must be a mapping (key: value lines)",
        "model_attributes_type": "must be a mapping (key: value lines)",
        "finite_number": "must be a finite number",
        "literal_error": "is not allowed",
        "too_short": "is too short",
        "too_long": "is too long",
        "int_from_float": "must be a whole number",
        "int_parsing": "must be a whole number",
        "float_parsing": "must be a number",
    }
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        ctx = error.get("ctx") or {}
        sign = {"ge": ">=", "le": "<=", "gt": ">", "lt": "<"}
        fallback = " and ".join(f"must be {sign[k]} {_num(v)}" for k, v in ctx.items() if k in sign)
        return f"out of range; it {_allowed_range(loc) or fallback}"
    text = expected.get(kind, error["msg"].replace("Input should be", "must be"))
    if kind == "literal_error":
        return f"is not allowed; {error['msg'].replace('Input should be', 'use')}"
    if kind in ("too_short", "too_long") and "tuple" in error["msg"].lower():
        return "must be a list of two months, [first, last]"
    allowed = _allowed_range(loc)
    return f"{text}{f'; it {allowed}' if allowed else ''}"


def _allowed_range(loc: tuple) -> str | None:
    """Describe the allowed values of the field at ``loc`` from its constraints."""
    info = _field_info(loc)
    if info is None:
        return None
    if not info.metadata:  # Optional[...] keeps the constraints on the inner type
        info = _inner_constraints(info.annotation) or info
    lo = hi = None
    lo_open = hi_open = False
    for meta in info.metadata:
        for attr, is_lo, open_ in (("ge", True, False), ("gt", True, True), ("le", False, False), ("lt", False, True)):
            bound = getattr(meta, attr, None)
            if bound is not None:
                if is_lo:
                    lo, lo_open = bound, open_
                else:
                    hi, hi_open = bound, open_
    if lo is None and hi is None:
        return None
    if lo is not None and hi is not None:
        if lo == 0 and hi == 1 and not lo_open and not hi_open:
            return "must be between 0 and 1"
        return f"must be {'>' if lo_open else '>='} {_num(lo)} and {'<' if hi_open else '<='} {_num(hi)}"
    if lo is not None:
        return f"must be {'>' if lo_open else '>='} {_num(lo)}"
    return f"must be {'<' if hi_open else '<='} {_num(hi)}"


def _num(x: float) -> str:
    return f"{int(x):,}" if float(x).is_integer() else f"{x:g}"


def _field_info(loc: tuple):  # noqa: ANN202 - pydantic FieldInfo
    """The constraints of the value at an error location, following nested models."""
    model: Any = Scenario
    annotation: Any = None
    info = None
    for part in loc:
        if _is_model(model) and str(part) in model.model_fields:
            info = model.model_fields[str(part)]
            annotation = info.annotation
            model = _model_in(annotation)
        elif model is None and annotation is not None:
            # an item of a dict or list of numbers: its constraints sit on the item type
            info = _inner_constraints(annotation)
            annotation = None
    return info


def _is_model(value: Any) -> bool:
    return isinstance(value, type) and issubclass(value, BaseModel)


def _model_in(annotation: Any) -> Any:
    """The BaseModel class inside an annotation (Optional, dict values, tuples)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _inner_constraints(annotation: Any):  # noqa: ANN202
    """FieldInfo-like constraints of the innermost Annotated number, if any."""
    from pydantic.fields import FieldInfo

    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        base, *extras = typing.get_args(annotation)
        infos = [e for e in extras if isinstance(e, FieldInfo)]
        if infos and base in (int, float):
            return infos[0]
        return _inner_constraints(base)
    for arg in typing.get_args(annotation):
        if arg is type(None):
            continue
        found = _inner_constraints(arg)
        if found is not None:
            return found
    return None


def _fields_at(loc: tuple) -> list[str]:
    """Names allowed at a location (for 'did you mean')."""
    model: Any = Scenario
    for part in loc:
        if _is_model(model) and str(part) in model.model_fields:
            model = _model_in(model.model_fields[str(part)].annotation)
    return list(model.model_fields) if _is_model(model) else []


def _join(loc: tuple) -> str:
    parts = [str(p) for p in loc if p not in ("", None)]
    return dotted_key(parts) if parts else ""


def _plain_value(value: Any) -> Any:
    """numpy numbers and arrays as the Python values a scenario file would hold (np.int64(12) -> 12)."""
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, list | tuple):
        return [_plain_value(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _plain_value(v) for k, v in value.items()}
    return value


def _yaml_type(value: Any) -> str:
    return {list: "list", str: "string", int: "number", float: "number", bool: "boolean"}.get(
        type(value), type(value).__name__
    )


def _thaw(value: Any) -> Any:
    """Deep plain copy of mappings/sequences (FrozenDict and tuples become dict and list)."""
    if isinstance(value, Mapping):
        return {k: _thaw(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_thaw(v) for v in value]
    if isinstance(value, types.MappingProxyType):
        return dict(value)
    return copy.copy(value)
