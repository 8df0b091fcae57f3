"""Security: safe YAML only, no pickle or eval of user files, escaped output, outputs inside their folder,
a local Dask cluster on the loopback interface.

Static checks read the source of ``simulator/`` with ``ast``; dynamic checks
feed hostile scenario content through the library and the command line.
"""

from __future__ import annotations

import ast
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import BASELINE, ROOT, small_channel

import simulator as sim
from simulator import ScenarioError
from simulator.cli import main
from simulator.reports.html import build_report
from simulator.scenario.yaml_io import _ScenarioLoader, parse_yaml, source_notes

PACKAGE = ROOT / "simulator"
SOURCES = sorted(PACKAGE.rglob("*.py"))

# -- static: the source never loads unsafely or evaluates text -------------------------------------------

SAFE_LOADERS = {"SafeLoader", "CSafeLoader", "BaseLoader", "CBaseLoader"}
UNSAFE_LOADERS = {"Loader", "CLoader", "UnsafeLoader", "CUnsafeLoader", "FullLoader", "CFullLoader"}
YAML_WITH_LOADER = {"load", "load_all", "compose", "compose_all", "parse", "scan"}
YAML_FORBIDDEN = {"unsafe_load", "unsafe_load_all", "full_load", "full_load_all"}
FORBIDDEN_MODULES = {"pickle", "cPickle", "_pickle", "dill", "cloudpickle", "jsonpickle", "marshal", "shelve", "joblib"}
FORBIDDEN_BUILTINS = {"eval", "exec", "compile", "__import__"}
FORBIDDEN_ATTRIBUTES = {
    ("pd", "read_pickle"),
    ("pandas", "read_pickle"),
    ("os", "system"),
    ("os", "popen"),
    ("pd", "eval"),
    ("pandas", "eval"),
    ("torch", "load"),
}


def _name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _dotted(node: ast.AST) -> tuple[str, ...]:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return tuple(reversed(parts))


def _safe_loader_classes(trees: dict[Path, ast.Module]) -> set[str]:
    """Classes defined in the package that derive from a safe YAML loader."""
    found: set[str] = set()
    changed = True
    while changed:
        changed = False
        for tree in trees.values():
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.ClassDef)
                    and node.name not in found
                    and any(_name(b) in SAFE_LOADERS | found for b in node.bases)
                ):
                    found.add(node.name)
                    changed = True
    return found


def violations(tree: ast.Module, safe_loaders: set[str]) -> list[str]:
    """Unsafe deserialisation, evaluation or shell use in one module, as 'line: what' strings."""
    out = []
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Import):
            out += [f"{line}: import {a.name}" for a in node.names if a.name.split(".")[0] in FORBIDDEN_MODULES]
        elif isinstance(node, ast.ImportFrom):
            module = (node.module or "").split(".")[0]
            if module in FORBIDDEN_MODULES:
                out.append(f"{line}: from {node.module} import ...")
            if module == "yaml":
                out += [
                    f"{line}: from yaml import {a.name}"
                    for a in node.names
                    if a.name in YAML_FORBIDDEN | YAML_WITH_LOADER | UNSAFE_LOADERS
                ]
        elif isinstance(node, ast.Attribute):
            dotted = _dotted(node)
            if len(dotted) == 2 and dotted[0] == "yaml" and dotted[1] in UNSAFE_LOADERS | YAML_FORBIDDEN:
                out.append(f"{line}: yaml.{dotted[1]}")
        elif isinstance(node, ast.Call):
            func = node.func
            dotted = _dotted(func)
            if isinstance(func, ast.Name) and func.id in FORBIDDEN_BUILTINS:
                out.append(f"{line}: {func.id}()")
            if dotted[-2:] in FORBIDDEN_ATTRIBUTES:
                out.append(f"{line}: {'.'.join(dotted)}()")
            if dotted and dotted[-1] in ("eval", "query") and len(dotted) > 1 and dotted[0] not in ("np", "numpy"):
                out.append(f"{line}: {'.'.join(dotted)}() evaluates a string")
            if len(dotted) == 2 and dotted[0] == "yaml" and dotted[1] in YAML_WITH_LOADER:
                loader = next((kw.value for kw in node.keywords if kw.arg == "Loader"), None)
                if loader is None and len(node.args) > 1:
                    loader = node.args[1]
                if loader is None or _name(loader) not in safe_loaders:
                    out.append(f"{line}: yaml.{dotted[1]} without a safe Loader")
            numpy_load = dotted and dotted[-1] == "load" and dotted[0] in ("np", "numpy")
            if numpy_load and any(kw.arg == "allow_pickle" for kw in node.keywords):
                out.append(f"{line}: numpy load with allow_pickle")
            for kw in node.keywords:
                if kw.arg == "shell" and not (isinstance(kw.value, ast.Constant) and kw.value.value is False):
                    out.append(f"{line}: {'.'.join(dotted)}(shell=...)")
    return out


def test_the_static_check_catches_what_it_looks_for():
    bad = """
import pickle
import yaml
from yaml import unsafe_load
yaml.load(text)
yaml.load(text, Loader=yaml.Loader)
yaml.load(text, yaml.FullLoader)
yaml.full_load(text)
data = pickle.loads(blob)
eval(expression)
exec(code)
frame.query(user_text)
subprocess.run(cmd, shell=True)
os.system(cmd)
pd.read_pickle(path)
np.load(path, allow_pickle=True)
"""
    found = violations(ast.parse(bad), SAFE_LOADERS)
    for needle in (
        "import pickle",
        "from yaml import unsafe_load",
        "yaml.load without a safe Loader",
        "yaml.Loader",
        "yaml.FullLoader",
        "yaml.full_load",
        "eval()",
        "exec()",
        "frame.query()",
        "shell=",
        "os.system()",
        "pd.read_pickle()",
        "allow_pickle",
    ):
        assert any(needle in v for v in found), (needle, found)
    good = "yaml.load(text, Loader=yaml.SafeLoader)\nyaml.safe_load(text)\nyaml.compose(text, Loader=Mine)\n"
    assert violations(ast.parse(good), SAFE_LOADERS | {"Mine"}) == []


def test_no_unsafe_loading_or_evaluation_anywhere_in_the_package():
    """No yaml.load without a SafeLoader, no unsafe/full YAML loaders, no pickle/marshal/shelve,
    no eval/exec/compile, no DataFrame.query/eval, no shell, anywhere in simulator/."""
    trees = {path: ast.parse(path.read_text("utf-8"), str(path)) for path in SOURCES}
    assert len(trees) > 30
    safe = SAFE_LOADERS | _safe_loader_classes(trees)
    assert "_ScenarioLoader" in safe
    found = [f"{path.relative_to(ROOT)}:{v}" for path, tree in trees.items() for v in violations(tree, safe)]
    assert found == []


def test_the_scenario_loader_is_a_safe_loader_without_python_tags():
    assert issubclass(_ScenarioLoader, yaml.SafeLoader)
    tags = [t for t in _ScenarioLoader.yaml_constructors if t and "python" in t]
    multi = [t for t in _ScenarioLoader.yaml_multi_constructors if t and "python" in t]
    assert tags == [] and multi == []


# -- dynamic: hostile YAML is refused and never executed ----------------------------------------------------

PYTHON_TAGS = [
    "name: !!python/object/apply:os.system ['touch {marker}']",
    "name: !!python/object/apply:subprocess.check_call [['touch', '{marker}']]",
    "name: !!python/object/new:subprocess.Popen [['touch', '{marker}']]",
    "name: !!python/name:os.system",
    "name: !!python/module:os",
    "name: !!python/object:builtins.dict {{}}",
    "name: !<tag:yaml.org,2002:python/object/apply:os.system> ['touch {marker}']",
    "%TAG !p! tag:yaml.org,2002:python/\n---\nname: !p!object/apply:os.system ['touch {marker}']",
    "program:\n  levers:\n    - use: events\n      note: !!python/object/apply:os.system ['touch {marker}']",
    "market:\n  prospects: !!python/object/apply:builtins.int ['7']",
]


@pytest.mark.parametrize("text", PYTHON_TAGS, ids=range(len(PYTHON_TAGS)))
def test_a_python_tag_is_refused_and_never_runs(text, tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.yaml"
    path.write_text(text.format(marker=marker))
    with pytest.raises(ScenarioError, match=r"only plain YAML|not valid YAML"):
        sim.load_scenario(path)
    with pytest.raises(ScenarioError):
        parse_yaml(path.read_text())
    assert not marker.exists()


def test_a_python_tag_in_an_extended_file_or_a_set_value_is_refused(tmp_path, capsys):
    marker = tmp_path / "pwned"
    base = tmp_path / "base.yaml"
    base.write_text(f"name: !!python/object/apply:os.system ['touch {marker}']\n")
    top = tmp_path / "top.yaml"
    top.write_text("extends: base.yaml\nhorizon_months: 12\n")
    with pytest.raises(ScenarioError, match="only plain YAML"):
        sim.load_scenario(top)
    out = tmp_path / "out"
    setting = f"name=!!python/object/apply:os.system ['touch {marker}']"
    code = main(["simulate", str(BASELINE), "--set", setting, "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and "only plain YAML" in err, err
    assert not marker.exists() and not out.exists()


def test_a_python_tag_through_the_command_line(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.yaml"
    path.write_text(f"name: !!python/object/apply:os.system ['touch {marker}']\n")
    proc = subprocess.run(
        [sys.executable, str(ROOT / "run.py"), "simulate", str(path), "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "only plain YAML" in proc.stderr
    assert not marker.exists() and not (tmp_path / "out").exists()


@pytest.mark.parametrize("how", ["extends", "path"])
def test_a_device_file_is_refused_quickly(how, tmp_path):
    """A device (or any non-regular file) named as a scenario or in `extends:` is refused at once, never read
    without limit (/dev/zero used to fill memory until a MemoryError)."""
    path = tmp_path / "zero.yaml"
    path.write_text("name: zero\nextends: /dev/zero\n")
    target = str(path) if how == "extends" else "/dev/zero"

    def limit_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (800_000_000, 800_000_000))

    proc = subprocess.run(
        [sys.executable, str(ROOT / "run.py"), "validate", target],
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=limit_memory,
    )
    assert proc.returncode == 2 and "internal error" not in proc.stderr, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_parquet_reading_is_not_exposed_to_the_pyarrow_pickle_flaw():
    """open_sweep and --resume read Parquet files from a folder; pyarrow < 14.0.1 unpickled extension types
    found in such files (CVE-2023-47248)."""
    import pyarrow

    version = tuple(int(p) for p in pyarrow.__version__.split(".")[:3] if p.isdigit())
    assert version >= (14, 0, 1), pyarrow.__version__


# -- outputs stay inside their folder ---------------------------------------------------------------------

HOSTILE_NAMES = [
    "../../escaped",
    *(
        pytest.param(name, marks=pytest.mark.slow)
        for name in ("/tmp/absolute_escape", "..\\..\\escaped", "a/b/c", "..", ".")
    ),
]


def _files(root: Path) -> set[Path]:
    return {p.relative_to(root) for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_scenario_content_never_decides_an_output_path(name, tmp_path, monkeypatch, capsys):
    """Default outputs of simulate, sweep, report, scorecard and sensitivity are named after the scenario FILE
    given on the command line; a name with path separators or '..' changes nothing on disk."""
    work = tmp_path / "outer" / "inner" / "work"
    work.mkdir(parents=True)
    scenario = work / "evil.yaml"
    data = small_channel(horizon_months=12, name=name)
    scenario.write_text(yaml.safe_dump(data))
    monkeypatch.chdir(work)
    before = _files(tmp_path)
    commands = [
        ["simulate", "evil.yaml", "-r", "2"],
        ["sweep", "evil.yaml", "--grid", "activation.window_months=3,6", "-r", "2", "--workers", "1", "--no-progress"],
        ["report", "evil.yaml", "-r", "2"],
        ["scorecard", "evil.yaml", "-r", "2"],
        ["capacity", "evil.yaml", "-r", "2"],
        ["compare", "evil.yaml", "--set", "activation.window_months=3", "-r", "2"],
        [
            "sensitivity",
            "evil.yaml",
            "--range",
            "recruitment.win_share=0.1:0.4",
            "--method",
            "morris",
            "--samples",
            "2",
        ],
    ]
    for argv in commands:
        code = main(argv)
        assert code == 0, (argv, capsys.readouterr().err)
    new = _files(tmp_path) - before
    allowed = (
        Path("outer/inner/work/results/evil"),
        Path("outer/inner/work/sweeps/evil"),
        Path("outer/inner/work/results/evil-sensitivity"),
    )
    stray = [p for p in new if not any(a in p.parents for a in allowed) and p != allowed[0].parent / "evil-report.html"]
    assert stray == []
    assert not Path("/tmp/absolute_escape").exists()
    sweep_files = {p.relative_to(Path("outer/inner/work/sweeps/evil")) for p in new if allowed[1] in p.parents}
    assert {str(p) for p in sweep_files if p.parent == Path("kpis")} == {
        f"kpis/chunk-{point:06d}-00000.parquet" for point in range(2)
    }


def test_swept_names_never_become_file_names(tmp_path):
    """Sweeping the scenario name over hostile values writes only manifest, points and numbered chunks."""
    out = tmp_path / "sweep"
    sim.sweep(
        small_channel(horizon_months=6),
        grid={"name": ["../../../escaped", "/tmp/absolute_escape", "x/y"]},
        replications=2,
        out=out,
        workers=1,
    )
    files = {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()}
    chunks = {f"kpis/chunk-{i:06d}-00000.parquet" for i in range(3)}
    assert files == {"manifest.json", "points.parquet", "journal.jsonl"} | chunks
    assert {p.name for p in tmp_path.iterdir()} == {"sweep"}


@pytest.mark.parametrize("where", ["segment", "lever"])
def test_names_used_in_tables_are_plain_identifiers(where):
    if where == "segment":
        data = {"name": "x", "market": {"segments": {"../etc": {"share": 1.0}}}}
    else:
        data = {"name": "x", "program": {"levers": [{"use": "events", "name": "../../x"}]}}
    with pytest.raises(ScenarioError, match="lower case letters"):
        sim.load_scenario(data)


# -- escaped text: HTML report and terminal ----------------------------------------------------------

HOSTILE_TEXT = '<script>alert(1)</script>" onerror="alert(2)\' & $5'


def test_every_scenario_text_is_escaped_in_the_report(tmp_path):
    """Name, description, currency, lever notes and source comments all appear as text, never as markup."""
    path = tmp_path / "evil.yaml"
    path.write_text(
        "# <script>alert('comment')</script>\n"
        + yaml.safe_dump(
            {
                **small_channel(horizon_months=12),
                "name": HOSTILE_TEXT,
                "description": HOSTILE_TEXT,
                "currency": "<b>EUR</b>",
                "program": {"levers": [{"use": "events", "note": HOSTILE_TEXT}]},
            }
        ).replace("horizon_months: 12", "horizon_months: 12  # <script>alert(note)</script>")
    )
    scn = sim.load_scenario(path)
    assert any("<script>" in note for note in scn.notes.values())
    html = build_report(scn, replications=3, seed=1).html.lower()
    assert "<script" not in html and "<b>eur" not in html and 'onerror="alert' not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&lt;b&gt;eur&lt;/b&gt;" in html
    assert "&lt;script&gt;alert(note)&lt;/script&gt;" in html


def test_report_templates_escape_everything():
    """Every jinja2 Environment in the package autoescapes, no template switches escaping off or marks a
    value safe, and the page's Content-Security-Policy allows no script."""
    envs = []
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Call) and _dotted(node.func)[-1:] == ("Environment",):
                auto = next((kw.value for kw in node.keywords if kw.arg == "autoescape"), None)
                envs.append((path.name, isinstance(auto, ast.Constant) and auto.value is True))
    assert envs and all(ok for _, ok in envs), envs
    templates = list((PACKAGE / "reports" / "templates").glob("*.j2"))
    assert templates
    for template in templates:
        text = template.read_text("utf-8")
        assert "|safe" not in text.replace(" ", "") and "autoescape false" not in text
        assert "Content-Security-Policy" in text and "default-src 'none'" in text and "script-src" not in text


def test_source_notes_keep_quoted_words():
    """Quoted words inside a YAML comment stay in the source note shown in the report appendix."""
    notes = source_notes("horizon_months: 12  # the 'three-year' plan, see \"MODEL.md\"\n")
    assert notes["horizon_months"] == "the 'three-year' plan, see \"MODEL.md\""


@pytest.mark.parametrize("field", ["name", "currency"])
def test_matplotlib_math_in_scenario_text_is_plain_text_in_the_charts(field):
    """A '$' in the name or the currency is text in the charts, not matplotlib math (which failed to parse)."""
    data = {**small_channel(horizon_months=12), field: "$\\foo$ $x^2$"}
    html = build_report(data, replications=3, seed=1).html
    assert "foo" in html


TERMINAL_COMMANDS = {
    "validate": ["validate", "{scn}"],
    "simulate": ["simulate", "{scn}", "-r", "2", "--out", "{out}"],
    "capacity": ["capacity", "{scn}", "-r", "2"],
    "compare": ["compare", "{scn}", "--set", "activation.window_months=3", "-r", "2"],
    "scorecard": ["scorecard", "{scn}", "-r", "2", "--out", "{out}"],
    "sweep": ["sweep", "{scn}", "--grid", "activation.window_months=3", "-r", "2", "--workers", "1", "--out", "{out}"],
    "report": ["report", "{scn}", "-r", "2", "--out", "{out}/r.html"],
}
MARKUP_NAME = "[/x] [bold]loud[/bold] [link=https://evil.example]click[/link]"


@pytest.mark.parametrize("command", sorted(TERMINAL_COMMANDS))
def test_scenario_text_is_not_read_as_console_markup(command, tmp_path, capsys):
    """Scenario text prints as written: a '[/x]' in a name or currency does not crash a command, and
    '[bold]' or '[link=...]' in it are not interpreted as console markup."""
    scn = tmp_path / "markup.yaml"
    scn.write_text(yaml.safe_dump({**small_channel(horizon_months=12), "name": MARKUP_NAME, "currency": "[/y]"}))
    argv = [a.format(scn=scn, out=tmp_path / "out") for a in TERMINAL_COMMANDS[command]]
    code = main(argv)
    printed = capsys.readouterr()
    assert code == 0, printed.err
    squashed = "".join(printed.out.split())
    assert "[/x][bold]loud[/bold]" in squashed or "[/y]" in squashed, printed.out  # printed as written
    if "loud" in squashed:
        assert "[bold]loud[/bold]" in squashed and "[link=https://evil.example]click[/link]" in squashed


def test_scenario_text_cannot_send_terminal_control_sequences(tmp_path, capsys):
    """ESC sequences in scenario text (clear screen, retitle the terminal) never reach the terminal raw."""
    scn = tmp_path / "esc.yaml"
    scn.write_text('name: "before\\e[2J\\e]0;owned\\aafter"\nmarket: {prospects: 5}\n')
    assert "\x1b" in sim.load_scenario(scn).name
    assert main(["validate", str(scn)]) == 0
    out = capsys.readouterr().out
    assert "before" in out and "\x1b" not in out


# -- the local Dask cluster listens on the loopback interface only ---------------------------------------------


@pytest.mark.slow
def test_the_local_dask_cluster_listens_on_127_0_0_1_only():
    """Scheduler, workers, nannies and the scheduler's HTTP server of `--dask local` bind to 127.0.0.1."""
    import psutil

    from simulator.sweeps.executors import Workers

    me = psutil.Process()

    def listening() -> set[tuple[int, str, int]]:
        found = set()
        for proc in [me, *me.children(recursive=True)]:
            try:
                for conn in proc.net_connections(kind="inet"):
                    if conn.status == psutil.CONN_LISTEN:
                        found.add((proc.pid, conn.laddr.ip, conn.laddr.port))
            except psutil.NoSuchProcess:
                continue
        return found

    before = listening()
    with Workers(workers=2, dask="local") as workers:
        client = workers._client
        info = client.scheduler_info()
        addresses = [client.scheduler.address, *info["workers"]]
        sockets = listening() - before
        pids = set(client.run(os.getpid).values())
    assert len(info["workers"]) == 2
    assert all(a.startswith("tcp://127.0.0.1:") for a in addresses), addresses
    assert pids <= {pid for pid, _, _ in sockets}, "a worker process has no listening socket we could see"
    assert len(sockets) >= 3 and {ip for _, ip, _ in sockets} == {"127.0.0.1"}, sockets
