"""Calibration: a scenario from a vendor's partner export, synthetic exports, and backtests."""
