"""Time of ``calibrate`` on an export of 5,000 partners, 60 months of revenue and 20,000 prospects.

    python benchmarks/bench_calibrate.py [--repeats 3]

The export is made once by ``synthetic_export`` (not timed) and written as CSV;
each repeat then reads, checks and calibrates it in this process, as
``run.py calibrate`` does (without writing files). Target: under 30 s on one core.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import machine

TARGET_SECONDS = 30.0

#: A channel that has grown to about 5,000 partners in 60 months, from a scored list of 20,000 prospects.
SCENARIO = {
    "name": "calibration benchmark",
    "market": {
        "prospects": 20_000,
        "segments": {
            "reseller": {"share": 0.5, "revenue_median": 2500, "revenue_sigma": 1.5},
            "msp": {"share": 0.3, "revenue_median": 3500, "revenue_sigma": 1.2, "activation_multiplier": 1.3},
            "integrator": {"share": 0.2, "revenue_median": 9000, "revenue_sigma": 1.6, "activation_multiplier": 0.6},
        },
    },
    "channel": {"signed": 250, "active": 2000, "collaborating": 400, "dormant": 350},
    "recruitment": {"nurture_per_month": 120, "win_share": 0.3},
}


def build(folder: Path) -> dict[str, int]:
    from simulator.calibration import synthetic_export

    export = synthetic_export(SCENARIO, months=60, seed=1)
    export.write(folder)
    return {name: len(t) for name, t in export.tables.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    from simulator.calibration import calibrate

    with tempfile.TemporaryDirectory() as tmp:
        sizes = build(Path(tmp))
        times, cpu = [], []
        for _ in range(args.repeats):
            t0, c0 = time.perf_counter(), time.process_time()
            result = calibrate(tmp)
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
    print(f"machine: {machine()}")
    print("export: " + ", ".join(f"{k} {v:,} rows" for k, v in sizes.items()) + f"; {result.history.months} months")
    print(f"calibrate: {len(result.fits)} keys fitted from {len(result.history.partner_id):,} partners")
    print(
        f"runs: {', '.join(f'{t:.2f}' for t in times)} s wall; median {statistics.median(times):.2f} s wall, "
        f"{statistics.median(cpu):.2f} s CPU "
        f"(target < {TARGET_SECONDS:.0f} s)"
    )


if __name__ == "__main__":
    main()
