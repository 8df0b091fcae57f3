"""The dashboard in a real headless browser: ``python run.py dashboard`` on a free loopback port,
driven with Playwright on Debian's Chromium (never ``playwright install``).

It measures the two speed figures of the dashboard (first answer for the baseline after opening the
page; updated answer after a slider change), writes them to a JSON file in a temporary folder and prints
them; ``benchmarks/bench_dashboard.py`` runs the same measurement.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from browser import chromium_required

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def chromium() -> Path:
    if not CHROMIUM.exists():
        if chromium_required():
            pytest.fail("REQUIRE_CHROMIUM=1 but /usr/bin/chromium is missing (apt-get install chromium)")
        pytest.skip("/usr/bin/chromium is missing (apt-get install chromium)")
    return CHROMIUM


def test_the_dashboard_in_a_headless_browser(chromium, tmp_path):
    from dashboard_browser import measure

    figures = measure(chromium, tmp_path, screenshot=tmp_path / "dashboard.png")
    out = tmp_path / "dashboard_speed.json"
    out.write_text(json.dumps(figures, indent=2))
    print(f"dashboard speed ({out}): {json.dumps(figures)}")
    # The page answered, the unchanged variant differed by exactly 0, the slider moved the variant only.
    assert figures["exactly_zero_message"]
    assert figures["unchanged_differences"] and set(figures["unchanged_differences"]) <= {"0", "0 USD", "0.0 points"}
    assert figures["variant_revenue_before"] == figures["baseline_revenue"]
    assert figures["baseline_revenue_after"] == figures["baseline_revenue"]
    assert figures["variant_revenue_after"] != figures["variant_revenue_before"]
    assert figures["revenue_difference_after"].startswith("+")  # more recruiting, more revenue
    assert figures["slider_value"] == "100"
    assert figures["exceptions"] == 0
    assert figures["server_address"] == "127.0.0.1"
    assert figures["screenshot_colours"] > 50  # not blank: text, metrics and charts
    assert os.path.getsize(tmp_path / "dashboard.png") > 10_000
