"""Simulation and planning engine for B2B channel partner management.

The public API: :func:`load_scenario`, :func:`simulate`, and the Mesa face
:class:`ChannelModel` / :class:`Partner` (imported on first use, so the
command line starts without loading Mesa).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .engine.results import SimulationResult, simulate
from .errors import ChannelError, ScenarioError
from .lifecycle.states import State
from .scenario import Scenario, load_scenario

if TYPE_CHECKING:
    from .agents import Partner
    from .model import ChannelModel

_LAZY = {"ChannelModel": ".model", "Partner": ".agents"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module 'simulator' has no attribute {name!r}")


__all__ = [
    "ChannelError",
    "ChannelModel",
    "Partner",
    "Scenario",
    "ScenarioError",
    "SimulationResult",
    "State",
    "load_scenario",
    "simulate",
]
