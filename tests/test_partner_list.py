"""Starting from the vendor's own partner list (channel.partner_list)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import BASELINE, run_cli

import simulator as sim

ROWS = [
    # partner_id, segment, state, run_rate, months_since_signing, revenue_t12m
    ("P001", "Reseller ", "active", 12000.55, "", 150000.07),
    ("P002", "msp", "collaborating", 8000.0, "", 90000.01),
    ("P003", "integrator", "signed", 0.0, 2, ""),
    ("P004", "reseller", "dormant", 3000.0, "", 12000.5),
    ("P005", "reseller", "dormant", 0.0, "", 0.0),
    ("P006", "msp", "active", 1500.25, "", ""),
]
TOTAL_T12 = 150000.07 + 90000.01 + 12000.5 + 0.0 + 12 * 1500.25  # P006 has no history: 12 x its run-rate


def write_list(folder, rows=ROWS, suffix="csv"):
    frame = pd.DataFrame(
        rows, columns=["partner_id", "segment", "state", "run_rate", "months_since_signing", "revenue_t12m"]
    )
    path = folder / f"partners.{suffix}"
    if suffix == "csv":
        frame.to_csv(path, index=False)
    elif suffix == "parquet":
        frame.astype(str).to_parquet(path)
    else:
        frame.to_excel(path, sheet_name="partners", index=False)
    return path


def scenario_file(folder, list_name="partners.csv", **channel):
    path = folder / "acme.yaml"
    extra = "".join(f"  {k}: {v}\n" for k, v in channel.items())
    path.write_text(
        f"extends: {BASELINE}\nname: Acme\nchannel:\n  signed: 0\n  active: 0\n  collaborating: 0\n  dormant: 0\n"
        f"  segment_shares: null\n  partner_list: {list_name}\n{extra}"
    )
    return path


@pytest.mark.parametrize("suffix", ["csv", "parquet", "xlsx"])
def test_month_zero_trailing_revenue_is_the_list_total_to_the_cent(tmp_path, suffix):
    write_list(tmp_path, suffix=suffix)
    scn = sim.load_scenario(scenario_file(tmp_path, f"partners.{suffix}"))
    result = sim.simulate(scn, replications=20, seed=4)
    m0 = result.monthly[result.monthly.month == 0]
    assert np.abs(m0["revenue_t12m"].to_numpy() - TOTAL_T12).max() < 0.005
    assert (m0[["signed", "active", "collaborating", "dormant"]].to_numpy() == [1, 2, 1, 2]).all()
    # month 0's monthly revenue is the earning partners' run-rates
    assert m0["revenue"].to_numpy() == pytest.approx(12000.55 + 8000.0 + 1500.25, rel=1e-6)


def test_each_partner_keeps_its_segment_state_and_run_rate(tmp_path):
    write_list(tmp_path)
    scn = sim.load_scenario(scenario_file(tmp_path), horizon_months=1, recruitment__nurture_per_month=0)
    kernel = sim.engine.kernel.ChannelKernel(scn, seed=2, replications=[0, 1, 2])
    pop = kernel.pop
    segments = [scn.segment_names[g] for g in pop.segment[0, :6]]
    assert segments == ["reseller", "msp", "integrator", "reseller", "reseller", "msp"]
    assert [sim.State(s).label for s in pop.state[0, :6]] == [r[2] for r in ROWS]
    np.testing.assert_allclose(pop.run_rate[:, :6], np.float32([[12000.55, 8000, 0, 3000, 0, 1500.25]] * 3))
    # the signed partner has used 2 months of its window: it has window - 2 chances left
    assert pop.deadline[0, 2] == scn.activation.window_months - 2 and pop.signed_month[0, 2] == -2
    table = sim.simulate(scn, replications=2, seed=2).partners
    first = table[(table.replication == 0) & (table.company < 6)].sort_values("company")
    assert first["partner_id"].tolist() == [r[0] for r in ROWS]
    assert first.loc[first.partner_id == "P003", "months_since_signing"].item() == 3  # 2 before, 1 simulated


def test_the_window_used_by_a_listed_signed_partner_is_honoured(tmp_path):
    """With no first deals possible, a signed partner 4 months into a 6-month window goes dormant at month 2."""
    rows = [("S1", "msp", "signed", 0.0, 4, "")]
    write_list(tmp_path, rows)
    scn = sim.load_scenario(
        scenario_file(tmp_path), activation__monthly_probability=0.0, recruitment__nurture_per_month=0
    )
    m = sim.simulate(scn, replications=3, seed=0).monthly
    signed = m.pivot(index="month", columns="replication", values="signed")
    assert (signed.loc[:1] == 1).all().all() and (signed.loc[2:] == 0).all().all()
    assert (m.loc[m.month == 2, "window_expiries"] == 1).all()


def test_replication_identity_and_common_random_numbers_hold(tmp_path):
    write_list(tmp_path)
    scn = sim.load_scenario(scenario_file(tmp_path))
    many = sim.simulate(scn, replications=12, seed=9).kpis
    alone = sim.simulate(scn, replications=[7], seed=9).kpis
    pd.testing.assert_frame_equal(alone, many[many.replication == 7].reset_index(drop=True))


@pytest.mark.parametrize(
    ("rows", "needle"),
    [
        ([("A", "reseller", "active", 10.0, "", ""), ("A", "msp", "active", 1.0, "", "")], "appears twice"),
        ([("A", "reseller", "asleep", 10.0, "", "")], "state 'asleep' is not one of"),
        ([("A", "reseller", "active", -1.0, "", "")], "run_rate"),
        ([("A", "reseller", "active", "lots", "", "")], "run_rate 'lots'"),
        ([("A", "retail", "active", 5.0, "", "")], "unknown segment 'retail'"),
        ([("A", "reseller", "signed", 0.0, "", "")], "needs months_since_signing"),
        ([("A", "reseller", "signed", 0.0, 6, "")], "no chance left"),
        ([("A", "reseller", "active", 1.0, "", "inf")], "revenue_t12m"),
    ],
)
def test_bad_partner_lists_are_refused_in_one_line(tmp_path, rows, needle):
    write_list(tmp_path, rows)
    path = scenario_file(tmp_path)
    with pytest.raises(sim.ScenarioError) as err:
        sim.load_scenario(path)
    assert needle in str(err.value) and "channel.partner_list" in str(err.value) and "\n" not in str(err.value)
    proc = run_cli("validate", str(path))
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr


def test_counts_and_a_list_are_mutually_exclusive(tmp_path):
    write_list(tmp_path)
    path = tmp_path / "both.yaml"
    path.write_text(f"extends: {BASELINE}\nchannel:\n  segment_shares: null\n  partner_list: partners.csv\n")
    with pytest.raises(sim.ScenarioError, match=r"either as counts .* or as a partner list, not both"):
        sim.load_scenario(path)


def test_a_missing_list_file_is_named(tmp_path):
    with pytest.raises(sim.ScenarioError, match=r"partner list not found: .*nowhere\.csv"):
        sim.load_scenario(scenario_file(tmp_path, "nowhere.csv"))
