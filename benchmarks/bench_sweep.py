"""Sweep benchmark: parallel speed-up and bounded memory.

    python benchmarks/bench_sweep.py [--replications 200] [--points 20] [--repeats 3]

1. Wall time of a sweep of 20 points x 200 replications of the baseline with
   1 and 2 local workers (median of repeats) and their ratio (target >= 1.7).
2. Peak memory (resident set size) of the driver and of the largest worker
   for sweeps of 20 and of 200 points (same replications per point): it must
   not grow with the number of points.

Each sweep runs in a fresh subprocess so its peak memory is its own.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, {root!r})
from simulator.sweeps import sweep
if __name__ == "__main__":
    t0 = time.perf_counter()
    table = sweep({scenario!r}, lhs={{"recruitment.win_share": (0.1, 0.4), "activation.window_months": (3, 9)}},
                  points={points}, replications={replications}, seed=1, out={out!r}, workers={workers},
                  progress=False)
    wall = time.perf_counter() - t0
    driver = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    worker = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps({{"wall": wall, "rows": len(table), "driver_mb": driver, "worker_mb": worker}}))
"""


def run(points: int, replications: int, workers: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        code = CHILD.format(
            root=str(ROOT),
            scenario=str(ROOT / "scenarios" / "baseline.yaml"),
            points=points,
            replications=replications,
            out=str(Path(tmp) / "sweep"),
            workers=workers,
        )
        script = Path(tmp) / "bench_child.py"
        script.write_text(code)
        proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=True)
        return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=20)
    parser.add_argument("--replications", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--memory-replications", type=int, default=50)
    args = parser.parse_args()

    # 1 and 2 workers alternate, so both see the same machine conditions (shared VMs drift).
    times: dict[int, list[float]] = {1: [], 2: []}
    for _ in range(args.repeats):
        for workers in (1, 2):
            times[workers].append(run(args.points, args.replications, workers)["wall"])
    walls = {w: statistics.median(t) for w, t in times.items()}
    for workers, t in times.items():
        listed = ", ".join(f"{x:.2f}" for x in t)
        print(
            f"{args.points} points x {args.replications} replications, {workers} worker(s): "
            f"{walls[workers]:.2f} s (median of {args.repeats}: {listed})"
        )
    print(f"speed-up with 2 workers: {walls[1] / walls[2]:.2f}x (target >= 1.7)")

    for points in (args.points, 10 * args.points):
        r = run(points, args.memory_replications, 2)
        print(
            f"{points} points x {args.memory_replications} replications, 2 workers: {r['wall']:.1f} s, "
            f"peak memory driver {r['driver_mb']:.0f} MB, largest worker {r['worker_mb']:.0f} MB"
        )


if __name__ == "__main__":
    main()
