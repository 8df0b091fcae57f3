"""Command-line interface: ``python run.py <command> ...``."""

from .main import main

__all__ = ["main"]
