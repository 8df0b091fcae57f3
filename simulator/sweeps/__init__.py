"""Monte Carlo sweeps and sensitivity analysis, on one machine or a Dask cluster.

design (:class:`SweepDesign`) -> runs (:func:`sweep`, chunks streamed to a
Parquet dataset, resumable) -> tidy table -> :func:`summarize_sweep`;
:func:`sensitivity` runs a SALib design through the same machinery.
"""

from .api import make_design, open_sweep, summarize_sweep, sweep, sweep_monthly
from .design import SweepDesign
from .sensitivity import SensitivityResult, sensitivity

__all__ = [
    "SensitivityResult",
    "SweepDesign",
    "make_design",
    "open_sweep",
    "sensitivity",
    "summarize_sweep",
    "sweep",
    "sweep_monthly",
]
