"""Progress of long commands, drawn by rich on stderr so stdout keeps only the answer."""

from __future__ import annotations

import os
import threading
from types import TracebackType
from typing import IO

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
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


class Upload:
    """A file being sent, read through this wrapper: a bar on stderr shows the bytes sent so far, then,
    once the last byte is read, a spinner says what the receiver does until it answers.

    httpx reads a multipart file field in chunks while it sends them: each ``read`` advances the bar.
    ``seek``, ``tell`` and ``fileno`` let httpx learn the length (a Content-Length, not chunked).
    """

    def __init__(self, file: IO[bytes], what: str, then: str) -> None:
        self._file = file
        self._then = then
        self._waiting: Progress | None = None
        console = Console(stderr=True)
        self._progress = Progress(
            TextColumn(what),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            console=console,
            transient=True,
            disable=not console.is_terminal,
        )
        self._task = self._progress.add_task(what, total=os.fstat(file.fileno()).st_size)

    def read(self, size: int = -1) -> bytes:
        chunk = self._file.read(size)
        self._progress.advance(self._task, len(chunk))
        if not chunk and size and self._waiting is None:  # all sent: the receiver's turn
            self._progress.stop()
            self._waiting = working(self._then)
            self._waiting.start()
        return chunk

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        position = self._file.seek(offset, whence)
        self._progress.update(self._task, completed=position)
        return position

    def tell(self) -> int:
        return self._file.tell()

    def fileno(self) -> int:
        return self._file.fileno()

    def __enter__(self) -> Upload:
        self._progress.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._progress.stop()
        if self._waiting is not None:
            self._waiting.stop()
