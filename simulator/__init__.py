"""Simulation and planning engine for B2B channel partner management.

The public API: :func:`load_scenario`, :func:`simulate`, the planning answers
:func:`capacity`, :func:`size_recruitment` and :func:`compare`, the program optimiser
:func:`optimize`, the Mesa face :class:`ChannelModel` / :class:`Partner`, and calibration
from a partner export :func:`calibrate`, :func:`synthetic_export`, :func:`backtest` (imported
on first use, so the command line starts without loading Mesa, optuna or lifelines).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .engine.results import SimulationResult, simulate
from .errors import ChannelError, ScenarioError
from .lifecycle.states import State
from .planning import capacity, compare, size_recruitment
from .scenario import Scenario, load_scenario

if TYPE_CHECKING:
    from .agents import Partner
    from .calibration import backtest, calibrate, synthetic_export
    from .model import ChannelModel
    from .optimization import optimize
    from .sweeps import SweepDesign, open_sweep, sensitivity, summarize_sweep, sweep, sweep_monthly

_LAZY = {
    "ChannelModel": ".model",
    "Partner": ".agents",
    "SweepDesign": ".sweeps",
    "sweep": ".sweeps",
    "open_sweep": ".sweeps",
    "summarize_sweep": ".sweeps",
    "sweep_monthly": ".sweeps",
    "sensitivity": ".sweeps",
    "calibrate": ".calibration",
    "synthetic_export": ".calibration",
    "backtest": ".calibration",
    "optimize": ".optimization",
}


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
    "SweepDesign",
    "backtest",
    "calibrate",
    "capacity",
    "compare",
    "load_scenario",
    "open_sweep",
    "optimize",
    "sensitivity",
    "simulate",
    "size_recruitment",
    "summarize_sweep",
    "sweep",
    "sweep_monthly",
    "synthetic_export",
]
