"""Sensitivity analysis: recovers known Sobol indices, and finds keys without effect."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import small_channel

from simulator import ChannelError
from simulator.sweeps import sensitivity

# Three probability keys stand for the Ishigami inputs u in [0, 1] -> x = -pi + 2 pi u.
KEYS = ("activation.monthly_probability", "churn.exit_probability", "collaboration.adoption_probability")


def ishigami(scenario, a=7.0, b=0.1):
    x1, x2, x3 = (-np.pi + 2 * np.pi * scenario.get(k) for k in KEYS)
    return np.sin(x1) + a * np.sin(x2) ** 2 + b * x3**4 * np.sin(x1)


def test_sobol_recovers_the_ishigami_indices():
    result = sensitivity(
        small_channel(), {k: (0.0, 1.0) for k in KEYS}, method="sobol", samples=1024, seed=1, model=ishigami
    )
    t = result.table
    # analytic values for a = 7, b = 0.1 (Ishigami & Homma 1990)
    assert t.loc[KEYS[0], "S1"] == pytest.approx(0.3139, abs=0.05)
    assert t.loc[KEYS[1], "S1"] == pytest.approx(0.4424, abs=0.05)
    assert t.loc[KEYS[2], "S1"] == pytest.approx(0.0, abs=0.05)
    assert t.loc[KEYS[0], "ST"] == pytest.approx(0.5576, abs=0.05)
    assert t.loc[KEYS[1], "ST"] == pytest.approx(0.4424, abs=0.05)
    assert t.loc[KEYS[2], "ST"] == pytest.approx(0.2437, abs=0.05)
    assert (t.S1_conf > 0).all() and (t.ST_conf > 0).all()
    assert len(result.samples) == 1024 * (3 + 2)


def test_morris_ranks_a_linear_function():
    def linear(scenario):
        return 3 * scenario.get(KEYS[0]) + 1 * scenario.get(KEYS[1])

    t = sensitivity(
        small_channel(), {k: (0.0, 1.0) for k in KEYS}, method="morris", samples=20, seed=2, model=linear
    ).table
    assert t.loc[KEYS[0], "mu_star"] == pytest.approx(3.0, rel=1e-6)
    assert t.loc[KEYS[1], "mu_star"] == pytest.approx(1.0, rel=1e-6)
    assert t.loc[KEYS[2], "mu_star"] == pytest.approx(0.0, abs=1e-12)
    assert (t.sigma < 1e-9).all()  # linear: no interactions


def test_on_the_model_a_key_without_effect_has_no_total_index(tmp_path):
    ranges = {"recruitment.win_share": (0.1, 0.6), "economics.onboarding_cost": (1000.0, 9000.0)}
    result = sensitivity(
        small_channel(horizon_months=12),
        ranges,
        kpi="revenue_last_12m",
        method="sobol",
        samples=16,
        replications=4,
        seed=3,
        workers=1,
        out=tmp_path / "runs",
    )
    t = result.table
    assert abs(t.loc["economics.onboarding_cost", "ST"]) < 0.01
    assert t.loc["recruitment.win_share", "ST"] > 0.1
    fig = result.plot()
    assert fig.axes and len(fig.axes[0].patches) == 4


def test_bad_requests():
    with pytest.raises(ChannelError, match="power of two"):
        sensitivity(small_channel(), {KEYS[0]: (0, 1)}, samples=100, model=ishigami)
    with pytest.raises(ChannelError, match="method"):
        sensitivity(small_channel(), {KEYS[0]: (0, 1)}, method="fast", model=ishigami)


def test_sensitivity_command(tmp_path):
    from conftest import BASELINE, run_cli

    out = tmp_path / "sens"
    proc = run_cli(
        "sensitivity",
        str(BASELINE),
        "--set",
        "horizon_months=12",
        "--range",
        "recruitment.win_share=0.1:0.5",
        "--range",
        "economics.onboarding_cost=1000:9000",
        "--samples",
        "8",
        "-r",
        "3",
        "--workers",
        "1",
        "--no-progress",
        "--out",
        str(out),
    )
    assert proc.returncode == 0, proc.stderr
    assert "recruitment.win_share" in proc.stdout and "ST" in proc.stdout
    assert (out / "sensitivity.csv").exists() and (out / "sensitivity.png").stat().st_size > 1000
