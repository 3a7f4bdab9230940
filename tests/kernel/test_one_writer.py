"""One SQLite writer at a time per process: concurrent commands take turns on a lock instead of sleeping
in SQLite's busy handler, every one is recorded, and a writer that never ends makes the others busy
after the busy timeout, as another process's lock does."""

from __future__ import annotations

import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import event

from kernel.store.store import EventStore, StoreBusy, create_store_engine
from tests.kernel.events import need_surveyed


def test_sixteen_concurrent_writers_of_one_process_take_turns_and_all_are_recorded(tmp_path: Path) -> None:
    store = EventStore(create_store_engine(f"sqlite:///{tmp_path / 'survey.db'}"), producer="survey")
    store.create_schema()
    inside = 0
    most_inside = 0
    count_lock = threading.Lock()

    def command(number: int) -> None:
        nonlocal inside, most_inside
        with store.transaction() as unit:
            unit.append(f"person-{number}", 0, [need_surveyed()])  # the transaction begins here
            with count_lock:
                inside += 1
                most_inside = max(most_inside, inside)
            time.sleep(0.005)
            with count_lock:
                inside -= 1

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(command, range(64)))

    assert store.counts()["stored"] == 64
    assert most_inside == 1
    store.engine.dispose()


def test_a_writer_of_the_process_that_never_ends_makes_the_next_one_busy_after_the_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REHAB_SQLITE_BUSY_SECONDS", "0.2")
    store = EventStore(create_store_engine(f"sqlite:///{tmp_path / 'survey.db'}"), producer="survey")
    store.create_schema()
    holding = threading.Event()
    release = threading.Event()

    def stuck_writer() -> None:
        with store.transaction() as unit:
            unit.append("person-1", 0, [need_surveyed()])
            holding.set()
            release.wait(5)

    writer = threading.Thread(target=stuck_writer)
    writer.start()
    holding.wait(5)
    began = time.monotonic()
    with pytest.raises(StoreBusy), store.transaction() as unit:
        unit.append("person-2", 0, [need_surveyed()])
    assert 0.15 < time.monotonic() - began < 2
    assert store.counts()["stored"] == 0  # reads never wait
    release.set()
    writer.join()

    with store.transaction() as unit:  # the lock is free again
        unit.append("person-2", 0, [need_surveyed()])
    assert store.counts()["stored"] == 2
    store.engine.dispose()


def test_the_process_writer_lock_is_held_while_sqlite_commits(tmp_path: Path) -> None:
    """SQLite holds its write lock through COMMIT (and the WAL's fsync): a next writer let in before COMMIT
    returned found the database locked and slept in SQLite's busy handler (1 ms, 2 ms, ...)."""
    engine = create_store_engine(f"sqlite:///{tmp_path / 'survey.db'}")
    store = EventStore(engine, producer="survey")
    store.create_schema()
    held_at_commit: list[bool] = []

    @event.listens_for(engine, "connect")
    def watch(raw: sqlite3.Connection, _record: object) -> None:
        writer = type(raw).writer  # type: ignore[attr-defined]
        raw.set_trace_callback(
            lambda sql: held_at_commit.append(writer._lock.locked()) if sql == "COMMIT" else None
        )

    engine.dispose()  # connections made from now on are watched
    for number in range(3):
        with store.transaction() as unit:
            unit.append(f"person-{number}", 0, [need_surveyed()])

    assert held_at_commit == [True, True, True]
    with store.transaction() as unit:  # and released once each commit returned
        unit.append("person-3", 0, [need_surveyed()])
    assert store.counts()["stored"] == 4
    engine.dispose()
