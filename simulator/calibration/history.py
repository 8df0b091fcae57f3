"""Each partner's monthly history, rebuilt from an export by EXPORT.md's rules.

Months are counted on the revenue history: month ``t = 0`` is its first
calendar month and ``t = T - 1`` the as-of month. At the end of a month a
partner is ``signed`` from onboarding until its first deal; then ``active``
(``collaborating`` by the collaboration table) while it has had revenue in
the last ``dormant_after`` months; ``dormant`` after that many months without
revenue; ``churned`` from its offboarding month on.

The fits need the *model's* states (:meth:`History.model_states`), which
differ in two places: the model's dormant partners earn nothing from the
month they go quiet, so a dormant spell starts at its first month without
revenue (shorter gaps are read as lumpy revenue, not dormancy); and a signed
partner still without a first deal when its activation window closes is
dormant in the model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import ChannelError
from ..lifecycle.states import State
from .export import Export, SetAside

NONE = -1  # not (yet) a partner in that month
NO_MONTH = np.iinfo(np.int64).min // 4  # an event that has not happened (first deal, offboarding)
FAR = np.iinfo(np.int64).max // 4


@dataclass
class History:
    """Monthly panel of the partners of an export, up to the as-of month."""

    as_of: pd.Period
    first_month: pd.Period
    dormant_after: int
    partner_id: np.ndarray  # (P,) str
    segments: tuple[str, ...]
    segment: np.ndarray  # (P,) segment code
    tier: np.ndarray  # (P,) str
    onboarded: np.ndarray  # (P,) month index (may be < 0: before the revenue history)
    first_deal: np.ndarray  # (P,) month index, NO_MONTH when none yet
    offboarded: np.ndarray  # (P,) month index, FAR when still in
    revenue: np.ndarray  # (P, T) monthly revenue
    collaborating: np.ndarray  # (P, T) bool: in the collaboration table that month
    has_collaboration: bool
    gap_start: np.ndarray  # (P, T) month the current run without revenue began (-1 when earning)
    spell: np.ndarray  # (P, T) bool: the month belongs to a dormant spell
    filled_first_deals: int  # first deals read from the first revenue month

    @property
    def months(self) -> int:
        return self.revenue.shape[1]

    def calendar(self, t: int | np.ndarray) -> pd.PeriodIndex:
        return pd.period_range(self.first_month, periods=self.months, freq="M")[t]

    def has_deal(self) -> np.ndarray:
        """(P, T): the first deal is at or before the month."""
        t = np.arange(self.months)
        return (self.first_deal[:, None] != NO_MONTH) & (self.first_deal[:, None] <= t[None, :])

    def export_states(self) -> np.ndarray:
        """States at each month end by EXPORT.md's rule (``NONE`` before onboarding)."""
        t = np.arange(self.months)[None, :]
        out = np.full(self.revenue.shape, NONE, np.int8)
        member = self.onboarded[:, None] <= t
        out[member] = State.SIGNED
        deal = self.has_deal() & member
        quiet = deal & (self.gap_start >= 0) & (t - self.gap_start + 1 >= self.dormant_after)
        out[deal] = State.ACTIVE
        out[deal & self.collaborating & ~quiet] = State.COLLABORATING
        out[quiet] = State.DORMANT
        out[self.offboarded[:, None] <= t] = State.CHURNED
        return out

    def model_states(self, window_months: int) -> np.ndarray:
        """States as the model has them: spells dormant from their first quiet month; signed partners
        past the activation window dormant."""
        t = np.arange(self.months)[None, :]
        out = np.full(self.revenue.shape, NONE, np.int8)
        member = self.onboarded[:, None] <= t
        deal = self.has_deal() & member
        out[member] = State.SIGNED
        out[member & ~deal & (t >= self.onboarded[:, None] + window_months)] = State.DORMANT
        first = self.first_deal[:, None] == t
        out[deal] = State.ACTIVE
        out[deal & self.collaborating & ~first] = State.COLLABORATING
        out[deal & self.spell] = State.DORMANT
        out[self.offboarded[:, None] <= t] = State.CHURNED
        return out

    def spell_month(self) -> np.ndarray:
        """(P, T): months since the dormant spell began (0 in its first quiet month; -1 outside spells)."""
        t = np.arange(self.months)[None, :]
        return np.where(self.spell, t - self.gap_start, -1)


def build_history(export: Export, as_of: pd.Period, dormant_after: int, aside: list[SetAside]) -> History:
    """Rebuild the monthly panel of ``export`` up to the month ``as_of``."""
    if not isinstance(dormant_after, int | np.integer) or isinstance(dormant_after, bool) or dormant_after < 1:
        raise ChannelError(f"dormant_after = {dormant_after!r}: must be a whole number of months >= 1")
    first = export.first_month
    if as_of < first:
        raise ChannelError(f"as_of = {as_of}: is before the revenue history starts ({first})")
    T = int((as_of - first).n) + 1
    p = export.partners.reset_index(drop=True)
    P = len(p)
    base = first.ordinal

    def month_index(dates: pd.Series, empty: int) -> np.ndarray:
        months = dates.dt.to_period("M")
        out = np.full(len(dates), empty, np.int64)
        ok = months.notna().to_numpy()
        out[ok] = np.array([m.ordinal for m in months[ok]], np.int64) - base
        return out

    onboarded = month_index(p["onboarded"], NO_MONTH)
    first_deal = month_index(p["first_deal"], NO_MONTH)
    offboarded = month_index(p["offboarded"], FAR)
    segments = tuple(sorted(p["segment"].unique()))
    seg_code = {s: i for i, s in enumerate(segments)}
    index = pd.Index(p["partner_id"])

    rev = export.revenue
    rev = rev[rev["month"] <= as_of]
    rows = index.get_indexer(rev["partner_id"])
    cols = np.array([m.ordinal for m in rev["month"]], np.int64) - base
    revenue = np.zeros((P, T))
    np.add.at(revenue, (rows, cols), rev["revenue"].to_numpy(float))

    collab = np.zeros((P, T), bool)
    if export.collaboration is not None:
        c = export.collaboration[(export.collaboration["month"] <= as_of) & (export.collaboration["month"] >= first)]
        collab[index.get_indexer(c["partner_id"]), np.array([m.ordinal for m in c["month"]], np.int64) - base] = True

    # A first deal is the first month with revenue when the export leaves it empty (or dates it later).
    earning = revenue > 0
    any_rev = earning.any(axis=1)
    first_rev = np.where(any_rev, earning.argmax(axis=1), NO_MONTH)
    missing = any_rev & (first_deal == NO_MONTH)
    later = any_rev & (first_deal != NO_MONTH) & (first_deal > first_rev)
    for mask, reason in (
        (missing, "without a first_deal though they have revenue: the first deal is their first revenue month"),
        (later, "with revenue before their first_deal: the first deal is their first revenue month"),
    ):
        rows_ = p.index[mask]
        aside.append(SetAside("partners", reason, [int(r) + 2 for r in rows_], list(p.loc[mask, "partner_id"])))
    first_deal = np.where(missing | later, first_rev, first_deal)
    first_deal = np.where((first_deal != NO_MONTH) & (first_deal > T - 1), NO_MONTH, first_deal)
    offboarded = np.where(offboarded > T - 1, FAR, offboarded)

    t = np.arange(T)[None, :]
    dealt = (first_deal[:, None] != NO_MONTH) & (first_deal[:, None] <= t)
    inside = dealt & (t < offboarded[:, None]) & (t >= onboarded[:, None])
    quiet = inside & ~earning & (t != first_deal[:, None])  # the first-deal month counts as revenue
    # Runs of quiet months: where each began and where it ends (vectorized over the panel).
    pos = np.broadcast_to(np.arange(T), (P, T))
    last_loud = np.maximum.accumulate(np.where(~quiet, pos, -1), axis=1)
    next_loud = np.flip(np.minimum.accumulate(np.flip(np.where(~quiet, pos, T), axis=1), axis=1), axis=1)
    gap_start = np.where(quiet, last_loud + 1, -1)
    length = next_loud - last_loud - 1
    ends_in_exit = (next_loud == offboarded[:, None]) & (offboarded[:, None] < T)
    spell = quiet & ((length >= dormant_after) | ends_in_exit)
    return History(
        as_of=as_of,
        first_month=first,
        dormant_after=int(dormant_after),
        partner_id=p["partner_id"].to_numpy(str),
        segments=segments,
        segment=p["segment"].map(seg_code).to_numpy(np.int64),
        tier=p["tier"].to_numpy(str),
        onboarded=onboarded,
        first_deal=first_deal,
        offboarded=offboarded,
        revenue=revenue,
        collaborating=collab,
        has_collaboration=export.collaboration is not None,
        gap_start=gap_start,
        spell=spell,
        filled_first_deals=int(missing.sum() + later.sum()),
    )


def transitions(states: np.ndarray, keep: np.ndarray | None = None) -> pd.DataFrame:
    """Counts of (month, from, to) over consecutive month ends; ``keep`` masks the months of departure."""
    s, e = states[:, :-1], states[:, 1:]
    ok = (s != NONE) & (s != State.CHURNED) & (e != NONE)
    if keep is not None:
        ok &= keep[:, :-1]
    rows, cols = np.nonzero(ok)
    frame = pd.DataFrame({"month": cols + 1, "start": s[rows, cols], "end": e[rows, cols]})
    return frame.value_counts().rename("n").reset_index()
