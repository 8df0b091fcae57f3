"""Helpers shared by the benchmark scripts: the machine, medians, peak memory of a child process."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.yaml"

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")  # numpy's own threads would blur "one core"


def machine() -> str:
    """One line describing this machine and software."""
    import numpy as np

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kb = int(next(x for x in Path("/proc/meminfo").read_text().splitlines() if x.startswith("MemTotal")).split()[1])
        memory = f", {kb / 2**20:.0f} GiB RAM"
    except (OSError, StopIteration):
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores{memory}; {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}, numpy {np.__version__}"
    )


def run_child(code: str) -> dict:
    """Run Python code in a fresh process; it prints one JSON line last. Adds its peak memory (MB)."""
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "child.py"
        script.write_text(
            "import json, resource, sys\n"
            f"sys.path.insert(0, {str(ROOT)!r})\n"
            "def report(**figures):\n"
            "    figures['peak_mb'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
            "    figures['children_peak_mb'] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024\n"
            "    print(json.dumps(figures))\n"
            "if __name__ == '__main__':\n" + "".join(f"    {line}\n" for line in code.strip().splitlines())
        )
        proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, cwd=tmp)
        if proc.returncode != 0:
            raise RuntimeError(f"benchmark child failed:\n{proc.stderr}")
        return json.loads(proc.stdout.strip().splitlines()[-1])
