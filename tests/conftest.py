"""Shared fixtures: scenario paths, small scenarios, and a CLI runner."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
BASELINE = SCENARIOS / "baseline.yaml"


@pytest.fixture
def baseline_path() -> Path:
    return BASELINE


def small_channel(**sections) -> dict:
    """A small, fast scenario as a dict (three segments, a channel, recruitment on)."""
    base = {
        "name": "small",
        "horizon_months": 24,
        "market": {
            "prospects": 300,
            "segments": {
                "reseller": {"share": 0.5, "revenue_median": 3000, "revenue_sigma": 1.5},
                "msp": {"share": 0.3, "revenue_median": 4000, "revenue_sigma": 1.2, "activation_multiplier": 1.3},
                "integrator": {
                    "share": 0.2,
                    "revenue_median": 9000,
                    "revenue_sigma": 1.6,
                    "activation_multiplier": 0.6,
                },
            },
        },
        "channel": {"signed": 10, "active": 40, "collaborating": 10, "dormant": 10},
        "recruitment": {"nurture_per_month": 10},
        "plan": {"revenue_target": 10_000_000},
    }
    for key, value in sections.items():
        base[key] = {**base.get(key, {}), **value} if isinstance(value, dict) else value
    return base


def small_grid(replications: int = 12):
    """A 2 x 2 grid sweep (activation window x nurturing) over the small 12-month channel, seed 7."""
    from simulator.sweeps import SweepDesign

    return SweepDesign.grid(
        small_channel(horizon_months=12),
        {"activation.window_months": [3, 6], "recruitment.nurture_per_month": [5, 15]},
        replications=replications,
        seed=7,
    )


@pytest.fixture
def small() -> dict:
    return small_channel()


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run ``python run.py ARGS`` as a user would."""
    return subprocess.run(
        [sys.executable, str(ROOT / "run.py"), *args],
        capture_output=True,
        text=True,
        cwd=cwd or ROOT,
        timeout=timeout,
    )
