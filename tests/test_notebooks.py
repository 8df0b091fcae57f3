"""The example notebooks in notebooks/: they run top to bottom, and are committed executed, clean and
in sync with their jupytext scripts (notebooks/NN_name.py), using only the public API.

Execution uses nbclient from notebooks/ on a kernel running this interpreter
(a kernel spec written to a temporary folder by ``build.kernel_manager``), so
a ``python3`` kernel installed for another Python is never used. After a change
to a script or to what the notebooks show, run ``python notebooks/build.py``.
"""

from __future__ import annotations

import ast
import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

nbformat = pytest.importorskip("nbformat")
pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
jupytext = pytest.importorskip("jupytext")

import simulator  # noqa: E402 - after the skips

ROOT = Path(__file__).resolve().parents[1]
FOLDER = ROOT / "notebooks"
NOTEBOOKS = sorted(FOLDER.glob("*.ipynb"))
SCRIPTS = sorted(FOLDER.glob("[0-9][0-9]_*.py"))
REBUILD = "edit the notebook's script (notebooks/NN_name.py, not the .ipynb) and run `python notebooks/build.py`"

# Documented imports besides `import simulator as sim` (README: reports/charts and planning).
ALLOWED_FROM = {
    "simulator.reports": {"charts"},
    "simulator.planning": {
        "scorecard",
        "concentration_over_time",
        "concentration_at_horizon",
        "lorenz_points",
    },
}
CHARTS = {
    "revenue_fan",
    "partners_by_state",
    "recruitment_funnel",
    "lorenz_chart",
    "sizing_chart",
    "compare_chart",
    "sensitivity_chart",
}
# mesa imports tqdm.auto, which warns inside a kernel when ipywidgets is missing (progress bars as widgets).
TQDM_WITHOUT_WIDGETS = "TqdmWarning: IProgress not found"


def _load_build() -> ModuleType:
    spec = importlib.util.spec_from_file_location("notebooks_build", FOLDER / "build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build = _load_build()


def read(path: Path):
    return nbformat.read(path, as_version=4)


def code_cells(nb) -> list:
    return [c for c in nb.cells if c.cell_type == "code"]


def output_shape(cell) -> list[tuple]:
    """What a cell shows, without the values: stream names (consecutive ones merged) and MIME types."""
    shape: list[tuple] = []
    for out in cell.get("outputs", []):
        if out.output_type == "stream":
            kind: tuple = ("stream", out.name)
            if shape and shape[-1] == kind:
                continue
        elif out.output_type in ("display_data", "execute_result"):
            kind = (out.output_type, tuple(sorted(out.data)))
        else:
            kind = (out.output_type, out.get("ename", ""))
        shape.append(kind)
    return shape


def output_text(nb) -> str:
    parts = []
    for cell in code_cells(nb):
        for out in cell.get("outputs", []):
            parts.append(out.get("text", ""))
            for mime, value in out.get("data", {}).items():
                if mime.startswith("text/"):
                    parts.append(value if isinstance(value, str) else "".join(value))
            parts.extend(out.get("traceback", []))
    return "\n".join(parts)


@pytest.fixture(params=NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def notebook(request: pytest.FixtureRequest) -> Path:
    return request.param


def test_every_notebook_has_its_script():
    stems = [p.stem for p in NOTEBOOKS]
    assert stems == [p.stem for p in SCRIPTS], f"notebooks/*.ipynb and their scripts differ: {REBUILD}"
    assert sorted(build.NOTEBOOKS) == [p.name for p in NOTEBOOKS]
    for prefix in ("01_", "02_", "03_", "04_"):
        assert any(p.name.startswith(prefix) for p in NOTEBOOKS), f"no notebook {prefix}*"


def test_committed_notebook_is_in_sync_with_its_script(notebook: Path):
    """The .ipynb holds exactly the cells of its percent-format script (read by jupytext, not by build.py)."""
    committed = read(notebook)
    script = jupytext.read(notebook.with_suffix(".py"), fmt="py:percent")
    assert [c.cell_type for c in committed.cells] == [c.cell_type for c in script.cells], REBUILD
    for i, (have, want) in enumerate(zip(committed.cells, script.cells, strict=True)):
        assert have.source == want.source, f"{notebook.name} cell {i} differs from its script: {REBUILD}"
    assert committed.metadata["kernelspec"]["name"] == "python3"
    assert committed.metadata["jupytext"]["formats"] == "ipynb,py:percent", "paired with its script"
    assert [c.id for c in committed.cells] == [f"cell-{i:02d}" for i in range(len(committed.cells))], REBUILD


def _cells(nb) -> list[tuple[str, str]]:
    return [(c.cell_type, c.source) for c in nb.cells]


def test_the_build_script_turns_each_script_into_its_notebook():
    for path in SCRIPTS:
        built = build.notebook(path.with_suffix(".ipynb").name)
        assert _cells(built) == _cells(jupytext.read(path, fmt="py:percent"))
        assert not any(c.outputs for c in code_cells(built)), "cells only: outputs come from executing them"
        # and back: the notebook written as a percent script reads as the same cells
        assert _cells(jupytext.reads(jupytext.writes(built, fmt="py:percent"), fmt="py:percent")) == _cells(built)


@pytest.mark.skipif(shutil.which("ruff") is None and importlib.util.find_spec("ruff") is None, reason="no ruff")
def test_the_scripts_are_linted_like_the_code():
    """ruff lints notebooks/NN_name.py (and not the .ipynb, whose source they are), and finds nothing."""
    ruff = [sys.executable, "-m", "ruff"] if importlib.util.find_spec("ruff") else ["ruff"]
    listed = subprocess.run([*ruff, "check", "--show-files", "."], cwd=ROOT, capture_output=True, text=True, check=True)
    files = {Path(line).resolve() for line in listed.stdout.splitlines() if line.strip()}
    assert set(SCRIPTS) <= files, "notebooks/*.py must not be excluded from ruff"
    assert not [f for f in files if f.suffix == ".ipynb"], "the .ipynb files are linted as their scripts"
    paths = [str(p) for p in SCRIPTS]
    lint = subprocess.run([*ruff, "check", *paths], cwd=ROOT, capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout
    style = subprocess.run([*ruff, "format", "--check", *paths], cwd=ROOT, capture_output=True, text=True)
    assert style.returncode == 0, style.stdout


def test_committed_with_clean_outputs(notebook: Path):
    nb = read(notebook)
    nbformat.validate(nb)
    cells = code_cells(nb)
    counts = [c.execution_count for c in cells]
    assert counts == list(range(1, len(cells) + 1)), f"{notebook.name} is not executed top to bottom: {REBUILD}"
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# "), "starts with its question"
    assert nb.cells[-1].cell_type == "markdown" and "Takeaway" in nb.cells[-1].source, "ends with a takeaway"
    outputs = [out for c in cells for out in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"], f"{notebook.name} stored an error"
    stderr = [o.text for o in outputs if o.output_type == "stream" and o.name == "stderr"]
    assert not stderr, f"{notebook.name} stored warnings or errors: {stderr}"
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert images, f"{notebook.name} has no chart stored"
    # A figure shown by a cell is stored as an image, not only as "<Figure size ...>".
    text = output_text(nb)
    for cell in cells:
        for out in cell.outputs:
            plain = out.get("data", {}).get("text/plain", "")
            if plain.startswith("<Figure"):
                assert "image/png" in out.data, f"a figure stored without its image in {notebook.name}"
    # Modest size, and nothing machine-specific in the outputs.
    assert notebook.stat().st_size < 1_000_000
    for fragment in (str(ROOT), str(Path.home()), "/tmp/", "/private/var/"):
        assert fragment not in text, f"{notebook.name} shows a local path ({fragment})"
    assert not re.search(r" at 0x[0-9a-f]+>", text), "an object repr with a memory address"


def _simulator_names(source: str) -> list[str]:
    """Problems with how a code cell uses the simulator: private modules, names or attributes."""
    lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
    tree = ast.parse("\n".join(lines))
    aliases = set()
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("simulator"):
                    if alias.name != "simulator":
                        problems.append(f"import {alias.name}")
                    aliases.add(alias.asname or alias.name)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("simulator"):
            allowed = ALLOWED_FROM.get(node.module or "", set())
            problems += [f"from {node.module} import {a.name}" for a in node.names if a.name not in allowed]
        elif isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
            problems.append(f"private attribute .{node.attr}")
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)):
            continue
        if node.value.id in aliases and node.attr not in simulator.__all__:
            problems.append(f"{node.value.id}.{node.attr} is not in simulator.__all__")
        if node.value.id == "charts" and node.attr not in CHARTS:
            problems.append(f"charts.{node.attr} is not a documented chart")
    return problems


def test_public_api_only(notebook: Path):
    problems = []
    for i, cell in enumerate(read(notebook).cells):
        if cell.cell_type == "code":
            problems += [f"cell {i}: {p}" for p in _simulator_names(cell.source)]
            assert "simulator.engine" not in cell.source
    assert not problems, problems


def test_notebook_executes_top_to_bottom(notebook: Path):
    """Run the committed notebook afresh (in memory, outputs cleared; the file is not touched): no cell may
    fail, and every cell shows the same kinds of output as stored (so the stored outputs are not stale)."""
    committed = read(notebook)
    fresh = read(notebook)
    for cell in code_cells(fresh):
        cell.outputs, cell.execution_count = [], None
    build.execute(fresh)  # raises CellExecutionError, with the cell and its traceback, on any failure
    if importlib.util.find_spec("ipywidgets") is None:
        for cell in code_cells(fresh):
            cell.outputs = [o for o in cell.outputs if TQDM_WITHOUT_WIDGETS not in o.get("text", "")]
    for i, (have, want) in enumerate(zip(fresh.cells, committed.cells, strict=True)):
        if have.cell_type != "code":
            continue
        stderr = [o.text for o in have.outputs if o.output_type == "stream" and o.name == "stderr"]
        assert not stderr, f"{notebook.name} cell {i} wrote to stderr: {stderr}"
        assert output_shape(have) == output_shape(want), f"{notebook.name} cell {i} shows other outputs: {REBUILD}"
