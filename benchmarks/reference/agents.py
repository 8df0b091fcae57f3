"""The company agent of the reference model: one :class:`Partner` per company in the market.

Each month a partner looks only at its own state at the start of the month
and the month's rates (set by the model before anyone moves), draws one
uniform number, and makes at most one move. Because nobody reads anybody
else's state during the month, the order in which partners step does not
matter: the update is synchronous.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import mesa

if TYPE_CHECKING:
    from .model import ReferenceModel

# Lifecycle states, named like the engine's monthly columns.
PROSPECT = "prospect"
NURTURING = "nurturing"
SIGNED = "signed"
ACTIVE = "active"
COLLABORATING = "collaborating"
DORMANT = "dormant"
CHURNED = "churned"
STATES = (PROSPECT, NURTURING, SIGNED, ACTIVE, COLLABORATING, DORMANT, CHURNED)
EARNING = (ACTIVE, COLLABORATING)

#: A competing-risk band: (cumulative probability, destination, flows the move counts in).
Band = tuple[float, str, tuple[str, ...]]


class Partner(mesa.Agent):
    """A company of the market: a prospect, a partner, or a former partner.

    Attributes:
        segment: name of its market segment.
        potential: true monthly revenue potential (lognormal within the segment).
        fit_score: the vendor's observed score (NaN for today's partners, never scored).
        state: lifecycle state (one of ``STATES``).
        run_rate: monthly revenue while earning; kept while dormant; 0 before the first deal.
        has_deal: whether it has ever closed a deal with us.
        entered: month it entered its current state (0 for today's state).
        first_deal_month: month of its first deal (0 for today's partners with deals; None before).
        deadline: month its nurture period or activation window runs out (None otherwise).
        eligible_from: first month the vendor may nurture it (cool-off after a failed nurture).
    """

    model: ReferenceModel

    def __init__(
        self,
        model: ReferenceModel,
        segment: str,
        potential: float,
        state: str,
        fit_score: float = math.nan,
    ) -> None:
        super().__init__(model)
        self.segment = segment
        self.potential = potential
        self.fit_score = fit_score
        self.state = state
        # Today's active, collaborating and dormant partners have had deals and run at their potential;
        # today's signed ones are at the start of their activation window.
        self.has_deal = state in (ACTIVE, COLLABORATING, DORMANT)
        self.run_rate = potential if self.has_deal else 0.0
        self.entered = 0
        self.first_deal_month: int | None = 0 if self.has_deal else None
        self.deadline: int | None = model.spec.activation.window_months if state == SIGNED else None
        self.eligible_from = 1

    # -- the month -----------------------------------------------------------

    def step(self) -> None:
        """One month, decided from this company's state at the start of the month."""
        state = self.state
        if state in (PROSPECT, CHURNED):
            return  # prospects wait for the vendor to pick them (ReferenceModel.recruit); churned is final
        model = self.model
        month = model.month
        u = self.random.random()  # the one draw that decides this month's move

        if state == NURTURING:
            if u < model.p_signing:
                self._move(SIGNED, "signings")
                self.deadline = month + model.spec.activation.window_months
            elif month == self.deadline:  # last nurturing month without a signing
                self._move(PROSPECT, "nurture_expiries")
                self.deadline = None
                self.eligible_from = month + model.spec.recruitment.cooloff_months + 1

        elif state == SIGNED:
            if u < model.p_first_deal[self.segment]:
                self._first_deal()
            elif month == self.deadline:  # the activation window closed: the honeymoon is over
                self._move(DORMANT, "to_dormant", "window_expiries")
                self.deadline = None

        elif state == DORMANT:
            move = choose(u, model.moves[DORMANT])
            if move is None:
                return
            _, destination, flows = move
            if destination == ACTIVE and not self.has_deal:
                self._first_deal()  # its window ran out, but it comes back: this is its first deal
            else:
                self._move(destination, *flows)

        else:  # active or collaborating: grow by the start-of-month state, then maybe move
            self._grow(model.monthly_growth[state])
            move = choose(u, model.moves[state])
            if move is not None:
                _, destination, flows = move
                self._move(destination, *flows)

    def start_nurturing(self) -> None:
        """Picked by the vendor this month: nurtured from now, first chance to sign next month."""
        self._move(NURTURING, "nurtured")
        self.deadline = self.model.month + self.model.spec.recruitment.nurture_months

    # -- helpers -------------------------------------------------------------

    def _grow(self, mean_factor: float) -> None:
        # Mean-one lognormal noise, so expected annual growth is exactly the configured rate.
        s = self.model.monthly_volatility
        self.run_rate *= mean_factor * math.exp(s * self.random.gauss(0.0, 1.0) - 0.5 * s * s)

    def _first_deal(self) -> None:
        self._move(ACTIVE, "activations")
        self.has_deal = True
        self.first_deal_month = self.model.month
        self.run_rate = self.potential  # the first deal starts the run-rate at potential; no growth this month
        self.deadline = None

    def _move(self, new_state: str, *flows: str) -> None:
        self.model.count_move(self.state, new_state, flows)
        self.state = new_state
        self.entered = self.model.month


def choose(u: float, bands: list[Band]) -> Band | None:
    """The band a uniform draw ``u`` falls in, or None for no move."""
    for band in bands:
        if u < band[0]:
            return band
    return None
