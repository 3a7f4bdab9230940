"""The relay's marks on SQLite: written through the driver as SQLAlchemy would write them, and not counted
for the flushes of group commit (ADR 0024): a pass after a mark flushes nothing a command has not already."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from kernel.store.store import EventStore, create_store_engine
from kernel.store.tables import outbox_table
from tests.kernel.events import need_surveyed


@pytest.fixture
def flushes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[EventStore, list[str]]]:
    engine = create_store_engine(f"sqlite:///{tmp_path / 'survey.db'}")
    store = EventStore(engine, producer="survey")
    store.create_schema()
    synced: list[str] = []
    sync = os.fdatasync

    def watched(descriptor: int) -> None:
        if os.readlink(f"/proc/self/fd/{descriptor}").endswith("-wal"):
            synced.append("flush")
        sync(descriptor)

    monkeypatch.setattr(os, "fdatasync", watched)
    yield store, synced
    engine.dispose()


def register(store: EventStore, person: str) -> None:
    with store.transaction() as unit:
        unit.append(person, 0, [need_surveyed()])


def test_a_pass_after_a_mark_flushes_nothing_and_the_next_command_flushes_the_mark(
    flushes: tuple[EventStore, list[str]],
) -> None:
    store, synced = flushes
    for person in ("person-1", "person-2"):
        register(store, person)
    assert synced == ["flush", "flush"]
    [first] = store.unpublished(1)  # the commands' flushes covered them: nothing to flush
    store.mark_published([(first.position, "1-0")])
    [second] = store.unpublished(1)  # a backlog's next batch
    assert second.position > first.position
    assert synced == ["flush", "flush"]  # the mark alone is never flushed
    store.mark_published([(second.position, "1-1")])
    register(store, "person-3")
    assert synced == ["flush", "flush", "flush"]  # the command's flush, which takes the marks with it
    [third] = store.unpublished(1)
    assert synced == ["flush", "flush", "flush"]
    assert third.position > second.position


def test_a_mark_stores_its_time_as_sqlalchemy_does(sqlite_store: EventStore) -> None:
    for person in ("person-1", "person-2"):
        register(sqlite_store, person)
    first, second = (event.position for event in sqlite_store.unpublished(10))
    before = datetime.now(UTC)
    sqlite_store.mark_published([(first, "1-0")])
    with sqlite_store.engine.begin() as connection:  # the same mark through SQLAlchemy's statement
        connection.execute(
            update(outbox_table)
            .where(outbox_table.c.position == second)
            .values(published_at=datetime.now(UTC), stream_entry_id="1-1")
        )
    with sqlite_store.engine.connect() as connection:
        texts: dict[int, str] = dict(
            connection.exec_driver_sql("SELECT position, published_at FROM outbox").all()
        )
        times = dict(connection.execute(select(outbox_table.c.position, outbox_table.c.published_at)).all())
    shape = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}")
    assert shape.fullmatch(texts[first]) and shape.fullmatch(texts[second])
    published = times[first].replace(tzinfo=UTC)
    assert before - timedelta(seconds=1) <= published <= times[second].replace(tzinfo=UTC)
    assert sqlite_store.published_entries() == [(first, "1-0"), (second, "1-1")]
