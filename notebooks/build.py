"""Turn the notebook scripts into notebooks, execute them and store their outputs.

    python notebooks/build.py               # every notebook (one to two minutes)
    python notebooks/build.py 02 03         # only the notebooks whose file name contains 02 or 03
    python notebooks/build.py --no-execute  # cells only (no outputs)

Each notebook's source is a jupytext percent-format script beside it
(``01_quickstart.py`` -> ``01_quickstart.ipynb``), linted like the rest of the
code. The ``.ipynb`` files are this script's output, paired with their scripts
(jupytext's ``formats: ipynb,py:percent``) and executed with nbclient from
``notebooks/`` (the working directory the tests use too) on a kernel running
this Python interpreter. ``tests/test_notebooks.py`` checks they match.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import jupytext
import nbformat

HERE = Path(__file__).resolve().parent
KERNEL = "python3"
CELL_TIMEOUT = 300  # seconds per cell
PAIRING = {"formats": "ipynb,py:percent", "notebook_metadata_filter": "-all", "cell_metadata_filter": "-all"}

#: Notebook file name -> its script: every ``NN_name.py`` beside this file.
NOTEBOOKS: dict[str, Path] = {p.with_suffix(".ipynb").name: p for p in sorted(HERE.glob("[0-9][0-9]_*.py"))}


def notebook(name: str) -> nbformat.NotebookNode:
    """The notebook ``name`` as its script describes it (cells only, no outputs)."""
    nb = jupytext.read(NOTEBOOKS[name], fmt="py:percent")
    nb.metadata = nbformat.NotebookNode(
        kernelspec={"name": KERNEL, "display_name": "Python 3 (ipykernel)", "language": "python"},
        language_info={"name": "python"},
        jupytext=PAIRING,  # Jupyter with jupytext saves edits to the script too
    )
    for i, cell in enumerate(nb.cells):
        cell.metadata = nbformat.NotebookNode()
        cell["id"] = f"cell-{i:02d}"  # stable ids: rebuilding gives no spurious diff
    return nb


@contextmanager
def kernel_manager() -> Iterator[object]:
    """A kernel manager whose ``python3`` kernel runs this interpreter (``sys.executable``).

    The kernel spec is written to a temporary folder and used alone, so a
    ``python3`` kernel installed elsewhere (another Python, another virtual
    environment) is never picked up and nothing needs installing.
    """
    from ipykernel.kernelspec import write_kernel_spec
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    with tempfile.TemporaryDirectory(prefix="notebook-kernels-") as folder:
        write_kernel_spec(str(Path(folder) / KERNEL))
        specs = KernelSpecManager(kernel_dirs=[folder], ensure_native_kernel=False)
        yield KernelManager(kernel_name=KERNEL, kernel_spec_manager=specs)


def execute(nb: nbformat.NotebookNode, timeout: int = CELL_TIMEOUT, timing: bool = False) -> float:
    """Execute ``nb`` in place from ``notebooks/`` (raises on the first failing cell); return the seconds taken.

    ``timing=True`` records each cell's start and end in its metadata (left out of the committed notebooks).
    """
    from nbclient import NotebookClient

    started = time.perf_counter()
    with kernel_manager() as km:
        client = NotebookClient(
            nb,
            km=km,
            timeout=timeout,
            kernel_name=KERNEL,
            resources={"metadata": {"path": str(HERE)}},
            record_timing=timing,
        )
        try:
            client.execute()
        finally:
            if km.has_kernel:  # a kernel manager passed in is not shut down by nbclient
                km.shutdown_kernel(now=True)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Turn the notebook scripts into executed notebooks.")
    parser.add_argument("only", nargs="*", help="build only notebooks whose file name contains one of these")
    parser.add_argument("--no-execute", action="store_true", help="write the cells without running them")
    args = parser.parse_args(argv)
    names = [n for n in NOTEBOOKS if not args.only or any(s in n for s in args.only)]
    if not names:
        parser.error(f"no notebook matches {' '.join(args.only)}")
    for name in names:
        nb = notebook(name)
        seconds = 0.0 if args.no_execute else execute(nb)
        nbformat.validate(nb)
        nbformat.write(nb, HERE / name)
        size = (HERE / name).stat().st_size
        print(f"{name}: {'written' if args.no_execute else f'executed in {seconds:.1f} s'}, {size / 1024:.0f} kB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
