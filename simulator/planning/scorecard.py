"""The partner performance scorecard at the horizon, per segment and revenue tier.

Partners are those the concentration measures call "all signed partners":
in the channel at the horizon (signed, active, collaborating, dormant) or
with revenue in the last 12 months. Within each replication the earning
partners are ranked by trailing-12-month revenue into tiers: the top 20%,
the next 30% and the bottom 50% (the top tier holds ``ceil(0.2 n)`` of
``n`` earning partners, the top two ``ceil(0.5 n)``); partners without
revenue form the tier ``no revenue``. Rows are per segment and tier, with
``all`` rows for every segment, every tier and the whole channel.

With partner tiers (``program.tiers``) the same scorecard is grouped by
program tier instead of segment too (:attr:`ScorecardResult.by_tier`, first
column ``program_tier``): each partner in the channel under the tier it holds
at the horizon, partners that left but earned in the last 12 months under
``none``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..engine.results import SimulationResult, simulate
from ..errors import ChannelError
from ..scenario.loading import ScenarioLike
from ..vocabulary import signed_or_earning, state_codes
from .common import as_scenario
from .concentration import concentration_at_horizon

TIERS = ("top 20%", "next 30%", "bottom 50%", "no revenue")
ALL = "all"
NO_TIER = "none"  # partners outside the channel at the horizon hold no program tier
#: What a scorecard's rows can be grouped by (besides revenue tier): partners table column -> table column.
GROUPS = {"segment": "segment", "tier": "program_tier"}
COLUMNS = (
    "segment",
    "tier",
    "partners",
    "recruited",
    "activation_rate",
    "median_months_to_first_deal",
    "growth_12m",
    "revenue_t12m_per_partner",
    "revenue_t12m",
    "revenue_share",
)


def revenue_tiers(partners: pd.DataFrame) -> pd.Series:
    """The revenue tier of each partner row, ranked within its replication (see module docs)."""
    revenue = partners["revenue_t12m"].to_numpy(np.float64)
    earning = revenue > 0
    ranked = pd.Series(np.where(earning, revenue, np.nan), index=partners.index)
    position = ranked.groupby(partners["replication"]).rank(method="first", ascending=False)
    n = pd.Series(earning, index=partners.index).groupby(partners["replication"]).transform("sum")
    top, upper = np.ceil(0.2 * n), np.ceil(0.5 * n)
    codes = np.select([~earning, position <= top, position <= upper], [3, 0, 1], default=2)
    return pd.Series(pd.Categorical.from_codes(codes, categories=list(TIERS)), index=partners.index, name="tier")


def partner_scorecard(partners: pd.DataFrame, replications: int | None = None, by: str = "segment") -> pd.DataFrame:
    """Scorecard rows per segment (or program tier) and revenue tier, averaged over replications.

    ``partners`` is ``result.partners``; ``replications`` the number of
    replications run (default: those with a row); ``by`` is ``"segment"``
    (first column ``segment``) or ``"tier"``, the program tier each partner
    holds at the horizon (first column ``program_tier``; ``none`` for partners
    outside the channel). Per row:

    * ``partners``, ``recruited``: mean count per replication (recruited =
      signed during the horizon);
    * ``activation_rate``: of the partners signed during the horizon (and
      today's signed ones, whose window starts at month 0), the share with a
      first deal, pooled over replications;
    * ``median_months_to_first_deal``: median months from signing to first deal;
    * ``growth_12m``: mean run-rate growth over the last 12 months (partners
      with a run-rate a year ago);
    * ``revenue_t12m_per_partner``, ``revenue_t12m``: mean trailing-12-month
      revenue per partner, and per replication in total;
    * ``revenue_share``: the row's share of the channel's revenue (ratio of the means).
    """
    if by not in GROUPS:
        raise ChannelError(f"by = {by!r}: a scorecard groups by segment or tier")
    need = {"replication", "segment", "state", "cohort", "signed_month", "time_to_first_deal", "revenue_t12m", by}
    if partners is None or not need <= set(partners.columns):
        raise ChannelError("the scorecard needs the partner table (simulate with partners=True)")
    R = int(replications) if replications is not None else int(partners["replication"].nunique())
    revenue = partners["revenue_t12m"].to_numpy(np.float64)
    member = signed_or_earning(state_codes(partners["state"]), revenue)
    p = partners.loc[member]
    column = p[by]
    groups = list(column.cat.categories) if hasattr(column, "cat") else sorted(column.dropna().unique())
    if by == "tier":
        groups.append(NO_TIER)
        column = column.astype(object).where(column.notna(), NO_TIER)
    base = pd.DataFrame(
        {
            "segment": column.astype(str).to_numpy(),
            "tier": revenue_tiers(p).astype(str).to_numpy(),
            "recruited": (p["cohort"].astype(str) == "recruited").to_numpy(),
            "signed_in_horizon": p["signed_month"].notna().to_numpy(),
            "activated": (p["signed_month"].notna() & p["time_to_first_deal"].notna()).to_numpy(),
            "months_to_first_deal": p["time_to_first_deal"].astype("float64").to_numpy(),
            "growth_12m": p["growth_12m"].astype("float64").to_numpy() if "growth_12m" in p else np.nan,
            "revenue_t12m": p["revenue_t12m"].to_numpy(np.float64),
        }
    )
    # Each partner counts in its own row and in the segment, tier and channel totals.
    stacked = pd.concat(
        [base, base.assign(tier=ALL), base.assign(segment=ALL), base.assign(segment=ALL, tier=ALL)],
        ignore_index=True,
    )
    g = stacked.groupby(["segment", "tier"], sort=False)
    table = pd.DataFrame(
        {
            "partners": g.size() / R,
            "recruited": g["recruited"].sum() / R,
            "activation_rate": g["activated"].sum() / g["signed_in_horizon"].sum().replace(0, np.nan),
            "median_months_to_first_deal": g["months_to_first_deal"].median(),
            "growth_12m": g["growth_12m"].mean(),
            "revenue_t12m_per_partner": g["revenue_t12m"].mean(),
            "revenue_t12m": g["revenue_t12m"].sum() / R,
        }
    )
    total = base["revenue_t12m"].sum() / R
    table["revenue_share"] = table["revenue_t12m"] / total if total > 0 else np.nan
    # Every segment x tier row, in a fixed order, even when empty.
    index = pd.MultiIndex.from_product([[*groups, ALL], [*TIERS, ALL]], names=["segment", "tier"])
    table = table.reindex(index)
    counts = ["partners", "recruited", "revenue_t12m"]
    table[counts] = table[counts].fillna(0.0)
    table["revenue_share"] = table["revenue_share"].fillna(0.0 if total > 0 else np.nan)
    return table.reset_index()[list(COLUMNS)].rename(columns={"segment": GROUPS[by]})


@dataclass
class ScorecardResult:
    """What :func:`scorecard` returns: the ``table``, the run behind it and concentration at the horizon.

    ``concentration`` has one row per replication (earning and all signed
    partners, top-20% share, Gini, HHI, effective partners, share earning nothing).
    ``by_tier`` is the scorecard per program tier and revenue tier when the
    scenario has partner tiers (None without).
    """

    result: SimulationResult
    table: pd.DataFrame
    concentration: pd.DataFrame
    by_tier: pd.DataFrame | None = None

    def to_csv(self, path: str | Path) -> Path:
        """Write the table as CSV (folders created as needed); return the path. With partner tiers the
        per-tier table goes beside it, as ``<name>_by_tier.csv``."""
        from ..reports.tables import write_csv  # formula-like text neutralised, written atomically

        path = Path(path)
        if self.by_tier is not None:
            write_csv(self.by_tier, self.tier_csv_path(path))
        return write_csv(self.table, path)

    @staticmethod
    def tier_csv_path(path: str | Path) -> Path:
        """Where :meth:`to_csv` writes the per-tier table beside ``path``."""
        path = Path(path)
        return path.with_name(f"{path.stem}_by_tier{path.suffix or '.csv'}")

    def summary(self) -> pd.DataFrame:
        """The scorecard table."""
        return self.table


def scorecard(
    source: ScenarioLike | SimulationResult,
    replications: int | Iterable[int] = 200,
    seed: int = 0,
    **overrides: object,
) -> ScorecardResult:
    """Partner performance scorecard at the horizon, per segment and revenue tier.

    ``source`` is a finished :class:`SimulationResult` (with its partner
    table) or a scenario to simulate (``replications``, ``seed``,
    ``section__key`` overrides). See :func:`partner_scorecard` for the columns.
    """
    if isinstance(source, SimulationResult):
        if overrides:
            raise ChannelError("overrides cannot be applied to a finished result; pass the scenario instead")
        result = source
    else:
        result = simulate(as_scenario(source, overrides), replications=replications, seed=seed, partners=True)
    if result.partners is None:
        raise ChannelError("the scorecard needs the partner table: simulate with partners=True")
    R = result.replications.size
    table = partner_scorecard(result.partners, replications=R)
    by_tier = partner_scorecard(result.partners, replications=R, by="tier") if result.scenario.program.tiers else None
    return ScorecardResult(
        result=result, table=table, concentration=concentration_at_horizon(result.partners), by_tier=by_tier
    )
