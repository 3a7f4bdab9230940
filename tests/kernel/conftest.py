"""Fixtures for the eventing kernel: an event store on every backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from kernel.store.store import EventStore, create_store_engine
from tests.backends import BACKENDS, store_on


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EventStore]:
    """The same store tests run on SQLite and on a real PostgreSQL."""
    with store_on(request, tmp_path, "survey") as event_store:
        yield event_store


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[EventStore]:
    engine = create_store_engine(f"sqlite:///{tmp_path / 'store.db'}")
    event_store = EventStore(engine, producer="survey")
    event_store.create_schema()
    yield event_store
    engine.dispose()


def journal_mode(store: EventStore) -> str:
    with store.engine.connect() as connection:
        return str(connection.execute(text("PRAGMA journal_mode")).scalar())
