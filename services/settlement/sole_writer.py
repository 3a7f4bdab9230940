"""On SQLite one settlement instance consumes and writes the ledger (ADR 0020): a second instance started on
the same database refuses to start. The running one holds an operating system lock (``flock``) on a file
beside the database, which the system releases when the process ends, however it ends."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO

from sqlalchemy.engine import make_url

LOCK_SUFFIX = ".writer.lock"


class SecondLedgerWriter(RuntimeError):
    """Another settlement process runs on this SQLite database."""


class SoleWriter:
    """The lock a settlement process on a SQLite file holds while it runs."""

    def __init__(self, database: Path) -> None:
        self.database = database
        self.path = database.with_name(database.name + LOCK_SUFFIX)
        self._held: IO[str] | None = None

    def take(self) -> None:
        """Hold the lock, or raise ``SecondLedgerWriter`` naming the database."""
        # Only the service's own user may open it (else anyone who can read it could hold the lock and keep
        # settlement from starting), and never through a link planted in its place.
        flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
        held = os.fdopen(os.open(self.path, flags, 0o600), "r+")
        try:
            fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            held.close()
            raise SecondLedgerWriter(
                f"另一个结算服务（settlement）实例正在使用 {self.database} 写台账：SQLite 上只能运行一个"
                "实例（ADR 0020），两个实例会各消费一部分事件。多实例请用 PostgreSQL"
            ) from None
        self._held = held

    def give_up(self) -> None:
        if self._held is not None:
            self._held.close()  # closing the file releases the lock
            self._held = None


def sole_writer_of(store_url: str) -> SoleWriter | None:
    """The lock for a store on a SQLite file; None on PostgreSQL (an election decides) and in memory."""
    url = make_url(store_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return SoleWriter(Path(url.database).absolute())
