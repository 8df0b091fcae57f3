"""Calibration: a scenario fitted to a vendor's partner export, synthetic exports, and backtests.

:func:`calibrate` reads an export (EXPORT.md), rebuilds each partner's monthly
history and fits the model's rates; :func:`synthetic_export` writes an export
from a simulated history; :func:`backtest` calibrates on the past and scores
the simulated holdout months against what happened.
"""

from .backtest import BacktestResult, backtest
from .calibrate import CalibrationResult, calibrate
from .export import Export, read_export
from .synthetic import SyntheticExport, synthetic_export

__all__ = [
    "BacktestResult",
    "CalibrationResult",
    "Export",
    "SyntheticExport",
    "backtest",
    "calibrate",
    "read_export",
    "synthetic_export",
]
