"""Sweep benchmark: parallel speed-up and bounded memory.

    python benchmarks/bench_sweep.py [--replications 200] [--points 20] [--repeats 5]

1. Wall time of a sweep of 20 points x 200 replications of the baseline with
   1 and 2 local workers (median of repeats) and their ratio (target >= 1.7).
2. Peak memory (resident set size) of the driver and of the largest worker
   for sweeps of 20 and of 200 points (same replications per point): it must
   not grow with the number of points.

Each sweep runs in a fresh process so its peak memory is its own; the
libraries it needs are imported before the clock starts (scipy.stats alone
takes about a second to import, the same with 1 or 2 workers).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import BASELINE, run_child


def run(points: int, replications: int, workers: int) -> dict:
    """One sweep in a fresh process: wall time, rows, peak memory of the driver and of the largest worker."""
    return run_child(f"""
import tempfile, time
from scipy.stats import qmc  # imported once per process (~1 s), as in a notebook: not the sweep's cost
from simulator.sweeps import sweep
with tempfile.TemporaryDirectory() as tmp:
    t0 = time.perf_counter()
    table = sweep({str(BASELINE)!r}, lhs={{"recruitment.win_share": (0.1, 0.4), "activation.window_months": (3, 9)}},
                  points={points}, replications={replications}, seed=1, out=tmp + "/sweep", workers={workers},
                  progress=False)
    report(wall=time.perf_counter() - t0, rows=len(table))
""")


def speedup(points: int = 20, replications: int = 200, repeats: int = 5) -> dict:
    """Median wall times with 1 and 2 workers, and the median ratio of runs made back to back."""
    times: dict[int, list[float]] = {1: [], 2: []}
    for _ in range(repeats):
        for workers in (1, 2):
            times[workers].append(run(points, replications, workers)["wall"])
    walls = {w: statistics.median(t) for w, t in times.items()}
    # Each pair ran back to back: the median of their ratios cancels slow drifts of a shared VM.
    ratios = [one / two for one, two in zip(times[1], times[2], strict=True)]
    return {"walls": walls, "runs": times, "ratio": statistics.median(ratios), "ratios": ratios}


def ceiling(replications: int = 1000, repeats: int = 5) -> dict:
    """The most 2 workers can gain on this machine: two independent simulations, one after the other
    and then side by side in two processes (no sweep machinery at all)."""
    return run_child(f"""
import statistics, time
from concurrent.futures import ProcessPoolExecutor
import multiprocessing
import simulator as sim
scenario = sim.load_scenario({str(BASELINE)!r})
def job(seed):
    sim.simulate(scenario, replications={replications}, seed=seed, partners=False)
job(0)
ratios = []
with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork")) as pool:
    list(pool.map(job, [0, 0]))  # both workers started and warm
    for i in range({repeats}):
        t0 = time.perf_counter(); job(2 * i + 1); job(2 * i + 2); one = time.perf_counter() - t0
        t0 = time.perf_counter(); list(pool.map(job, [2 * i + 1, 2 * i + 2])); two = time.perf_counter() - t0
        ratios.append(one / two)
report(ratio=statistics.median(ratios), ratios=ratios)
""")


def memory(points: int, replications: int = 50, workers: int = 2) -> dict:
    return run(points, replications, workers)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=20)
    parser.add_argument("--replications", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--memory-replications", type=int, default=50)
    args = parser.parse_args()

    s = speedup(args.points, args.replications, args.repeats)
    for workers, t in s["runs"].items():
        print(
            f"{args.points} points x {args.replications} replications, {workers} worker(s): "
            f"{s['walls'][workers]:.2f} s (median of {args.repeats}: {', '.join(f'{x:.2f}' for x in t)})"
        )
    print(f"speed-up with 2 workers: {s['ratio']:.2f}x (target >= 1.7)")
    c = ceiling()
    print(f"two independent simulations side by side: {c['ratio']:.2f}x (what this machine allows)")
    for points in (args.points, 10 * args.points):
        r = memory(points, args.memory_replications)
        print(
            f"{points} points x {args.memory_replications} replications, 2 workers: {r['wall']:.1f} s, "
            f"peak memory driver {r['peak_mb']:.0f} MB, largest worker {r['children_peak_mb']:.0f} MB"
        )


if __name__ == "__main__":
    main()
