"""Ramp-up after the first deal (activation.ramp_start, activation.ramp_months)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import small_channel

import simulator as sim
from simulator.engine.kernel import ChannelKernel
from simulator.engine.population import NEVER


def quiet(**activation):
    """Recruits sign and transact at once and never leave; no growth noise."""
    return sim.load_scenario(
        small_channel(
            horizon_months=24,
            channel={"signed": 0, "active": 30, "collaborating": 0, "dormant": 0},
            market={"prospects": 300, "vendor_signings_per_year": 120.0},
            recruitment={"nurture_per_month": 10, "win_share": 1.0},
            activation={"monthly_probability": 1.0, **activation},
            churn={k: 0.0 for k in ("dormancy_probability", "exit_probability", "dormant_exit_probability")},
            collaboration={"adoption_probability": 0.0},
            growth={"active": 0.12, "volatility": 0.0},
        )
    )


def test_a_recruits_revenue_follows_the_closed_form_month_by_month():
    start, months, g = 0.25, 6, 0.12
    scn = quiet(ramp_start=start, ramp_months=months)
    kernel = ChannelKernel(scn, 3, [0])
    P = kernel.layout.partners
    checked = 0
    while not kernel.done:
        kernel.step()
        m = kernel.month
        first = kernel.pop.first_deal[0].astype(np.int64)
        earning = np.isin(kernel.pop.state[0], [sim.State.ACTIVE, sim.State.COLLABORATING])
        k = m - first
        recruits = earning & (first >= 1) & (first != NEVER)
        potential = kernel.pop.potential[0, : first.size].astype(np.float64)
        expected = potential * (1 + g) ** (k / 12) * np.minimum(start + (1 - start) * k / months, 1.0)
        got = kernel.monthly_revenue()[0]
        np.testing.assert_allclose(got[recruits], expected[recruits], rtol=2e-5)
        # today's partners earn their full run-rate, growing at g from month 0
        today = np.arange(first.size) < P
        np.testing.assert_allclose(got[today], potential[today] * (1 + g) ** (m / 12), rtol=2e-5)
        checked += int(recruits.sum())
    assert checked > 1000


def test_no_ramp_and_a_ramp_that_starts_full_are_todays_model():
    base = sim.simulate(quiet(), replications=4, seed=1)
    zero = sim.simulate(quiet(ramp_months=0, ramp_start=0.1), replications=4, seed=1)
    full = sim.simulate(quiet(ramp_months=6, ramp_start=1.0), replications=4, seed=1)
    pd.testing.assert_frame_equal(base.monthly, zero.monthly)
    pd.testing.assert_frame_equal(base.monthly, full.monthly)


def test_a_ramp_lowers_recruited_revenue_by_its_exact_share():
    """A ramp changes what recruits earn, never who signs or transacts."""
    no_ramp = sim.simulate(quiet(), replications=2, seed=5)
    ramped = sim.simulate(quiet(ramp_months=6, ramp_start=0.5), replications=2, seed=5)
    assert (ramped.kpis["revenue_total"] < no_ramp.kpis["revenue_total"]).all()
    assert (ramped.kpis["activations"] == no_ramp.kpis["activations"]).all()  # the ramp changes revenue only


@pytest.mark.parametrize("months", [1, 6])
def test_todays_signed_partners_ramp_from_their_first_deal_in_month_one(months):
    """A partner signed today closes its first deal in month 1 (certain activation) and ramps from there:
    the month of the first deal earns ramp_start of its run-rate (also with a one-month ramp)."""
    start, g = 0.3, 0.12
    scn = sim.load_scenario(
        small_channel(
            horizon_months=10,
            channel={"signed": 5, "active": 20, "collaborating": 0, "dormant": 0},
            market={"prospects": 0},
            recruitment={"nurture_per_month": 0},
            activation={"monthly_probability": 1.0, "ramp_start": start, "ramp_months": months},
            churn={k: 0.0 for k in ("dormancy_probability", "exit_probability", "dormant_exit_probability")},
            collaboration={"adoption_probability": 0.0},
            growth={"active": g, "volatility": 0.0},
        )
    )
    kernel = ChannelKernel(scn, 2, [0])
    signed_today = np.flatnonzero(kernel.pop.state[0, : kernel.layout.partners] == sim.State.SIGNED)
    assert signed_today.size == 5
    potential = kernel.pop.potential[0, signed_today].astype(np.float64)
    while not kernel.done:
        kernel.step()
        k = kernel.month - 1  # months since the first deal
        assert (kernel.pop.first_deal[0, signed_today] == 1).all()
        expected = potential * (1 + g) ** (k / 12) * min(start + (1 - start) * k / months, 1.0)
        np.testing.assert_allclose(kernel.monthly_revenue()[0, signed_today], expected, rtol=1e-9)
