"""Safe YAML reading for scenario files.

Only :class:`yaml.SafeLoader` is ever used, with three changes:

* YAML 1.2 scalars: ``1e3`` is a number, ``yes``/``no``/``on``/``off`` are
  strings, ``012`` is twelve and dates stay strings (PyYAML follows YAML 1.1);
* limits on size, nesting depth and alias expansion, so a hostile file fails
  fast with a clear message instead of exhausting memory or the stack: the
  composed node graph is measured as it would be expanded (every alias charged
  with the whole of what it refers to, whatever the tag) before anything is
  constructed;
* only plain YAML's tags (mappings, lists, strings, numbers, booleans, null);
  ``!!set``, ``!!omap``, ``!!pairs``, ``!!binary`` and ``!!timestamp`` are
  refused like any unknown tag, and every error while reading, parsing or
  constructing (``!!int abc``, a control character, a 5,000-digit number)
  is one :class:`~simulator.errors.ScenarioError` naming the source and line;
* comments are kept as source notes: ``key: value  # note`` is read back as
  ``{"section.key": "note"}`` for the report's assumptions appendix.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from ..errors import ScenarioError

MAX_FILE_BYTES = 1_000_000  # a scenario is a few kB; a larger file is a mistake
MAX_DEPTH = 32
MAX_NODES = 100_000  # after alias expansion
MAX_TEXT = 10 * MAX_FILE_BYTES  # characters of all scalars, after alias expansion
MAX_DIGITS = 30  # of a whole number: no scenario key needs more, and Python refuses to parse past 4,300
_PLAIN_TAGS = {f"tag:yaml.org,2002:{t}" for t in ("null", "bool", "int", "float", "str", "seq", "map", "merge")}


class _ScenarioLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 core-schema scalars and size limits."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node | None:
        self._depth += 1
        if self._depth > MAX_DEPTH:
            mark = self.peek_event().start_mark
            raise ScenarioError(f"line {mark.line + 1}: the scenario is nested more than {MAX_DEPTH} levels deep")
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _refuse_duplicate_keys(loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: dict[object, int] = {}
    for key_node, _ in node.value:
        key = key_node.value if isinstance(key_node, yaml.ScalarNode) else id(key_node)
        if key in seen:
            raise ScenarioError(
                f"line {key_node.start_mark.line + 1}: key {key!r} appears twice in the same mapping "
                f"(first on line {seen[key] + 1}); keep one"
            )
        seen[key] = key_node.start_mark.line
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


_ScenarioLoader.construct_mapping = _refuse_duplicate_keys  # type: ignore[method-assign]
_ScenarioLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag in ("tag:yaml.org,2002:null", "tag:yaml.org,2002:merge")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
for _tag, _regex, _first in (
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("tag:yaml.org,2002:int", r"^(?:[-+]?[0-9][0-9_]*|0o[0-7]+|0x[0-9a-fA-F]+)$", "-+0123456789"),
    (
        "tag:yaml.org,2002:float",
        r"^(?:[-+]?(?:\.[0-9]+|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        "-+0123456789.",
    ),
):
    _ScenarioLoader.add_implicit_resolver(_tag, re.compile(_regex), list(_first))


class _ValueRefusedError(ValueError):
    """A scalar that cannot be the value its tag says (``!!int abc``), with a plain reason and its place."""

    def __init__(self, message: str, node: yaml.Node) -> None:
        super().__init__(message)
        self.mark = node.start_mark


def _construct_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    text = loader.construct_scalar(node).replace("_", "").strip()
    digits = text.lstrip("+-")
    if len(digits) > MAX_DIGITS:
        raise _ValueRefusedError(
            f"a whole number of {len(digits):,} digits; scenario numbers have at most {MAX_DIGITS}", node
        )
    try:
        if digits.startswith("0o"):
            return int(text.replace("0o", "", 1), 8)
        if digits.startswith("0x"):
            return int(text.replace("0x", "", 1), 16)
        return int(text, 10)  # decimal, even with a leading zero
    except ValueError:
        raise _ValueRefusedError(f"{text[:40]!r} is not a whole number", node) from None


def _construct_float(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> float:
    text = loader.construct_scalar(node).replace("_", "").strip()
    special = {".inf": "inf", "+.inf": "inf", "-.inf": "-inf", ".nan": "nan"}.get(text.lower(), text)
    try:
        return float(special)
    except ValueError:
        raise _ValueRefusedError(f"{text[:40]!r} is not a number", node) from None


def _construct_bool(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> bool:
    text = loader.construct_scalar(node).strip()
    if text.lower() not in ("true", "false"):
        raise _ValueRefusedError(f"{text[:40]!r} is not true or false", node)
    return text.lower() == "true"


_ScenarioLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)
_ScenarioLoader.add_constructor("tag:yaml.org,2002:float", _construct_float)
_ScenarioLoader.add_constructor("tag:yaml.org,2002:bool", _construct_bool)
# Plain YAML only: the other tags SafeLoader knows become "could not determine a constructor".
_ScenarioLoader.yaml_constructors = {
    tag: fn for tag, fn in _ScenarioLoader.yaml_constructors.items() if tag in _PLAIN_TAGS or tag is None
}


def _measure(root: yaml.Node) -> None:
    """Refuse a node graph that expands past the limits, before anything is constructed.

    Aliases make the composed graph a DAG (or a cycle): each node's expanded size is computed once and
    charged every time it is referred to, so the cost is linear in the file, whatever the tags.
    """
    sizes: dict[int, tuple[int, int, int]] = {}  # id(node) -> (nodes, characters, levels) as expanded
    busy: set[int] = set()

    def too_deep(node: yaml.Node) -> ScenarioError:
        return ScenarioError(
            f"line {node.start_mark.line + 1}: the scenario is nested more than {MAX_DEPTH} levels deep "
            "(counting what its aliases refer to)"
        )

    def size(node: yaml.Node, depth: int) -> tuple[int, int, int]:
        key = id(node)
        if key in sizes:
            if depth + sizes[key][2] - 1 > MAX_DEPTH:
                raise too_deep(node)
            return sizes[key]
        if key in busy:
            raise ScenarioError(f"line {node.start_mark.line + 1}: an alias refers to the value that contains it")
        if depth > MAX_DEPTH:
            raise too_deep(node)
        busy.add(key)
        nodes, chars, levels = 1, len(node.value) if isinstance(node, yaml.ScalarNode) else 0, 1
        if isinstance(node, yaml.SequenceNode):
            children = node.value
        elif isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        else:
            children = []
        for child in children:
            n, c, h = size(child, depth + 1)
            nodes, chars, levels = nodes + n, chars + c, max(levels, h + 1)
            if nodes > MAX_NODES:
                raise ScenarioError(
                    f"the scenario expands to more than {MAX_NODES:,} values (YAML anchors and aliases that multiply?)"
                )
            if chars > MAX_TEXT:
                raise ScenarioError(
                    f"the scenario expands to more than {MAX_TEXT / 1e6:.0f} million characters of text "
                    "(YAML anchors and aliases that multiply?)"
                )
        busy.discard(key)
        sizes[key] = (nodes, chars, levels)
        return sizes[key]

    size(root, 1)


def _position(text: str, index: int) -> str:
    line = text.count("\n", 0, index) + 1
    return f"line {line}, column {index - (text.rfind(chr(10), 0, index) + 1) + 1}"


def parse_yaml(text: str, source: str = "scenario") -> Any:
    """Parse YAML text safely, with the limits above; errors name the line."""
    if len(text.encode("utf-8", "replace")) > MAX_FILE_BYTES:
        raise ScenarioError(
            f"{source} is {len(text.encode('utf-8', 'replace')) / 1e6:.1f} MB; "
            f"a scenario may be at most {MAX_FILE_BYTES / 1e6:.0f} MB"
        )
    loader = None
    try:
        loader = _ScenarioLoader(text)
        node = loader.get_single_node()
        if node is None:
            return None
        _measure(node)
        return loader.construct_document(node)
    except ScenarioError as exc:
        raise ScenarioError(f"{source}: {exc}" if source not in str(exc) else str(exc)) from None
    except yaml.reader.ReaderError as exc:
        char = exc.character if isinstance(exc.character, str) else chr(exc.character)
        raise ScenarioError(
            f"{source} {_position(text, exc.position)}: the control character U+{ord(char):04X} is not allowed "
            "in a scenario"
        ) from None
    except yaml.constructor.ConstructorError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else "?"
        raise ScenarioError(
            f"{source} line {line}: {exc.problem} (only plain YAML is allowed: "
            "mappings, lists, numbers, strings, true/false, null)"
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ScenarioError(f"{source} is not valid YAML:{where}: {problem}") from None
    except RecursionError:
        raise ScenarioError(f"{source} is nested too deeply to read") from None
    except _ValueRefusedError as exc:
        raise ScenarioError(f"{source}{_node_line(exc)}: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - a constructor's own error (a tagged value it cannot build)
        raise ScenarioError(f"{source} cannot be read as YAML ({type(exc).__name__}: {_first_line(exc)})") from None
    finally:
        if loader is not None:
            loader.dispose()


def _node_line(exc: BaseException) -> str:
    mark = getattr(exc, "mark", None)
    return f" line {mark.line + 1}" if mark is not None else ""


def _first_line(exc: BaseException) -> str:
    from ..errors import bounded_repr

    return bounded_repr(str(exc).splitlines()[0] if str(exc) else "", 100).strip("'\"")


def read_scenario_text(path: str | Path) -> str:
    """Read a scenario file, refusing missing, unreadable, binary or huge files."""
    p = Path(path)
    if "\x00" in str(p):
        raise ScenarioError(f"scenario file {str(p)!r}: a file name cannot hold a NUL character")
    if not p.exists():
        if p.is_symlink():
            raise ScenarioError(f"{p} is a symbolic link that leads nowhere (a loop, or a missing target)")
        raise ScenarioError(f"scenario file not found: {p}")
    if p.is_dir():
        raise ScenarioError(f"{p} is a folder, not a scenario file")
    if not p.is_file():
        raise ScenarioError(f"{p} is not a regular file (a device, a pipe or a socket); give a scenario file")
    try:
        # Read one byte past the limit rather than trust the size the file reports.
        with open(p, "rb") as fh:
            raw = fh.read(MAX_FILE_BYTES + 1)
        if len(raw) > MAX_FILE_BYTES:
            size = max(p.stat().st_size, len(raw))
            raise ScenarioError(f"{p} is {size / 1e6:.1f} MB; a scenario may be at most {MAX_FILE_BYTES / 1e6:.0f} MB")
    except OSError as exc:
        raise ScenarioError(f"cannot read {p}: {exc.strerror or exc}") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ScenarioError(f"{p} is not a UTF-8 text file") from None


_COMMENT = re.compile(r"""\s#\s?(.*)$""")


def source_notes(text: str) -> dict[str, str]:
    """Map dotted keys to the comment written on their line (``key: 1  # why``).

    Comments on a mapping key's own line apply to that key; a comment on a line
    of its own, directly above a key, applies to it too, except the file's
    header (the comment lines that open the file), which describes the file.
    """
    return {key: note for key, (_, note) in key_lines(text).items() if note}


def key_lines(text: str) -> dict[str, tuple[int, str | None]]:
    """Every dotted key of a YAML file (sections, leaves, list items as ``levers[0]``) with the line
    that sets it (1-based) and its comment (see :func:`source_notes`); empty if the text does not parse."""
    try:
        root = yaml.compose(text, Loader=_ScenarioLoader)
    except Exception:  # noqa: BLE001 - notes are optional; parsing errors surface elsewhere
        return {}
    lines = text.splitlines()
    found: dict[str, tuple[int, str | None]] = {}

    def comment_at(line_no: int) -> str | None:
        if line_no >= len(lines):
            return None
        line = lines[line_no]
        # Find the comment's '#' outside quoted strings, then read the comment from the line as written.
        m = _COMMENT.search(_strip_quoted(line))
        if m:
            return line[m.start(1) :].strip() or None
        # A comment block right above the key (not the file's header).
        block: list[str] = []
        j = line_no - 1
        while j >= 0 and lines[j].strip().startswith("#"):
            block.insert(0, lines[j].strip().lstrip("#").strip())
            j -= 1
        if j < 0:  # the block opens the file: the file's header, not this key's note
            return None
        return " ".join(b for b in block if b) or None

    def walk(node: yaml.Node, path: str) -> None:
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                child = f"{path}.{key_node.value}" if path else str(key_node.value)
                found[child] = (key_node.start_mark.line + 1, comment_at(key_node.start_mark.line))
                walk(value_node, child)
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                child = f"{path}[{i}]"
                found[child] = (item.start_mark.line + 1, comment_at(item.start_mark.line))
                walk(item, child)

    if root is not None:
        walk(root, "")
    return found


def _strip_quoted(line: str) -> str:
    """Blank out quoted strings so a '#' inside quotes is not read as a comment."""
    return re.sub(r"'[^']*'|\"(?:\\.|[^\"\\])*\"", lambda m: " " * len(m.group()), line)


def dump_yaml(data: Any) -> str:
    """Write plain data as block-style YAML that :func:`parse_yaml` reads back."""
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=False)
