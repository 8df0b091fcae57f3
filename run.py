#!/usr/bin/env python3
"""Command line of the channel simulation engine: ``python run.py --help``."""

import sys

from simulator.cli import main

if __name__ == "__main__":
    sys.exit(main())
