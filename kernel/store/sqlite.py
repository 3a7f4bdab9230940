"""SQLite for a service's store: WAL with full fsync, write transactions that take the lock up
front, and a bounded wait for another process's lock that ends in a clear refusal (503)."""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url
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
        writer = OneWriter(timeout, _log_of(url))
        connection_type = type("WriterConnection", (WriterConnection,), {"writer": writer})
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": timeout, "factory": connection_type}
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", writer.begin)
        _WRITERS[engine] = writer
        return engine
    if url.startswith("postgresql"):
        return create_engine(url, pool_pre_ping=True, connect_args=POSTGRES_TIMEOUTS)
    return create_engine(url, pool_pre_ping=True)


POSTGRES_TIMEOUTS = {
    "connect_timeout": 5,
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
    "tcp_user_timeout": 15_000,
}
"""libpq's bounds on a server that stops answering (a network partition, a host gone): a connection not
made within 5 s fails, and one whose sent bytes go unacknowledged for 15 s, or whose idle peer misses three
keepalives, is dropped. Either way the request gets 503 ``store.unavailable`` instead of waiting for the
operating system's TCP timeouts (minutes). A slow query is not cut: the server's host still acknowledges."""


SYNCHRONOUS = "rehab_synchronous"
"""Execution option of a SQLite write transaction: ``NORMAL`` commits without waiting for the disk (the
caller then waits with ``OneWriter.flush``, or not at all: the relay's marks); default ``FULL``."""

NOT_FLUSHED = "rehab_not_flushed"
"""Execution option of a SQLite write transaction committed ``NORMAL`` that no one waits onto the disk (the
relay's marks): its commit is not counted for the flushes (``OneWriter.committed``), so no flush is made
for it alone; the next counted commit's flush puts it on disk with that one (ADR 0024)."""

_WRITERS: weakref.WeakKeyDictionary[Engine, OneWriter] = weakref.WeakKeyDictionary()


def writer_of(engine: Engine) -> OneWriter | None:
    """The writer of a SQLite file's engine made by ``create_store_engine``; None for any other."""
    return _WRITERS.get(engine)


def _log_of(url: str) -> str | None:
    """The write-ahead log of a SQLite file (``<file>-wal``); None for an in-memory database."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return os.path.abspath(database) + "-wal"


class OneWriter:
    """Write transactions of one process take turns on a lock before ``BEGIN IMMEDIATE``.

    SQLite lets one writer in at a time; left to itself, a second thread waits in SQLite's busy handler,
    which sleeps 1 to 100 ms between tries, so 16 concurrent commands spent most of their time asleep
    (issue 17). Here the next writer of the process starts when the previous one has ended: its COMMIT
    or ROLLBACK has returned, so SQLite has let go of its own lock too (``WriterConnection``). Another
    process's writer is still waited for by the busy handler; the lock itself is waited for at most the
    busy timeout, then the transaction fails as busy (503 ``store.busy``).
    """

    def __init__(self, timeout_seconds: float, log_file: str | None = None) -> None:
        self.timeout_seconds = timeout_seconds
        """How long a writer waits for the lock: the busy timeout, as SQLite's busy handler waits."""
        self.log_file = log_file
        """The database's write-ahead log, which ``flush`` puts on disk; None: commits are all ``FULL``."""
        self._lock = threading.Lock()
        self._holder: int | None = None
        """``id`` of the DB-API connection whose transaction holds the lock."""
        self._changes_at_begin = 0
        self._counted = True
        """Whether the holder's commit is counted (not a ``NOT_FLUSHED`` transaction)."""
        self.commits = 0
        """Commits that changed something, counted before the lock is handed on (the flushes' tickets)."""
        self._flushed = 0
        """Every commit counted up to this one is on disk."""
        self._flushing = threading.Lock()
        self._log_inode: int | None = None

    def begin(self, connection: Any) -> None:
        # IMMEDIATE takes the write lock up front, so two read-then-write transactions of one service
        # wait for each other instead of failing when both try to upgrade. Reads
        # (``EventStore.reading``) begin DEFERRED: in WAL mode they never wait for a writer.
        options = connection.get_execution_options()
        if options.get(READ_ONLY):
            connection.exec_driver_sql("BEGIN")
            return
        synchronous = options.get(SYNCHRONOUS, "FULL") if self.log_file else "FULL"
        if connection.info.get(SYNCHRONOUS, "FULL") != synchronous:  # set outside any transaction
            connection.exec_driver_sql(f"PRAGMA synchronous={synchronous}")
            connection.info[SYNCHRONOUS] = synchronous
        if not self._lock.acquire(timeout=self.timeout_seconds):
            raise OperationalError("BEGIN IMMEDIATE", None, sqlite3.OperationalError("database is locked"))
        dbapi_connection = connection.connection.dbapi_connection
        self._holder = id(dbapi_connection)
        self._changes_at_begin = dbapi_connection.total_changes
        self._counted = not options.get(NOT_FLUSHED)
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

    def committed(self, dbapi_connection: Any) -> None:
        """The holder's COMMIT returned: counted if it changed anything (before the lock is handed on) and
        someone may wait for it to be on disk (not ``NOT_FLUSHED``)."""
        if (
            self._holder == id(dbapi_connection)
            and self._counted
            and dbapi_connection.total_changes != self._changes_at_begin
        ):
            self.commits += 1

    def flush(self, ticket: int | None = None) -> None:
        """Wait until every commit counted up to ``ticket`` (default: every one counted so far) is on disk.

        Group commit (ADR 0024): a write transaction committed ``NORMAL`` has its pages in the write-ahead
        log, not yet on disk; one fsync of the log puts there every commit made before it began, so the
        callers waiting meanwhile share the next one. The lock is not held: the next writer works while
        the disk syncs.
        """
        ticket = self.commits if ticket is None else ticket
        if ticket <= self._flushed or self.log_file is None:
            return
        with self._flushing:
            if ticket <= self._flushed:
                return  # the fsync that just ended covered it
            covered = self.commits  # every counted COMMIT has returned: its pages are in the log
            self._sync_log()
            self._flushed = max(self._flushed, covered)

    def flush_visible(self) -> None:
        """Put on disk every commit a reader may have seen so far (``Outbox``: before publishing it).

        A commit is visible as soon as its COMMIT returns, a moment before it is counted. Its writer holds
        the lock from before its BEGIN until after it is counted (``_holder`` set throughout): when no one
        holds it, every commit that returned so far is counted; when someone does, the lock is taken (and
        let go at once) so that no commit is between the two. This process's commits only: one process
        writes a SQLite store (ADR 0024).
        """
        if self.log_file is None:
            return
        if self._holder is None:  # read after the caller's read: any commit it saw is counted by now
            ticket = self.commits
        else:
            if not self._lock.acquire(timeout=self.timeout_seconds):
                raise OperationalError("flush", None, sqlite3.OperationalError("database is locked"))
            ticket = self.commits
            self._lock.release()
        self.flush(ticket)

    def _sync_log(self) -> None:
        assert self.log_file is not None
        try:
            descriptor = os.open(self.log_file, os.O_RDONLY)
        except FileNotFoundError:  # no log: the last connection's checkpoint put everything in the file
            return
        try:
            os.fdatasync(descriptor)  # as SQLite syncs its log: the data, and the size it needs
            inode = os.fstat(descriptor).st_ino
        finally:
            os.close(descriptor)
        if inode != self._log_inode:  # a log made since the last flush: its directory entry too
            folder = os.open(os.path.dirname(self.log_file), os.O_RDONLY)
            try:
                os.fsync(folder)
            finally:
                os.close(folder)
            self._log_inode = inode


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
            self.writer.committed(self)
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
    cursor.execute("PRAGMA synchronous=FULL")  # a write transaction may ask for NORMAL (``SYNCHRONOUS``)
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
