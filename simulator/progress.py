"""Progress on a terminal: one bar display per command, fed where the work is handed out.

A command opens a :func:`display` around its work (shown on stderr when stderr is a terminal, silent
otherwise). The code doing the work opens a :func:`phase` with its size in model runs (one scenario,
one replication) and advances it as runs finish: :func:`simulator.sweeps.execution.execute` for tasks
on workers, :func:`simulator.simulate` for blocks run in this process. A phase opened inside another
joins it (``compare``'s two simulations fill one line); the work of a task counts once, where the
task finished, never again inside it.

Without a display every call is a no-op. The bar only reads counts, so it cannot change a number or
a file. It draws without a thread of its own (rich's ``auto_refresh=False``): worker pools created
while it shows still fork from a single-threaded process, as they would without it.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

REFRESH_SECONDS = 0.1  # redraw at most this often (a sweep of tiny chunks finishes thousands a second)


class Phase:
    """One line of the display: ``done`` of ``total`` model runs (``total`` None: not known in advance)."""

    def __init__(self, display: _Display | None = None, task: Any = None) -> None:
        self._display, self._task = display, task

    def advance(self, runs: int = 1) -> None:
        """``runs`` more model runs finished."""
        if self._display is not None:
            self._display.bar.advance(self._task, runs)
            self._display.refresh()

    def say(self, text: str) -> None:
        """What the phase is doing now, after its count (``6 values tried``)."""
        if self._display is not None:
            self._display.bar.update(self._task, note=text)
            self._display.refresh()


SILENT = Phase()


class _Display:
    """A rich progress display on stderr, drawn on updates only (no refresh thread)."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.pid = os.getpid()  # a forked worker inherits this object: it must not draw
        self.bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("runs"),
            _rate_column(),
            TimeRemainingColumn(),
            TextColumn("{task.fields[note]}"),
            console=Console(stderr=True),
            auto_refresh=False,
            redirect_stdout=False,  # the command's output stays on stdout, byte for byte
        )
        self.open: Phase | None = None
        self._drawn = 0.0

    def refresh(self, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._drawn >= REFRESH_SECONDS:
            self.bar.refresh()
            self._drawn = now


def _rate_column() -> Any:
    """A column of model runs a second, from rich's speed estimate (rich is imported only to draw)."""
    from rich.progress import ProgressColumn
    from rich.text import Text

    class RateColumn(ProgressColumn):
        def render(self, task: Any) -> Text:
            speed = task.finished_speed or task.speed or (task.completed / task.elapsed if task.elapsed else None)
            return Text("" if speed is None else f"{speed:,.0f}/s")

    return RateColumn()


_MUTED = object()  # progress=False, or the inside of a task: nothing inside draws
_current: ContextVar[Any] = ContextVar("simulator_progress", default=None)


def _active() -> _Display | None:
    found = _current.get()
    return found if isinstance(found, _Display) and found.pid == os.getpid() else None


def showing(show: bool | None = None) -> bool:
    """Whether a display opened with ``show`` draws: None means when stderr is a terminal."""
    return sys.stderr.isatty() if show is None else bool(show)


@contextmanager
def display(show: bool | None = None) -> Iterator[None]:
    """Show the progress of the work inside on stderr.

    ``show=None``: when stderr is a terminal (silent in a pipe, a file or a test); ``False``: never,
    and nothing inside draws (a library call's own ``progress=None`` included); ``True``: always.
    Inside an open display, a new one joins it (one display per command).
    """
    if _current.get() is _MUTED or _active() is not None:
        yield
        return
    if not showing(show):
        with muted():
            yield
        return
    shown = _Display()
    token = _current.set(shown)
    try:
        yield
    finally:
        _current.reset(token)
        if shown.bar.tasks:  # drawn from the first phase on: work refused before it leaves stderr empty
            shown.refresh(force=True)
            shown.bar.stop()


@contextmanager
def muted() -> Iterator[None]:
    """Nothing inside draws (the work of a task run in this process is counted when the task finishes)."""
    token = _current.set(_MUTED)
    try:
        yield
    finally:
        _current.reset(token)


@contextmanager
def phase(label: str, total: int | None, done: int = 0) -> Iterator[Phase]:
    """A line ``label``: ``total`` model runs (None: found as the work goes), ``done`` of them finished.

    Inside an open phase, the phase joins it (its runs count on the open line, whose total already
    holds them); without a display it is :data:`SILENT`.
    """
    shown = _active()
    if shown is None:
        yield SILENT
        return
    if shown.open is not None:
        yield shown.open
        return
    if not shown.bar.tasks:
        shown.bar.start()
    task = shown.bar.add_task(label, total=total, completed=done, note="")
    shown.open = Phase(shown, task)
    shown.refresh(force=True)
    try:
        yield shown.open
    finally:
        shown.open = None
        if shown.bar.tasks[task].total is None:  # found as it went: now known
            shown.bar.update(task, total=shown.bar.tasks[task].completed)
        shown.refresh(force=True)


def current() -> Phase:
    """The open phase (or :data:`SILENT`): where :func:`~simulator.sweeps.execution.execute` counts."""
    shown = _active()
    return shown.open if shown is not None and shown.open is not None else SILENT
