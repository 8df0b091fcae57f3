"""Time of ``calibrate`` on an export of 5,000 partners, 60 months of revenue and 20,000 prospects.

    python benchmarks/bench_calibrate.py [--repeats 3] [--scale 1]

The export is made once by ``synthetic_export`` (not timed) and written as CSV;
each repeat then reads, checks and calibrates it in this process, as
``run.py calibrate`` does (without writing files). Target: under 30 s on one core. ``--scale`` shrinks
the channel and the market together (``benchmarks/run.py --quick`` uses a tenth).
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


def scaled(scale: float) -> dict:
    """:data:`SCENARIO` with the market and every channel state scaled by ``scale``."""
    return {
        **SCENARIO,
        "market": {**SCENARIO["market"], "prospects": round(SCENARIO["market"]["prospects"] * scale)},
        "channel": {state: round(n * scale) for state, n in SCENARIO["channel"].items()},
        "recruitment": {**SCENARIO["recruitment"], "nurture_per_month": round(120 * scale)},
    }


def build(folder: Path, scale: float = 1.0) -> dict[str, int]:
    from simulator.calibration import synthetic_export

    export = synthetic_export(scaled(scale), months=60, seed=1)
    export.write(folder)
    return {name: len(t) for name, t in export.tables.items()}


def measure(repeats: int = 3, scale: float = 1.0) -> dict:
    """Wall and CPU seconds of ``calibrate`` on the export (made once, not timed), repeated in this process."""
    from simulator.calibration import calibrate

    with tempfile.TemporaryDirectory() as tmp:
        sizes = build(Path(tmp), scale)
        times, cpu = [], []
        for _ in range(repeats):
            t0, c0 = time.perf_counter(), time.process_time()
            result = calibrate(tmp)
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
    return {
        "sizes": sizes,
        "months": result.history.months,
        "keys": len(result.fits),
        "partners": len(result.history.partner_id),
        "runs": times,
        "seconds": statistics.median(times),
        "cpu": statistics.median(cpu),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args()
    m = measure(args.repeats, args.scale)
    print(f"machine: {machine()}")
    print("export: " + ", ".join(f"{k} {v:,} rows" for k, v in m["sizes"].items()) + f"; {m['months']} months")
    print(f"calibrate: {m['keys']} keys fitted from {m['partners']:,} partners")
    print(
        f"runs: {', '.join(f'{t:.2f}' for t in m['runs'])} s wall; median {m['seconds']:.2f} s wall, "
        f"{m['cpu']:.2f} s CPU (target < {TARGET_SECONDS:.0f} s)"
    )


if __name__ == "__main__":
    main()
