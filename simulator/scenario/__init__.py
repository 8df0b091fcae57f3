"""Scenarios: the public contract of the model (keys, defaults, validation)."""

from .loading import ScenarioLike, apply_assignments, load_scenario, parse_assignment
from .schema import Lever, Scenario, flat_keys, lever_catalogue

__all__ = [
    "Lever",
    "Scenario",
    "ScenarioLike",
    "apply_assignments",
    "flat_keys",
    "lever_catalogue",
    "load_scenario",
    "parse_assignment",
]
