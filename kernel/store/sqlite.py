"""SQLite for a service's store: WAL with full fsync, write transactions that take the lock up
front, and a bounded wait for another process's lock that ends in a clear refusal (503)."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import OperationalError

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


def busy_timeout_seconds() -> float:
    """How long a SQLite transaction waits for another process's write lock (default 30 s)."""
    return float(os.environ.get(BUSY_TIMEOUT_VARIABLE, DEFAULT_BUSY_TIMEOUT_SECONDS))


def create_store_engine(url: str) -> Engine:
    """An engine for a service's own database; SQLite files get WAL and full fsync."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": busy_timeout_seconds()}
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the sqlite3 module, decide where transactions begin: the module's own
    # legacy handling turns a SAVEPOINT's release into a commit of the whole transaction.
    connection.isolation_level = None
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    # IMMEDIATE takes the write lock up front, so two read-then-write transactions of one service
    # wait for each other (busy timeout) instead of failing when both try to upgrade. Reads
    # (``EventStore.reading``) begin DEFERRED: in WAL mode they never wait for a writer.
    if connection.get_execution_options().get(READ_ONLY):
        connection.exec_driver_sql("BEGIN")
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


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
