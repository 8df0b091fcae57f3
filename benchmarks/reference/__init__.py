"""A plain per-agent Mesa implementation of the core lifecycle: the readable rules and the speed baseline."""

from .agents import Partner
from .model import ReferenceModel, simulate_reference, throughput

__all__ = ["Partner", "ReferenceModel", "simulate_reference", "throughput"]
