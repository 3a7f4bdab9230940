"""A service's event store on each backend the store tests run on: SQLite, and a real PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, MetaData, text

from kernel.store.store import EventStore, create_store_engine, metadata

BACKENDS = ["sqlite", "postgresql"]
"""The params of a store fixture: ``@pytest.fixture(params=BACKENDS)``."""


@contextmanager
def store_on(
    request: pytest.FixtureRequest, tmp_path: Path, producer: str, tables: MetaData | None = None
) -> Iterator[EventStore]:
    """The store of ``producer`` (with its own ``tables``) on the backend ``request.param`` names.

    SQLite lives in ``tmp_path``; the shared test PostgreSQL is emptied of these tables before and after.
    """
    if request.param == "sqlite":
        engine = create_store_engine(f"sqlite:///{tmp_path / f'{producer}.db'}")
    else:
        engine = create_store_engine(request.getfixturevalue("postgres_url"))
        _drop(engine, tables)
    event_store = EventStore(engine, producer=producer)
    event_store.create_schema(tables)
    try:
        yield event_store
    finally:
        if request.param == "postgresql":
            _drop(engine, tables)
        engine.dispose()


def _drop(engine: Engine, tables: MetaData | None) -> None:
    if tables is not None:
        tables.drop_all(engine)
    metadata.drop_all(engine)
    forget_migrations(engine)


def forget_migrations(engine: Engine) -> None:
    """Drop Alembic's record of the migrations applied, with the tables they made (ADR 0018)."""
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
