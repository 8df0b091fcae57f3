"""A partner export (EXPORT.md) written from a simulated history of a scenario.

The engine simulates one replication month by month; every month the state,
run-rate and revenue of each company are read from the kernel, and the
history becomes the tables a PRM system would export: partners onboarded
over the months, first deals, dormancy (months without revenue), exits,
monthly revenue, prospects with their outcomes and collaboration months.
Month 0 is the scenario's channel as it stands before the history starts:
today's partners get onboarding dates before the history, so a calibration
must treat them as left-truncated.

``messy=True`` adds what real exports hold: missing first-deal dates for
partners that did transact, duplicated partner rows, a revenue history that
starts after some partners joined, a few negative credit notes, trailing
spaces and mixed-case segment names.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..errors import ChannelError
from ..lifecycle.states import State
from ..reports.tables import write_csv
from ..scenario import Scenario, load_scenario
from ..scenario.loading import ScenarioLike

if TYPE_CHECKING:
    from ..engine.kernel import ChannelKernel

DEFAULT_START = "2022-01"
MESSY_LATE_START = 6  # months of revenue history a messy export loses at its start


@dataclass
class SyntheticExport:
    """The tables of a synthetic export and the scenario that made them."""

    scenario: Scenario
    tables: dict[str, pd.DataFrame]
    first_month: pd.Period
    as_of: pd.Period

    def write(self, folder: str | Path, fmt: str = "csv") -> Path:
        """Write one file per table (``csv`` or ``parquet``) into ``folder``."""
        if fmt not in ("csv", "parquet"):
            raise ChannelError(f"format = {fmt!r}: allowed csv, parquet")
        folder = Path(folder)
        if folder.exists() and not folder.is_dir():
            raise ChannelError(f"--out {folder}: exists and is not a folder")
        folder.mkdir(parents=True, exist_ok=True)
        for name, table in self.tables.items():
            if fmt == "csv":
                write_csv(table, folder / f"{name}.csv")  # the one CSV writer: atomic, text kept as text
            else:
                table.to_parquet(folder / f"{name}.parquet", index=False)
        return folder


def observe(kernel: ChannelKernel) -> dict[str, np.ndarray]:
    """This month's state, run-rate and revenue of every company of replication 0 of a kernel
    (through the kernel's public view: its population arrays and ``monthly_revenue``)."""
    W = kernel.layout.width
    pop = kernel.pop
    return {
        "state": pop.state[0, :W].copy(),
        "run_rate": pop.run_rate[0, :W].astype(np.float64),
        "revenue": kernel.monthly_revenue()[0, :W].astype(np.float64),
        "signed_month": pop.signed_month[0, :W].copy(),
        "first_deal": pop.first_deal[0, :W].copy(),
    }


def _simulate(scenario: Scenario, months: int, seed: int) -> tuple[dict[str, np.ndarray], object]:
    from ..engine.kernel import ChannelKernel

    kernel = ChannelKernel(scenario, seed, [0])
    seen = [observe(kernel)]
    while not kernel.done:
        kernel.step()
        seen.append(observe(kernel))
    history = {key: np.stack([s[key] for s in seen]) for key in ("state", "revenue")}  # (months + 1, W)
    # Static attributes of every company: prospects beyond the reach of recruitment are in the scored list too.
    history["fit_score"] = kernel.pop.fit_score[0].astype(np.float64)
    history["company"] = kernel.pop.company[0].astype(np.int64)
    history["segment"] = kernel.pop.segment[0].astype(np.int64)
    history["first_deal"] = seen[-1]["first_deal"].astype(np.int64)
    history["signed_month"] = seen[-1]["signed_month"].astype(np.int64)
    return history, kernel


def synthetic_export(
    scenario: ScenarioLike,
    months: int = 48,
    seed: int = 0,
    messy: bool = False,
    start: str = DEFAULT_START,
) -> SyntheticExport:
    """Simulate ``months`` months of ``scenario`` (one replication of ``seed``) and return its export.

    The revenue history covers the calendar months ``start`` .. ``start + months - 1``
    (simulated months 1..months); the as-of date is the end of the last one.
    """
    if isinstance(months, bool) or not isinstance(months, int) or not 2 <= months <= 600:
        raise ChannelError(f"months = {months!r}: must be a whole number from 2 to 600")
    scn = load_scenario(scenario, horizon_months=months)
    try:
        first = pd.Period(start, freq="M")
    except ValueError:
        raise ChannelError(f"start = {start!r}: is not a month (YYYY-MM)") from None
    hist, kernel = _simulate(scn, months, seed)
    rng = np.random.default_rng([seed, 0xE8])  # dates and messiness: apart from the engine's streams
    state, revenue = hist["state"], hist["revenue"]
    P = kernel.layout.partners  # type: ignore[attr-defined]
    W = state.shape[1]
    segments = scn.segment_names
    cal = lambda m: first + (int(m) - 1)  # noqa: E731 - simulated month m is calendar month start + m - 1

    def date_in(month: pd.Period) -> str:
        return (month.to_timestamp() + pd.Timedelta(days=int(rng.integers(0, 28)))).strftime("%Y-%m-%d")

    ever = np.zeros(W, bool)
    ever[:P] = True
    ever |= (state == State.SIGNED).any(axis=0)
    cols = np.flatnonzero(ever)
    partner_id = np.array([f"P{c:05d}" for c in hist["company"]])
    rows, revenue_rows, collab_rows = [], [], []
    for c in cols:
        s = state[:, c]
        seg = segments[hist["segment"][c]]
        if c < P:
            if s[0] == State.SIGNED:
                onboarded = date_in(first - 1)  # signed just before the history: a whole window ahead
                deal = cal(hist["first_deal"][c]) if hist["first_deal"][c] > 0 else None
            else:
                age = int(rng.integers(8, 61))
                onboarded = date_in(first - age)
                deal = first - int(rng.integers(1, age))  # its first deal was before the history too
        else:
            signed_at = int(hist["signed_month"][c])
            onboarded = date_in(cal(signed_at))
            deal = cal(hist["first_deal"][c]) if hist["first_deal"][c] > 0 else None
        churned = np.flatnonzero(s == State.CHURNED)
        offboarded = date_in(cal(churned[0])) if churned.size else ""
        first_deal = date_in(deal) if deal is not None else ""
        rows.append((partner_id[c], seg, onboarded, first_deal, offboarded))
        earned = np.flatnonzero(revenue[1:, c] > 0) + 1
        revenue_rows += [(partner_id[c], str(cal(m)), round(float(revenue[m, c]), 2)) for m in earned]
        collab_rows += [(partner_id[c], str(cal(m))) for m in np.flatnonzero(s[1:] == State.COLLABORATING) + 1]

    partners = pd.DataFrame(rows, columns=["partner_id", "segment", "onboarded", "first_deal", "offboarded"])
    tier = np.where(
        rng.random(len(partners)) < 0.2, "gold", np.where(rng.random(len(partners)) < 0.4, "silver", "registered")
    )
    partners["tier"] = tier
    revenue_t = pd.DataFrame(revenue_rows, columns=["partner_id", "month", "revenue"])
    collaboration = pd.DataFrame(collab_rows, columns=["partner_id", "month"])
    prospects = _prospects(state, hist, P, segments, partners, cal, date_in)

    if messy:
        partners, revenue_t = _mess(partners, revenue_t, first, rng)
    tables = {"partners": partners, "revenue": revenue_t, "prospects": prospects, "collaboration": collaboration}
    history_start = first + (MESSY_LATE_START if messy else 0)
    return SyntheticExport(scn, tables, history_start, first + (months - 1))


def _prospects(state, hist, P, segments, partners, cal, date_in) -> pd.DataFrame:  # noqa: ANN001
    """The funnel as a CRM holds it: each prospect's latest nurture episode and its outcome (an earlier
    episode given up is overwritten by the next), and the prospects never nurtured."""
    onboarded = dict(zip(partners["partner_id"], partners["onboarded"], strict=False))
    rows = []
    H = state.shape[0] - 1
    W = state.shape[1]
    for c in range(P, hist["company"].size):
        seg = segments[hist["segment"][c]]
        pid = f"Q{hist['company'][c]:05d}"
        fit = round(float(hist["fit_score"][c]), 4)
        if c >= W:
            rows.append((pid, seg, fit, "", "open", "", ""))
            continue
        s = state[:, c]
        starts = np.flatnonzero((s[1:] == State.NURTURING) & (s[:-1] == State.PROSPECT)) + 1
        if starts.size == 0:
            rows.append((pid, seg, fit, "", "open", "", ""))
            continue
        m0 = int(starts[-1])
        after = np.flatnonzero(s[m0 + 1 :] != State.NURTURING)
        if after.size == 0:
            rows.append((pid, seg, fit, date_in(cal(m0)), "open", "", ""))
            continue
        m1 = m0 + 1 + int(after[0])
        if s[min(m1, H)] == State.SIGNED:
            partner = f"P{hist['company'][c]:05d}"
            rows.append((pid, seg, fit, date_in(cal(m0)), "signed", onboarded[partner], partner))
        else:
            rows.append((pid, seg, fit, date_in(cal(m0)), "lost", date_in(cal(min(m1, H))), ""))
    return pd.DataFrame(
        rows, columns=["prospect_id", "segment", "fit_score", "nurture_start", "outcome", "outcome_date", "partner_id"]
    )


def _mess(partners: pd.DataFrame, revenue: pd.DataFrame, first: pd.Period, rng: np.random.Generator):  # noqa: ANN202
    """What real exports hold (see the module docstring)."""
    partners = partners.copy()
    cut = str(first + MESSY_LATE_START)
    revenue = revenue[revenue["month"] >= cut].reset_index(drop=True)
    # Missing first-deal dates for partners that transacted inside the history.
    earned = partners["partner_id"].isin(revenue["partner_id"]) & (partners["first_deal"] > f"{cut}-01")
    blank = earned & (rng.random(len(partners)) < 0.1)
    partners.loc[blank, "first_deal"] = ""
    # Segment names as people type them.
    styles = (str.title, str.upper, lambda s: s + " ", lambda s: " " + s.capitalize())
    pick = rng.random(len(partners)) < 0.3
    partners.loc[pick, "segment"] = [styles[int(rng.integers(len(styles)))](s) for s in partners.loc[pick, "segment"]]
    # Exact duplicate rows.
    dup = partners.sample(n=max(1, len(partners) // 50), random_state=int(rng.integers(1 << 31)))
    partners = pd.concat([partners, dup], ignore_index=True)
    # Credit notes: negative amounts in months a partner had no revenue, inside its tenure.
    months = pd.PeriodIndex(revenue["month"], freq="M")
    ordinal = months.asi8
    span = revenue.assign(m=ordinal).groupby("partner_id")["m"].agg(["min", "max", "count"])
    gappy = span[span["max"] - span["min"] + 1 > span["count"]]
    notes = []
    for pid in gappy.sample(n=min(5, len(gappy)), random_state=int(rng.integers(1 << 31))).index:
        have = set(ordinal[(revenue["partner_id"] == pid).to_numpy()])
        free = [m for m in range(int(span.loc[pid, "min"]), int(span.loc[pid, "max"])) if m not in have]
        notes.append((pid, str(months[0] + (free[0] - months[0].ordinal)), -round(float(rng.uniform(50, 500)), 2)))
    if notes:
        revenue = pd.concat([revenue, pd.DataFrame(notes, columns=revenue.columns)], ignore_index=True)
    return partners, revenue
