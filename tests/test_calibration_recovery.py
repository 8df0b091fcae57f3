"""Parameter recovery: synthetic exports from known scenarios calibrate back to them.

Each fitted key's 95% interval should cover the true value in about 95% of
fits; the tests ask for at least 90% less a binomial tolerance, and for
point estimates unbiased within their standard errors (mean z-score near 0).
A short history (heavy censoring) must widen the intervals and still cover.
The backtest of an export from the model itself must put about 80% of actual
months inside the simulated P10-P90 band.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from calibration_cases import true_value, truth

from simulator.calibration import backtest, calibrate, synthetic_export


def recovery(tmp_path, seeds, scale=1.0, months=48, dormant_after=1) -> pd.DataFrame:
    rows = []
    for seed in seeds:
        scn = truth(scale)
        folder = synthetic_export(scn, months=months, seed=seed).write(tmp_path / f"s{seed}-{scale}-{months}")
        result = calibrate(folder, dormant_after=dormant_after, base=scn)
        for fit in result.fits:
            value = true_value(scn, fit.key)
            se = (fit.high - fit.low) / 3.92
            rows.append(
                {
                    "seed": seed,
                    "key": fit.key,
                    "covered": fit.low <= value <= fit.high,
                    "z": (fit.value - value) / se if se > 0 else 0.0,
                    "width": fit.high - fit.low,
                    "integer": fit.decimals == 0 and "months" in fit.key,
                }
            )
    return pd.DataFrame(rows)


def binomial_floor(n: int, p: float = 0.90) -> float:
    """Coverage below which a true rate of ``p`` is rejected at about 1% (one-sided)."""
    return p - 2.33 * np.sqrt(p * (1 - p) / n)


def check_recovery(table: pd.DataFrame) -> None:
    n = len(table)
    assert n >= 20 * table["seed"].nunique()  # every mechanism was fitted in each export
    assert table["covered"].mean() >= binomial_floor(n), table.groupby("key")["covered"].mean().to_string()
    z = table.loc[~table["integer"], "z"]
    # Unbiased within the standard errors: the mean z-score is near 0 (z's of one export are correlated,
    # so the tolerance is that of the number of exports, not of the number of fits).
    assert abs(z.mean()) < 2.5 / np.sqrt(table["seed"].nunique()), z.groupby(table["key"]).mean().to_string()


def test_recovery_fast(tmp_path):
    table = recovery(tmp_path, seeds=(101, 102, 103))
    check_recovery(table)
    keys = set(table["key"])
    for key in (
        "activation.monthly_probability",
        "activation.window_months",
        "churn.dormancy_probability",
        "churn.exit_probability",
        "churn.reactivation_probability",
        "churn.dormant_exit_probability",
        "collaboration.adoption_probability",
        "collaboration.lapse_probability",
        "growth.active",
        "growth.collaborating",
        "growth.volatility",
        "recruitment.win_share",
        "recruitment.nurture_months",
        "market.segments.msp.activation_multiplier",
        "market.segments.integrator.revenue_median",
        "market.segments.reseller.revenue_sigma",
    ):
        assert key in keys


@pytest.mark.slow
@pytest.mark.parametrize("scale", [0.6, 1.0, 2.0])
def test_recovery_by_size(tmp_path, scale):
    check_recovery(recovery(tmp_path, seeds=range(200, 206), scale=scale))


@pytest.mark.slow
def test_recovery_with_dormancy_after_three_months(tmp_path):
    """The default setting reads short gaps as lumpy revenue and corrects the dormancy rate for the
    spells it hides: still unbiased within the errors."""
    check_recovery(recovery(tmp_path, seeds=range(300, 306), dormant_after=3))


@pytest.mark.slow
def test_heavy_censoring_widens_intervals_and_still_covers(tmp_path):
    long = recovery(tmp_path, seeds=range(400, 406), months=48)
    short = recovery(tmp_path, seeds=range(400, 406), months=18)
    check_recovery(short)
    widths = pd.DataFrame({"long": long.groupby("key")["width"].mean(), "short": short.groupby("key")["width"].mean()})
    rates = widths.loc[[k for k in widths.index if k.startswith(("churn.", "collaboration.", "activation.monthly"))]]
    assert (rates["short"] > rates["long"]).all(), rates.to_string()


def test_short_history_has_wider_intervals(tmp_path):
    scn = truth()
    widths = {}
    for months in (48, 18):
        folder = synthetic_export(scn, months=months, seed=7).write(tmp_path / f"m{months}")
        fits = calibrate(folder, dormant_after=1, base=scn).fitted
        widths[months] = {k: f.high - f.low for k, f in fits.items()}
    # (win share is not among them: it rests on the last nurture_months + cooloff_months of the funnel either way)
    for key in (
        "churn.dormancy_probability",
        "churn.exit_probability",
        "growth.active",
        "activation.monthly_probability",
    ):
        assert widths[18][key] > 1.3 * widths[48][key], key


def _backtest_coverage(tmp_path, seeds) -> pd.DataFrame:
    out = []
    for seed in seeds:
        folder = synthetic_export(truth(), months=36, seed=seed).write(tmp_path / f"bt{seed}")
        bt = backtest(folder, holdout=12, dormant_after=1, replications=100, seed=seed)
        out.append(bt.table.assign(seed=seed))
    return pd.concat(out, ignore_index=True)


#: What a start from counts can reproduce; signed and dormant need each partner's months since signing,
#: which only a start from the partner list gives (see backtest.starting_scenario).
COUNTS_START_METRICS = ("revenue", "earning_partners", "active", "collaborating", "first_deals")


def test_backtest_scores_exactly_what_it_compares(tmp_path):
    folder = synthetic_export(truth(), months=30, seed=5).write(tmp_path / "bt")
    bt = backtest(folder, holdout=6, dormant_after=1, replications=40, seed=1)
    assert len(bt.table) == 7 * 6
    assert bt.cut == pd.Period("2023-12", freq="M") and bt.as_of == pd.Period("2024-06", freq="M")
    t = bt.table
    assert (t["p10"] <= t["p25"]).all() and (t["p25"] <= t["p50"]).all() and (t["p75"] <= t["p90"]).all()
    assert bt.p10_p90 == pytest.approx(((t.p10 <= t.actual) & (t.actual <= t.p90)).mean())
    # The actual revenue is the export's own monthly total after the cut.
    revenue = pd.read_csv(folder / "revenue.csv")
    by_month = revenue.groupby("month")["revenue"].sum()
    actual = t[t.metric == "revenue"].set_index("calendar")["actual"]
    assert np.allclose(actual.to_numpy(), by_month.loc[actual.index].to_numpy())
    # The simulation starts from the channel at the cut: month 0 has its partners by state.
    start = bt.simulation.monthly[bt.simulation.monthly.month == 0].iloc[0]
    listing = bt.calibration.partner_list["state"].value_counts()
    for state in ("signed", "active", "collaborating", "dormant"):
        assert start[state] == listing.get(state, 0)
    html = bt.html()
    assert "Content-Security-Policy" in html and "<script" not in html
    paths = bt.write(tmp_path / "out")
    assert [p.name for p in paths] == ["backtest.html", "backtest.png", "backtest.csv"]


@pytest.mark.slow
def test_backtest_on_the_models_own_export_covers_about_80_percent(tmp_path):
    table = _backtest_coverage(tmp_path, seeds=range(500, 506))
    shown = table[table["metric"].isin(COUNTS_START_METRICS)]
    coverage = shown["in_p10_p90"].mean()
    assert 0.6 <= coverage <= 0.97, shown.groupby("metric")["in_p10_p90"].mean().to_string()
