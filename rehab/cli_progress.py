"""Progress of long commands, drawn by rich on stderr so stdout keeps only the answer."""

from __future__ import annotations

import threading
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)


class DemoBar:
    """A bar per stage of `rehab demo` (rehab.demo.DemoProgress): 600 persons take more than a minute."""

    def __init__(self, console: Console | None = None) -> None:
        self._console = console or Console(stderr=True)
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self._console,
            transient=False,
            disable=not self._console.is_terminal,
        )
        self._task: TaskID | None = None
        self._lock = threading.Lock()

    def stage(self, name: str, total: int | None) -> None:
        with self._lock:
            if self._task is not None:
                self._progress.update(self._task, completed=self._progress.tasks[self._task].total or 0)
                self._progress.stop_task(self._task)
            self._task = self._progress.add_task(name, total=total)
        if not self._console.is_terminal:  # a log (scripts/demo in CI) gets a line per stage instead
            count = "" if total is None else f"（{total}）"
            self._console.print(f"演示：{name}{count}…", markup=False, highlight=False)

    def advance(self) -> None:
        with self._lock:
            if self._task is not None:
                self._progress.advance(self._task)

    def __enter__(self) -> DemoBar:
        self._progress.start()
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _error: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        if self._task is not None and _error is None:
            task = self._progress.tasks[self._task]
            self._progress.update(self._task, total=task.total or 1, completed=task.total or 1)
        self._progress.stop()


def working(what: str) -> Progress:
    """A spinner with a message for a job whose length is unknown (a replay); stopped on exit."""
    console = Console(stderr=True)
    progress = Progress(
        SpinnerColumn(),
        TextColumn(what),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,  # a log file or a pipe gets the answer, not a spinner's frames
    )
    progress.add_task(what, total=None)
    return progress
