"""A SQLite database locked by another process: a command waits the bounded busy timeout, then is
refused with StoreBusy (HTTP 503) having recorded nothing, and succeeds once the lock is released."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from kernel.store.store import EventStore, StoreBusy, create_store_engine
from tests.kernel.events import need_surveyed


def test_a_command_on_a_database_locked_by_another_writer_is_refused_with_503_and_records_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REHAB_SQLITE_BUSY_SECONDS", "0.2")
    database = tmp_path / "survey.db"
    store = EventStore(create_store_engine(f"sqlite:///{database}"), producer="survey")
    store.create_schema()
    other = sqlite3.connect(database, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock

    with pytest.raises(StoreBusy) as refused, store.transaction() as unit:
        unit.append("person-1", 0, [need_surveyed()])

    assert refused.value.status_code == 503 and refused.value.code == "store.busy"
    assert "0.2" in refused.value.message
    assert store.counts()["stored"] == 0  # reads never wait for the writer
    other.execute("ROLLBACK")
    other.close()
    with store.transaction() as unit:
        unit.append("person-1", 0, [need_surveyed()])
    assert store.counts()["stored"] == 1
    store.engine.dispose()
