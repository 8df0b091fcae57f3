"""Wall time of optimising the baseline over all 15 catalogue levers, and the contribution it finds.

    python benchmarks/bench_optimize.py [--trials 200] [--replications 200] [--budget 1500000] [--workers 2]

Runs ``python run.py optimize scenarios/baseline.yaml --levers all`` as a
user would (a fresh process, imports included): every lever on or off at an
intensity from 0 to 2, ``--trials`` candidates of ``--replications``
replications each, then the top 10 re-run on twice as many fresh
replications. Prints the wall time and the best program's contribution over
the horizon against the scenario's own program (paired, 90% interval).
Target: under 5 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import BASELINE, ROOT, machine
from simulator.formatting import money

TARGET_SECONDS = 300.0


def measure(trials: int, replications: int, budget: float, workers: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "optimize"
        command = [sys.executable, str(ROOT / "run.py"), "optimize", str(BASELINE), "--levers", "all"]
        command += ["--budget", f"{budget:.0f}", "--trials", str(trials), "-r", str(replications)]
        command += ["--workers", str(workers), "--out", str(out), "--quiet"]
        t0 = time.perf_counter()
        proc = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env={**os.environ, "COLUMNS": "200"})
        seconds = time.perf_counter() - t0
        if proc.returncode not in (0, 1):
            sys.exit(f"run.py optimize failed ({proc.returncode}): {proc.stderr.strip()}")
        summary = json.loads((out / "result.json").read_text())
    return {"seconds": seconds, "summary": summary, "command": command}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--replications", type=int, default=200)
    parser.add_argument("--budget", type=float, default=1_500_000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    m = measure(args.trials, args.replications, args.budget, args.workers)
    s = m["summary"]
    cur = s["currency"]
    print(f"machine: {machine()}")
    print(f"command: run.py optimize baseline.yaml {' '.join(m['command'][4:-3])}")
    print(
        f"wall time: {m['seconds']:.1f} s (target < {TARGET_SECONDS:.0f} s: "
        f"{'met' if m['seconds'] < TARGET_SECONDS else 'NOT met'}); search {s['settings']['seconds']:.1f} s in-process"
    )
    win = s["winner"]
    if win is None:
        print(f"no winner: {s['message']}")
        return
    d = win["differences"]["contribution_total"]
    roi = "-" if win["roi"] is None else f"{win['roi']:.2f}"
    print(f"best program: {win['candidate']}")
    print(
        f"contribution over the horizon: {money(d['new'], cur)} against {money(d['own'], cur)} with the scenario's own "
        f"program: {money(d['mean'], cur)} (90% interval {money(d['low'], cur)} to {money(d['high'], cur)}), "
        f"on {s['reevaluation']['replications']} fresh replications"
    )
    print(
        f"program cost {money(win['program_cost_mean'], cur)} for a budget of {s['budget']['text']} "
        f"(P(overspend) {100 * win['p_overspend']:.0f}%); ROI {roi}; "
        f"payback month {win['payback_month']}; P(best of the re-run) {100 * (win['p_best'] or 0):.0f}%"
    )


if __name__ == "__main__":
    main()
