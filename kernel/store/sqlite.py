"""SQLite for a service's store: WAL with full fsync, write transactions that take the lock up
front, and a bounded wait for another process's lock that ends in a clear refusal (503)."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import OperationalError

from kernel.config import RehabSettings
from kernel.domain.rejections import CommandRejected

log = logging.getLogger(__name__)


class StoreBusy(CommandRejected):
    """The database stayed locked by another writer longer than the busy timeout: HTTP 503.

    Nothing was recorded; the client sends the command again (with its Idempotency-Key).
    """

    status_code = 503

    def __init__(self) -> None:
        super().__init__(
            f"数据库正被其他进程占用（等待超过 {busy_timeout_seconds():g} 秒），"
            "本次命令未保存，请稍后重新提交",
            code="store.busy",
        )


BUSY_TIMEOUT_VARIABLE = "REHAB_SQLITE_BUSY_SECONDS"
DEFAULT_BUSY_TIMEOUT_SECONDS = 30.0


class SQLiteSettings(RehabSettings):
    """The SQLite engine's settings, read each time they are needed."""

    sqlite_busy_seconds: float = DEFAULT_BUSY_TIMEOUT_SECONDS
    """``REHAB_SQLITE_BUSY_SECONDS``: how long a transaction waits for another process's write lock."""


def busy_timeout_seconds() -> float:
    """How long a SQLite transaction waits for another process's write lock (default 30 s)."""
    return SQLiteSettings().sqlite_busy_seconds


def create_store_engine(url: str) -> Engine:
    """An engine for a service's own database; SQLite files get WAL, full fsync and one writer at a time
    per process (``OneWriter``)."""
    if url.startswith("sqlite"):
        timeout = busy_timeout_seconds()  # read once: reading settings costs more than a small command
        writer = OneWriter(timeout)
        connection_type = type("WriterConnection", (WriterConnection,), {"writer": writer})
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": timeout, "factory": connection_type}
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", writer.begin)
        return engine
    return create_engine(url, pool_pre_ping=True)


class OneWriter:
    """Write transactions of one process take turns on a lock before ``BEGIN IMMEDIATE``.

    SQLite lets one writer in at a time; left to itself, a second thread waits in SQLite's busy handler,
    which sleeps 1 to 100 ms between tries, so 16 concurrent commands spent most of their time asleep
    (issue 17). Here the next writer of the process starts when the previous one has ended: its COMMIT
    or ROLLBACK has returned, so SQLite has let go of its own lock too (``WriterConnection``). Another
    process's writer is still waited for by the busy handler; the lock itself is waited for at most the
    busy timeout, then the transaction fails as busy (503 ``store.busy``).
    """

    def __init__(self, timeout_seconds: float) -> None:
        self.timeout_seconds = timeout_seconds
        """How long a writer waits for the lock: the busy timeout, as SQLite's busy handler waits."""
        self._lock = threading.Lock()
        self._holder: int | None = None
        """``id`` of the DB-API connection whose transaction holds the lock."""

    def begin(self, connection: Any) -> None:
        # IMMEDIATE takes the write lock up front, so two read-then-write transactions of one service
        # wait for each other instead of failing when both try to upgrade. Reads
        # (``EventStore.reading``) begin DEFERRED: in WAL mode they never wait for a writer.
        if connection.get_execution_options().get(READ_ONLY):
            connection.exec_driver_sql("BEGIN")
            return
        if not self._lock.acquire(timeout=self.timeout_seconds):
            raise OperationalError("BEGIN IMMEDIATE", None, sqlite3.OperationalError("database is locked"))
        dbapi_connection = connection.connection.dbapi_connection
        self._holder = id(dbapi_connection)
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            self.end(dbapi_connection)
            raise

    def end(self, dbapi_connection: Any) -> None:
        """The connection's transaction has ended (committed, or rolled back)."""
        if self._holder == id(dbapi_connection):
            self._holder = None
            self._lock.release()


class WriterConnection(sqlite3.Connection):
    """A SQLite connection that hands ``OneWriter``'s lock on when its COMMIT or ROLLBACK has returned.

    SQLAlchemy's ``commit`` and ``rollback`` events come before the statement is sent, while SQLite still
    holds its write lock (a COMMIT holds it through the WAL's fsync): a next writer let in then found the
    database locked and slept in SQLite's busy handler (1 ms, then 2, 5, ...) after every command.
    """

    writer: OneWriter
    """The lock of the engine this connection belongs to (``create_store_engine`` sets it per engine)."""

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self.writer.end(self)

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.writer.end(self)

    def close(self) -> None:  # a connection closed in a transaction (invalidated) rolls it back
        try:
            super().close()
        finally:
            self.writer.end(self)


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the sqlite3 module, decide where transactions begin: the module's own
    # legacy handling turns a SAVEPOINT's release into a commit of the whole transaction.
    connection.isolation_level = None
    cursor = connection.cursor()
    _switch_to_wal(cursor)
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _switch_to_wal(cursor: Any) -> None:
    """Put the database in WAL mode (kept in the file, so later connections find it set).

    Switching a fresh file's mode needs its exclusive lock, and SQLite answers "database is locked" at
    once, without its busy handler, when another process switches or reads it at that moment: several
    instances starting on an empty database. Tried again until the busy timeout.
    """
    deadline = time.monotonic() + busy_timeout_seconds()
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error).lower() or time.monotonic() >= deadline:
                raise
            time.sleep(0.02)


READ_ONLY = "rehab_read_only"


@contextmanager
def busy_means_retry() -> Iterator[None]:
    """A lock held by another process past the busy timeout is a 503 the client retries, not a crash."""
    try:
        yield
    except OperationalError as error:
        if "locked" in str(error.orig).lower() or "busy" in str(error.orig).lower():
            log.warning("database locked by another writer for more than %gs", busy_timeout_seconds())
            raise StoreBusy() from error
        raise
