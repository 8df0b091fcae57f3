"""Mesa agents: every company of the market is a :class:`Partner`.

A partner is a view onto its column of the vectorized kernel: reading
``partner.state`` or ``partner.revenue`` reads the kernel's arrays, so the
agents never drift from the numbers :func:`simulator.simulate` reports. The
model's ``step`` moves all of them at once, in one pass.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa

from .engine.population import NEVER
from .lifecycle.states import IN_CHANNEL, State

if TYPE_CHECKING:
    from .model import ChannelModel


class Partner(mesa.Agent):
    """A company of the market (prospect, partner or former partner)."""

    model: ChannelModel

    def __init__(self, model: ChannelModel, column: int) -> None:
        super().__init__(model)
        self.column = column

    @property
    def _kernel(self):  # noqa: ANN202
        return self.model.kernel

    def _dynamic(self, name: str, default):  # noqa: ANN001, ANN202
        # Columns beyond the recruitment frontier never change: they stay untouched prospects.
        k = self._kernel
        if self.column >= k.layout.width:
            return default
        return getattr(k.pop, name)[0, self.column]

    @property
    def company(self) -> int:
        """Stable company id (today's partners first, then prospects)."""
        return int(self._kernel.pop.company[0, self.column])

    @property
    def state(self) -> State:
        return State(int(self._dynamic("state", State.PROSPECT)))

    @property
    def segment(self) -> str:
        return self.model.scenario.segment_names[int(self._kernel.pop.segment[0, self.column])]

    @property
    def potential(self) -> float:
        """True monthly revenue potential."""
        return float(self._kernel.pop.potential[0, self.column])

    @property
    def fit_score(self) -> float:
        """Observed fit score (NaN for today's partners, who were never scored)."""
        return float(self._kernel.pop.fit_score[0, self.column])

    @property
    def run_rate(self) -> float:
        """Monthly revenue run-rate (kept while dormant)."""
        return float(self._dynamic("run_rate", 0.0))

    @property
    def revenue(self) -> float:
        """Revenue earned this month."""
        k = self._kernel
        if self.column >= k.layout.width:
            return 0.0
        return float(k.monthly_revenue()[0, self.column])

    @property
    def revenue_t12m(self) -> float:
        """Revenue of the trailing 12 months."""
        k = self._kernel
        if self.column >= k.layout.width:
            return 0.0
        return float(k.trailing_revenue(self.column)[0])

    @property
    def months_in_state(self) -> int:
        return self.model.kernel.month - int(self._dynamic("entered", 0))

    @property
    def signed_month(self) -> int | None:
        """Month it signed with us (0 for today's signed partners; None if unknown or never)."""
        month = int(self._dynamic("signed_month", NEVER))
        return None if month == NEVER else month

    @property
    def first_deal_month(self) -> int | None:
        month = int(self._dynamic("first_deal", NEVER))
        return None if month == NEVER else month

    @property
    def tier(self) -> str | None:
        """The partner tier it holds (None outside the channel, and in a scenario without tiers)."""
        names = self._kernel.schedule.tier_names
        if not names or self.state not in IN_CHANNEL:
            return None
        return names[int(self._dynamic("tier", 0))]

    def __repr__(self) -> str:
        return f"Partner(company={self.company}, state={self.state.label}, segment={self.segment})"
