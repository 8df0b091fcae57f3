"""Calibration: the estimators against exact recomputation, the files it writes, and a calibrated
scenario used like any other."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from calibration_cases import truth

import simulator
from simulator import capacity, load_scenario, simulate, size_recruitment
from simulator.calibration import calibrate, read_export, synthetic_export
from simulator.calibration.history import build_history
from simulator.cli.main import main
from simulator.lifecycle.states import State
from simulator.reports.html import render
from simulator.scenario.schema import Channel, Scenario

ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]
ACME = ROOT / "examples" / "acme_export"


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    """A clean synthetic export (36 months) and its truth."""
    scn = truth()
    folder = tmp_path_factory.mktemp("clean")
    export = synthetic_export(scn, months=36, seed=11)
    export.write(folder)
    return scn, export, folder


@pytest.fixture(scope="module")
def calibrated(clean):
    scn, _, folder = clean
    return calibrate(folder, dormant_after=1, base=scn)


# -- the synthetic export is the engine's own history ----------------------------------------


def test_synthetic_export_is_the_engines_history(clean):
    scn, export, _ = clean
    sim = simulate(scn.override(horizon_months=36), replications=[0], seed=11, partners=True)
    monthly = sim.monthly.set_index("month")
    revenue = export.tables["revenue"].groupby("month")["revenue"].sum()
    assert len(revenue) == 36
    # Revenue of every month, to the cent per partner row.
    rows = export.tables["revenue"].groupby("month").size()
    assert np.all(np.abs(revenue.to_numpy() - monthly.loc[1:, "revenue"].to_numpy()) <= 0.006 * rows.to_numpy() + 1)
    partners = export.tables["partners"]
    assert len(partners) == scn.channel.partners + monthly.loc[1:, "signings"].sum()
    left = partners["offboarded"].ne("").sum()
    assert left == monthly.loc[36, "churned"]
    # Collaboration months are the collaborating partners of each month.
    collab = export.tables["collaboration"].groupby("month").size()
    assert np.array_equal(collab.to_numpy(), monthly.loc[1:, "collaborating"].to_numpy())
    # Today's partners were onboarded before the history: left truncation matters.
    assert (partners["onboarded"] < "2022-01-01").sum() == scn.channel.partners


def test_messy_export_holds_what_real_exports_hold(tmp_path):
    export = synthetic_export(truth(), months=30, seed=3, messy=True)
    p = export.tables["partners"]
    assert p.duplicated().sum() >= 1
    assert (export.tables["revenue"]["revenue"] < 0).sum() >= 1
    assert p["segment"].str.strip().ne(p["segment"]).any() and p["segment"].str.lower().ne(p["segment"]).any()
    assert export.tables["revenue"]["month"].min() == "2022-07"  # the history starts after some joined
    result = calibrate(export.write(tmp_path / "messy"), base=truth())
    reasons = {a.reason: a.count for a in result.set_aside}
    assert any("duplicates" in r for r in reasons) and any("negative" in r for r in reasons)
    assert any("without a first_deal" in r for r in reasons)
    assert set(result.history.segments) == {"reseller", "msp", "integrator"}  # names normalised


# -- estimators against exact recomputation -----------------------------------------------


def _panel_counts(h, window):
    """Partner-months and moves out of each state, counted partner by partner (independent of the fit)."""
    M = h.model_states(window)
    counts: dict[tuple[int, int], int] = {}
    exposure: dict[int, int] = {}
    for row in M:
        for a, b in itertools.pairwise(row):
            if a < 0 or a == State.CHURNED or b < 0:
                continue
            exposure[a] = exposure.get(a, 0) + 1
            counts[(a, b)] = counts.get((a, b), 0) + 1
    return exposure, counts


def test_dormant_rates_are_the_closed_form_competing_risk_mle(calibrated):
    h = calibrated.history
    exposure, counts = _panel_counts(h, calibrated.activation.window)
    n = exposure[State.DORMANT]
    back = counts.get((State.DORMANT, State.ACTIVE), 0) + counts.get((State.DORMANT, State.COLLABORATING), 0)
    out = counts.get((State.DORMANT, State.CHURNED), 0)
    H = -np.log1p(-(back + out) / n)  # leave with 1 - exp(-H); move k with share h_k / H
    fits = calibrated.fitted
    assert fits["churn.reactivation_probability"].value == pytest.approx(-np.expm1(-H * back / (back + out)), rel=1e-4)
    assert fits["churn.dormant_exit_probability"].value == pytest.approx(-np.expm1(-H * out / (back + out)), rel=1e-4)
    assert (
        fits["churn.reactivation_probability"].exposure == n and fits["churn.reactivation_probability"].events == back
    )


def test_activation_probability_is_first_deals_over_months_at_risk(calibrated):
    h, act = calibrated.history, calibrated.activation
    ref = act.fits[0].estimator.split("segment ")[1].split(" ")[0]
    g = h.segments.index(ref)
    W = act.window
    deals = months = 0
    for o, f, x, s in zip(h.onboarded, h.first_deal, h.offboarded, h.segment, strict=True):
        if s != g:
            continue
        end = f if f >= 0 and f < x else min(x, h.months - 1)
        entry = max(0, -1 - o)
        for d in range(entry + 1, min(end - o, W) + 1):  # months since onboarding at risk, within the window
            months += 1
            deals += int(f >= 0 and f < x and d == f - o)
    mult = truth().market.segments[ref].activation_multiplier
    expected = -np.expm1(np.log1p(-deals / months) / mult)
    assert act.fits[0].value == pytest.approx(expected, rel=1e-9)
    assert act.fits[0].events == deals and act.fits[0].exposure == months


def test_growth_is_the_lognormal_mle_of_monthly_changes(calibrated):
    h = calibrated.history
    M = h.model_states(calibrated.activation.window)
    x = {State.ACTIVE: [], State.COLLABORATING: []}
    for p in range(len(h.partner_id)):
        for t in range(1, h.months):
            a, b = h.revenue[p, t - 1], h.revenue[p, t]
            if a > 0 and b > 0 and M[p, t - 1] in x:
                x[M[p, t - 1]].append(np.log(b / a))
    resid = np.concatenate([np.array(v) - np.mean(v) for v in x.values()])
    sd = np.sqrt((resid**2).sum() / (resid.size - 2))
    fits = calibrated.fitted
    assert fits["growth.volatility"].value == pytest.approx(sd * np.sqrt(12), rel=1e-9)
    drift = np.mean(x[State.ACTIVE])
    assert fits["growth.active"].value == pytest.approx(np.expm1(12 * (drift + sd**2 / 2)), rel=1e-9)


def test_dormancy_rule_setting(clean):
    """dormant_after = N: dormant after N months without revenue, by EXPORT.md's rule."""
    _, _, folder = clean
    export = read_export(folder)
    h1 = build_history(export, export.last_month, 1, [])
    h3 = build_history(export, export.last_month, 3, [])
    s1, s3 = h1.export_states(), h3.export_states()
    quiet = (h1.revenue == 0) & (s1 == State.DORMANT)
    assert quiet.any()
    # A partner dormant after 3 quiet months under N=3 is dormant under N=1 too, never the other way round.
    assert ((s3 == State.DORMANT) <= (s1 == State.DORMANT)).all()
    assert (s3 == State.DORMANT).sum() < (s1 == State.DORMANT).sum()


def test_as_of_cuts_the_history(clean):
    scn, _, folder = clean
    early = calibrate(folder, as_of="2023-12-31", dormant_after=1, base=scn)
    assert early.as_of == pd.Period("2023-12", freq="M") and early.history.months == 24
    assert (
        early.fitted["churn.exit_probability"].exposure
        < calibrate(folder, dormant_after=1).fitted["churn.exit_probability"].exposure
    )
    with pytest.raises(simulator.ChannelError, match="after the revenue history ends"):
        calibrate(folder, as_of="2030-01-01")


# -- what calibrate writes -------------------------------------------------------------------


def test_scenario_file_comments_every_value(calibrated, tmp_path):
    paths = calibrated.write(tmp_path / "acme.yaml", report=tmp_path / "cal.html")
    text = (tmp_path / "acme.yaml").read_text()
    scn = load_scenario(tmp_path / "acme.yaml")
    notes = scn.notes
    for fit in calibrated.fits:
        note = notes[fit.key]
        assert note.startswith("fitted:") and "95% interval" in note and f"{fit.events:,} events" in note
    assert notes["market.prospects"].startswith("not fitted")
    assert notes["economics"].startswith("not fitted")
    assert "uncertainty:" in text
    # The partner list beside it: one row per partner still in, with the required columns.
    listing = pd.read_csv(tmp_path / "acme-partners.csv")
    assert list(listing.columns[:5]) == ["partner_id", "segment", "state", "run_rate", "months_since_signing"]
    assert set(listing["state"]) <= {"signed", "active", "collaborating", "dormant"}
    assert [p.name for p in paths] == ["acme-partners.csv", "acme.yaml", "cal.html"]
    if "partner_list" not in Channel.model_fields:
        counts = listing["state"].value_counts()
        assert scn.channel.active == counts["active"] and scn.channel.dormant == counts["dormant"]


def test_scenario_dict_forms(calibrated):
    with_both = calibrated.scenario_dict(with_partner_list=True, with_uncertainty=True, partner_list_path="p.csv")
    assert with_both["channel"] == {"partner_list": "p.csv"}
    u = with_both["uncertainty"]
    assert u["churn.exit_probability"].keys() == {"beta"}
    a, b = u["churn.exit_probability"]["beta"]
    assert a / (a + b) == pytest.approx(calibrated.fitted["churn.exit_probability"].value, rel=0.02)
    assert u["growth.active"].keys() == {"normal"}
    assert u["market.segments.msp.revenue_median"].keys() == {"lognormal"}
    plain = calibrated.scenario_dict(with_partner_list=False, with_uncertainty=False)
    assert "uncertainty" not in plain and "partner_list" not in plain["channel"]


def test_partner_list_at_as_of(calibrated):
    listing = calibrated.partner_list
    h = calibrated.history
    last = h.months - 1
    assert (listing.loc[listing.state == "signed", "run_rate"] == 0).all()
    earning = listing[listing.state.isin(["active", "collaborating"])]
    assert (earning["run_rate"] > 0).all()
    row = h.partner_id.tolist().index(earning.iloc[0]["partner_id"])
    assert earning.iloc[0]["revenue_t12m"] == pytest.approx(h.revenue[row, last - 11 :].sum(), abs=0.01)
    assert (listing["months_since_signing"] >= 0).all()


def test_report_is_self_contained_and_escapes_export_text(tmp_path, clean):
    _, export, _ = clean
    tables = {k: v.copy() for k, v in export.tables.items()}
    evil = "<script>alert(1)</script>"
    tables["revenue"] = pd.concat(
        [tables["revenue"], pd.DataFrame([{"partner_id": evil, "month": "2022-03", "revenue": 5.0}])]
    )
    folder = tmp_path / "evil"
    folder.mkdir()
    for name, t in tables.items():
        t.to_csv(folder / f"{name}.csv", index=False)
    result = calibrate(folder, dormant_after=1)
    from simulator.calibration.report import calibration_report

    html = calibration_report(result)
    assert "<script" not in html and "&lt;script&gt;" in html
    assert "default-src 'none'" in html and "data:image/png;base64," in html
    assert 'id="dormant-after">1<' in html
    assert "missing from partners" in html


# -- a calibrated scenario is a scenario like any other --------------------------------------


def test_calibrated_scenario_simulates_sizes_and_reports(calibrated):
    scn = calibrated.scenario().override(plan__revenue_target=40_000_000, horizon_months=24)
    result = simulate(scn, replications=30, seed=1)
    assert np.isfinite(result.monthly["revenue"]).all()
    cap = capacity(scn, replications=30, seed=1)
    assert cap.per_replication["revenue_last_12m"].median() > 0
    sizing = size_recruitment(scn, replications=30, seed=1, workers=1, max_replications=30)
    assert sizing.message
    report = render(result, cap)
    assert calibrated.fits[0].key in report.html  # the appendix shows the fitted notes


def test_cli_calibrate_validate_simulate(tmp_path, capsys):
    out = tmp_path / "scn" / "acme.yaml"
    code = main(
        [
            "calibrate",
            str(ACME),
            "--out",
            str(out),
            "--report",
            str(tmp_path / "cal.html"),
            "--base",
            str(ROOT / "examples" / "acme.yaml"),
        ]
    )
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "keys fitted" in printed and "rows set aside" in printed
    assert out.exists() and (tmp_path / "scn" / "acme-partners.csv").exists() and (tmp_path / "cal.html").exists()
    assert main(["validate", str(out)]) == 0
    assert main(["simulate", str(out), "-r", "4", "--out", str(tmp_path / "sim"), "--set", "horizon_months=6"]) == 0


def test_cli_synth_export_and_backtest(tmp_path, capsys):
    folder = tmp_path / "export"
    assert (
        main(
            [
                "synth-export",
                str(ROOT / "examples" / "acme.yaml"),
                "--out",
                str(folder),
                "--months",
                "24",
                "--seed",
                "2",
            ]
        )
        == 0
    )
    assert {p.name for p in folder.iterdir()} == {"partners.csv", "revenue.csv", "prospects.csv", "collaboration.csv"}
    code = main(
        ["backtest", str(folder), "--holdout", "6", "-r", "20", "--out", str(tmp_path / "bt"), "--dormant-after", "1"]
    )
    printed = capsys.readouterr().out
    assert code == 0 and "inside P10-P90" in printed
    assert (tmp_path / "bt" / "backtest.png").exists()
    assert main(["backtest", str(folder), "--holdout", "22"]) == 2
    assert "months of revenue history before the cut" in capsys.readouterr().err


def test_example_export_calibrates(tmp_path):
    result = calibrate(ACME, base=ROOT / "examples" / "acme.yaml")
    assert len(result.history.partner_id) > 200
    assert sum(a.count for a in result.set_aside) > 0  # the example is messy on purpose
    assert result.fitted["activation.window_months"].low <= 6 <= result.fitted["activation.window_months"].high


def test_public_names():
    assert simulator.calibrate is calibrate and simulator.synthetic_export is synthetic_export
    assert callable(simulator.backtest)


# -- once the engine starts from a partner list and carries uncertainty --------------------------


def test_partner_list_start_reproduces_month_zero(calibrated, tmp_path):
    if "partner_list" not in Channel.model_fields:
        pytest.skip("the engine does not start from channel.partner_list yet")
    calibrated.write(tmp_path / "acme.yaml")
    scn = load_scenario(tmp_path / "acme.yaml")
    result = simulate(scn, replications=5, seed=0)
    t12 = result.monthly.loc[result.monthly.month == 0, "revenue_t12m"]
    listing = pd.read_csv(tmp_path / "acme-partners.csv")
    assert np.allclose(t12.to_numpy(), listing["revenue_t12m"].sum(), atol=0.01)
    states = result.partners[(result.partners.replication == 0) & (result.partners.cohort == "current")]
    assert len(states) == len(listing)


def test_uncertainty_widens_the_spread(calibrated):
    if "uncertainty" not in Scenario.model_fields:
        pytest.skip("the engine does not read an uncertainty section yet")
    with_u = load_scenario(calibrated.scenario_dict(with_partner_list=False, with_uncertainty=True))
    without = calibrated.scenario()
    spread = []
    for scn in (without, with_u):
        r = simulate(scn, replications=200, seed=3, partners=False)
        spread.append(r.kpis["revenue_last_12m"].std())
    assert spread[1] > spread[0]
