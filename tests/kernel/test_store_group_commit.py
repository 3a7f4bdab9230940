"""Group commit on SQLite (ADR 0024): a unit commits without waiting for the disk and its ``with`` block
ends once a flush of the write-ahead log begun after its COMMIT has ended; units that commit while a flush
runs share the next one; the relay never reads out a commit that is not on disk yet."""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import event

from kernel.store import sqlite as store_sqlite
from kernel.store.store import EventStore, create_store_engine
from tests.kernel.events import need_surveyed


class Disk:
    """``os.fdatasync`` watched: what was synced, in order with the COMMITs; a flush may be held."""

    def __init__(self, log: list[str]) -> None:
        self.log = log
        self.hold = threading.Event()
        self.hold.set()
        self.syncing = threading.Event()
        self._sync = os.fdatasync

    def sync(self, descriptor: int) -> None:
        if os.readlink(f"/proc/self/fd/{descriptor}").endswith("-wal"):
            self.syncing.set()
            self.hold.wait(10)
            self.log.append("flush")
        self._sync(descriptor)


@pytest.fixture
def watched(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[EventStore, Disk]]:
    log: list[str] = []
    engine = create_store_engine(f"sqlite:///{tmp_path / 'survey.db'}")
    store = EventStore(engine, producer="survey")
    store.create_schema()

    @event.listens_for(engine, "connect")
    def watch(raw: sqlite3.Connection, _record: object) -> None:
        raw.set_trace_callback(lambda sql: log.append("commit") if sql == "COMMIT" else None)

    engine.dispose()
    disk = Disk(log)
    monkeypatch.setattr(os, "fdatasync", disk.sync)  # the store syncs its log with os.fdatasync
    yield store, disk
    engine.dispose()


def test_a_unit_ends_once_the_log_is_flushed_after_its_commit(watched: tuple[EventStore, Disk]) -> None:
    store, disk = watched
    with store.transaction() as unit:
        unit.append("person-1", 0, [need_surveyed()])
        assert unit.session.connection().exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
    assert disk.log == ["commit", "flush"]
    with store.reading() as unit:  # a query flushes nothing
        unit.read()
    assert disk.log.count("flush") == 1


def test_units_that_commit_while_a_flush_runs_share_the_next_one(watched: tuple[EventStore, Disk]) -> None:
    store, disk = watched
    writer = store_sqlite.writer_of(store.engine)
    assert writer is not None
    before = writer.commits
    disk.hold.clear()

    def command(number: int) -> None:
        with store.transaction() as unit:
            unit.append(f"person-{number}", 0, [need_surveyed()])

    first = threading.Thread(target=command, args=(1,))
    first.start()
    assert disk.syncing.wait(10)  # the first unit's flush has begun, and waits
    others = [threading.Thread(target=command, args=(number,)) for number in (2, 3, 4)]
    for thread in others:
        thread.start()
    for _ in range(1000):  # the lock is not held while a flush runs: the others commit meanwhile
        if writer.commits == before + 4:
            break
        threading.Event().wait(0.01)
    assert writer.commits == before + 4
    disk.hold.set()
    for thread in [first, *others]:
        thread.join(10)
    assert disk.log == ["commit", "commit", "commit", "commit", "flush", "flush"]
    assert store.counts()["stored"] == 4


def test_the_relay_reads_out_no_commit_before_it_is_on_disk(watched: tuple[EventStore, Disk]) -> None:
    store, disk = watched
    disk.hold.clear()

    def register() -> None:
        with store.transaction() as unit:
            unit.append("person-1", 0, [need_surveyed()])

    writer = threading.Thread(target=register)
    writer.start()
    assert disk.syncing.wait(10)  # committed (visible), its flush held
    read: list[int] = []

    def relay_pass() -> None:
        read.append(len(store.unpublished(10)))
        disk.log.append("read")

    relay = threading.Thread(target=relay_pass)
    relay.start()
    disk.hold.set()
    for thread in (writer, relay):
        thread.join(10)
    assert read == [1]
    assert disk.log.index("read") > disk.log.index("flush")
