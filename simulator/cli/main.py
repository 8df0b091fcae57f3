"""The ``run.py`` entry point: argument parsing, dispatch and error handling.

Every command is a function ``(args) -> int`` registered by its module's
``register(subparsers)``. Errors a user can fix (bad scenario, bad value,
missing or unwritable file) print one line and exit with code 2; Ctrl-C
exits with 130 and leaves every finished result on disk.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ..errors import ChannelError
from ..formatting import printable

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class UsageError(ChannelError):
    """Bad command-line arguments."""


class Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors are one line (no usage dump) and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message} (see {self.prog} --help)")


def build_parser() -> Parser:
    from . import simulate

    parser = Parser(
        prog="run.py",
        description="Simulation and planning engine for B2B channel partner management.",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.required = True
    simulate.register(sub)
    for name in ("sweeps", "planning", "reports", "calibration", "optimization", "dashboard", "theory", "tornado"):
        module = _optional(name)
        if module is not None:
            module.register(sub)
    return parser


def _optional(name: str):  # noqa: ANN202
    import importlib

    try:
        return importlib.import_module(f"{__package__}.{name}")
    except ModuleNotFoundError as exc:
        if exc.name == f"{__package__}.{name}":
            return None
        raise


def main(argv: Sequence[str] | None = None) -> int:
    """Run a command; return its exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    try:
        args = build_parser().parse_args(argv)
        from .common import prepare_engine

        prepare_engine(args)
        return int(args.handler(args) or EXIT_OK)
    except ChannelError as exc:
        print(f"error: {printable(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted: finished results are kept", file=sys.stderr)
        return EXIT_INTERRUPTED
    except OSError as exc:
        where = f" {exc.filename}" if getattr(exc, "filename", None) else ""
        print(printable(f"error: cannot use{where}: {exc.strerror or exc}"), file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:
        if debug:
            raise
        print(
            printable(
                f"error: internal error ({type(exc).__name__}: {exc}); "
                "please report it, and rerun with --debug for the traceback"
            ),
            file=sys.stderr,
        )
        return EXIT_FAILED
