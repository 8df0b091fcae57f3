#!/usr/bin/env python3
"""Command line of the channel simulation engine: ``python run.py --help``."""

import atexit
import contextlib
import os
import sys
import threading

from simulator.cli import main


def leave(code: int) -> None:
    """Exit with ``code`` once every exit handler has run, skipping the interpreter's own teardown.

    Freeing pandas, pyarrow and numba's modules one by one takes about half a second after the work is done
    and written. With another thread still running, Python's normal exit (which joins it) is kept.
    """
    run_handlers = getattr(atexit, "_run_exitfuncs", None)
    if run_handlers is None or threading.active_count() > 1:
        sys.exit(code)
    run_handlers()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a reader that went away, or a closed stream
            stream.flush()
    os._exit(code)


if __name__ == "__main__":
    leave(main())
