"""Start ``python run.py dashboard`` on a free loopback port and drive it in headless Chromium (Playwright).

Shared by ``tests/test_dashboard_browser.py`` and ``benchmarks/bench_dashboard.py``: both measure the time
from opening the page to the baseline's first answer, and from a slider change to the updated answer.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
EXACTLY_ZERO = "every paired difference is exactly 0"
SLIDER = "Prospects nurtured a month"
TIMEOUT_MS = 180_000
# Poll on a timer: the default (animation frames) is throttled in headless Chromium and would add
# tens of seconds that no reader waits.
POLL_MS = 50

# The "B - A" column of the paired-differences table, read from the rendered page.
DIFFERENCES_JS = """() => {
  for (const table of document.querySelectorAll('[data-testid="stTable"] table')) {
    const heads = Array.from(table.querySelectorAll('thead th')).map(th => th.innerText.trim());
    const col = heads.indexOf('B - A');
    if (col < 0 || !heads.includes('P(B better)')) continue;
    return Array.from(table.querySelectorAll('tbody tr')).map(tr => tr.children[col].innerText.trim());
  }
  return null;
}"""
UPDATED_JS = """(before) => {
  const m = document.querySelectorAll('[data-testid="stMetricValue"]');
  return document.body.innerText.includes('The variant changes') && m.length >= 10 && m[5].innerText !== before;
}"""
ANSWERED_JS = """() => document.querySelectorAll('[data-testid="stMetricValue"]').length >= 10
  && document.body.innerText.includes('every paired difference is exactly 0')"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def dashboard_server(port: int, log: Path, replications: int = 100) -> Iterator[subprocess.Popen]:
    """``python run.py dashboard --port PORT`` as a user starts it; stopped (with its server) afterwards."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, str(ROOT / "run.py"), "dashboard", "--port", str(port), "-r", str(replications)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: nothing is left behind on failure
        )
        try:
            wait_until_healthy(port, proc, log)
            yield proc
        finally:
            stop(proc)


def wait_until_healthy(port: int, proc: subprocess.Popen, log: Path, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the dashboard exited with {proc.returncode}: {log.read_text(errors='replace')}")
        with (
            contextlib.suppress(OSError),
            urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as resp,
        ):
            if resp.read().strip() == b"ok":
                return
        time.sleep(0.2)
    raise RuntimeError(f"the dashboard did not answer within {timeout:.0f} s: {log.read_text(errors='replace')}")


def stop(proc: subprocess.Popen) -> None:
    """SIGTERM to run.py (it stops its server); the whole group is killed if that does not work."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)  # the server, if run.py could not stop it


def server_address(proc: subprocess.Popen) -> str | None:
    """The ``--server.address`` the dashboard gave ``streamlit run``."""
    import psutil

    for child in psutil.Process(proc.pid).children(recursive=True):
        cmd = child.cmdline()
        if "--server.address" in cmd:
            return cmd[cmd.index("--server.address") + 1]
    return None


def colours(path: Path) -> int:
    """Distinct colours of a screenshot (a blank page has one or two)."""
    from PIL import Image

    with Image.open(path) as image:
        found = image.convert("RGB").getcolors(maxcolors=1 << 24)
    return len(found or [])


def measure(chromium: Path, workdir: Path, screenshot: Path | None = None, replications: int = 100) -> dict:
    """Open the dashboard, wait for the baseline's answer, move a slider, wait for the variant's answer.

    Returns the two times (seconds) and what the page showed.
    """
    from playwright.sync_api import sync_playwright

    port = free_port()
    figures: dict = {"replications": replications}
    with dashboard_server(port, workdir / "dashboard.log", replications) as proc:
        figures["server_address"] = server_address(proc)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS, headless=True)
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                started = time.perf_counter()
                page.goto(f"http://127.0.0.1:{port}/")
                page.wait_for_function(ANSWERED_JS, timeout=TIMEOUT_MS, polling=POLL_MS)
                figures["first_answer_seconds"] = round(time.perf_counter() - started, 3)
                values = page.locator('[data-testid="stMetricValue"]').all_inner_texts()
                figures["baseline_revenue"] = values[0]
                figures["variant_revenue_before"] = values[5]
                figures["exactly_zero_message"] = EXACTLY_ZERO in page.inner_text("body")
                page.wait_for_function(f"({DIFFERENCES_JS})() !== null", timeout=TIMEOUT_MS, polling=POLL_MS)
                figures["unchanged_differences"] = page.evaluate(DIFFERENCES_JS)

                slider = page.get_by_role("slider", name=SLIDER)
                slider.focus()
                moved = time.perf_counter()
                page.keyboard.press("End")  # to the top of its range, one key press
                page.wait_for_function(UPDATED_JS, arg=values[5], timeout=TIMEOUT_MS, polling=POLL_MS)
                figures["slider_update_seconds"] = round(time.perf_counter() - moved, 3)
                after = page.locator('[data-testid="stMetricValue"]').all_inner_texts()
                figures["baseline_revenue_after"] = after[0]
                figures["variant_revenue_after"] = after[5]
                figures["slider_value"] = slider.get_attribute("aria-valuetext")
                page.wait_for_function(
                    f"(() => {{ const d = ({DIFFERENCES_JS})(); return d !== null && d[0] !== '0 USD'; }})()",
                    timeout=TIMEOUT_MS,
                    polling=POLL_MS,
                )
                figures["revenue_difference_after"] = page.evaluate(DIFFERENCES_JS)[0]
                figures["exceptions"] = page.locator('[data-testid="stException"]').count()
                if screenshot is not None:
                    page.wait_for_function(
                        "document.querySelectorAll('.js-plotly-plot').length >= 2", timeout=TIMEOUT_MS, polling=POLL_MS
                    )
                    page.screenshot(path=str(screenshot), full_page=True)
                    figures["screenshot_colours"] = colours(screenshot)
            finally:
                browser.close()
    return figures
