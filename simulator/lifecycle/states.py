"""Lifecycle states of a company in the market (defined in :mod:`simulator.vocabulary`, named here by phase)."""

from __future__ import annotations

from ..vocabulary import CHANNEL_STATES, EARNING, IN_CHANNEL, N_STATES, STATE_LABELS, STATES, State

__all__ = ["CHANNEL_STATES", "EARNING", "IN_CHANNEL", "N_STATES", "STATES", "STATE_LABELS", "State"]
