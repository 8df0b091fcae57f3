"""Wall time of ``python run.py size scenarios/baseline.yaml`` at its default precision.

    python benchmarks/bench_size.py [--repeats 3] [-- extra size arguments]

Runs the command as a user would (a fresh process each time, imports
included), prints each run's time, the median, and the answer it printed.
Targets: under 10 seconds on a 2-core machine (adaptive precision included), and under 2 seconds with the compiled
kernel.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_SECONDS = 10.0


def measure(repeats: int = 3, extra: list[str] | None = None) -> dict:
    """Median wall time of ``run.py size`` on the baseline (fresh processes), and the answer it printed."""
    command = [sys.executable, str(ROOT / "run.py"), "size", str(ROOT / "scenarios" / "baseline.yaml"), *(extra or [])]
    times, output = [], ""
    for _ in range(repeats):
        t0 = time.perf_counter()
        proc = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env={**os.environ, "COLUMNS": "200"})
        times.append(time.perf_counter() - t0)
        if proc.returncode != 0:
            sys.exit(f"run.py size failed ({proc.returncode}): {proc.stderr.strip()}")
        output = proc.stdout
    # The answer as the message says it: "... That means nurturing 21 prospects a month; the plan is then met in
    # 90.3% of futures ..." (the wording of SizingResult.message).
    found = re.search(r"nurturing ([\d,.]+) prospects a month; the plan is then met in ([\d.]+%)", output)
    answer = f"nurture {found.group(1)} a month, P(plan met) {found.group(2)}" if found else None
    tried = re.search(r"\((\d+) values tried", output)
    return {
        "seconds": statistics.median(times),
        "runs": times,
        "answer": answer or "(not found in the output)",
        "tried": int(tried.group(1)) if tried else None,
        "command": command,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("extra", nargs="*", help="more arguments for `run.py size`")
    args = parser.parse_args()
    m = measure(args.repeats, args.extra)
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )
    print(f"command: {' '.join(Path(c).name if i < 2 else c for i, c in enumerate(m['command']))}")
    tried = f" ({m['tried']} values tried)" if m["tried"] else ""
    runs = ", ".join(f"{t:.2f}" for t in m["runs"])
    print(f"answer: {m['answer']}{tried}")
    print(f"wall time (median of {args.repeats}): {m['seconds']:.2f} s   runs: {runs}")
    print(f"target: < {TARGET_SECONDS:.0f} s: {'met' if m['seconds'] < TARGET_SECONDS else 'NOT met'}")


if __name__ == "__main__":
    main()
