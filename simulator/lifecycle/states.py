"""Lifecycle states of a company in the market and the moves between them."""

from __future__ import annotations

from enum import IntEnum


class State(IntEnum):
    """Where a company stands with the vendor (stored as int8 in the kernel)."""

    PROSPECT = 0  # matches the ideal partner profile, not (or no longer) nurtured
    NURTURING = 1  # in the vendor's recruitment programme
    SIGNED = 2  # signed, onboarding, no deal yet
    ACTIVE = 3  # has closed deals, earns revenue
    COLLABORATING = 4  # active and engaged in the collaboration programme
    DORMANT = 5  # still a partner, earns nothing
    CHURNED = 6  # left the channel (absorbing)

    @property
    def label(self) -> str:
        """Lower-case name used in scenario files and output columns."""
        return self.name.lower()

    def __str__(self) -> str:
        return self.label

    @classmethod
    def from_label(cls, label: str) -> State:
        """The state named ``label`` (``"active"`` -> ``State.ACTIVE``)."""
        return cls[label.upper()]


STATES: tuple[State, ...] = tuple(State)
STATE_LABELS: tuple[str, ...] = tuple(s.label for s in State)
N_STATES = len(STATES)

#: States whose partners earn revenue at the end of a month.
EARNING = (State.ACTIVE, State.COLLABORATING)
#: States of companies that are partners of the vendor today.
IN_CHANNEL = (State.SIGNED, State.ACTIVE, State.COLLABORATING, State.DORMANT)
#: States a scenario may list under ``channel`` (today's partners).
CHANNEL_STATES = IN_CHANNEL
