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


def timings(repeats: int = 3, replications: int = 100) -> dict:
    """Each fresh start's two times (``runs``) and their medians, by name of :data:`TARGETS`."""
    if not CHROMIUM.exists():
        raise FileNotFoundError(f"{CHROMIUM} is missing (apt-get install chromium)")
    runs = []
    with tempfile.TemporaryDirectory(prefix="bench-dashboard-") as tmp:
        for i in range(repeats):
            work = Path(tmp) / f"run{i}"
            work.mkdir()
            runs.append(measure(CHROMIUM, work, replications=replications))
    return {name: statistics.median(r[name] for r in runs) for name in TARGETS} | {"runs": runs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--replications", type=int, default=100)
    args = parser.parse_args()
    try:
        m = timings(args.repeats, args.replications)
    except FileNotFoundError as exc:
        sys.exit(str(exc))
    print(f"machine: {machine()}")
    print(f"dashboard, baseline, {args.replications} replications, {args.repeats} fresh starts:")
    for name, target in TARGETS.items():
        shown = ", ".join(f"{r[name]:.2f}" for r in m["runs"])
        print(f"  {name.replace('_', ' ')}: median {m[name]:.2f} s (runs {shown}; target <= {target:g} s)")
    print(json.dumps({"replications": args.replications, **m}))


if __name__ == "__main__":
    main()
