"""Speed of the dashboard in a real browser: first answer for the baseline, and after a slider change.

    python benchmarks/bench_dashboard.py [--repeats 3] [--replications 100]

Each repeat starts ``python run.py dashboard`` afresh (imports included) on a free loopback port, opens
the page in headless Chromium (Playwright on ``/usr/bin/chromium``), and measures the time from opening
the page to the baseline's first answer (its numbers shown) and from moving the "Prospects nurtured a
month" slider to the variant's updated answer: the measurement of ``tests/test_dashboard_browser.py``.
Targets on a 2-core machine: within 5 s and within 3 s.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the browser driver shared with the test
sys.path.insert(0, str(ROOT))

from dashboard_browser import measure  # noqa: E402

from benchmarks.common import machine  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
TARGETS = {"first_answer_seconds": 5.0, "slider_update_seconds": 3.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--replications", type=int, default=100)
    args = parser.parse_args()
    if not CHROMIUM.exists():
        sys.exit(f"{CHROMIUM} is missing (apt-get install chromium)")
    runs = []
    with tempfile.TemporaryDirectory(prefix="bench-dashboard-") as tmp:
        for i in range(args.repeats):
            work = Path(tmp) / f"run{i}"
            work.mkdir()
            runs.append(measure(CHROMIUM, work, replications=args.replications))
    print(f"machine: {machine()}")
    print(f"dashboard, baseline, {args.replications} replications, {args.repeats} fresh starts:")
    summary = {}
    for name, target in TARGETS.items():
        values = [r[name] for r in runs]
        summary[name] = statistics.median(values)
        shown = ", ".join(f"{v:.2f}" for v in values)
        print(f"  {name.replace('_', ' ')}: median {summary[name]:.2f} s (runs {shown}; target <= {target:g} s)")
    print(json.dumps({"replications": args.replications, **summary, "runs": runs}))


if __name__ == "__main__":
    main()
