"""A standby's place in the fact log: positions committed out of order or rolled back are neither skipped
nor fed twice, and a rewritten log is noticed."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Connection, Engine, insert

from kernel.store.store import create_store_engine
from services.settlement.ledger.log_position import MOST_GAP, LogPosition
from services.settlement.ledger.tables import facts_table, metadata


def log_at(tmp_path: Path) -> Engine:
    engine = create_store_engine(f"sqlite:///{tmp_path}/settlement.db")
    with engine.begin() as connection:
        metadata.create_all(connection, tables=[facts_table])
    return engine


def commit(engine: Engine, *positions: int) -> None:
    with engine.begin() as connection:
        for position in positions:
            row = {"position": position, "event_id": f"e{position}", "fact": f"fact {position}"}
            connection.execute(insert(facts_table).values(row))


def unread(connection: Connection, position: LogPosition, *, final: bool = False) -> list[str]:
    return list(position.unread(connection, final=final))


def test_a_position_committed_after_a_later_one_is_fed_on_the_next_read(tmp_path: Path) -> None:
    engine, position = log_at(tmp_path), LogPosition()
    commit(engine, 1, 2, 4)  # 3 is still in flight
    with engine.connect() as connection:
        assert unread(connection, position) == ["fact 1", "fact 2", "fact 4"]
        assert position.gaps.keys() == {3}
    commit(engine, 3, 5)
    with engine.connect() as connection:
        assert unread(connection, position) == ["fact 3", "fact 5"]
        assert unread(connection, position) == []
        assert position.matches(connection) and not position.gaps


def test_a_rolled_back_position_is_given_up_once_no_writer_is_in_flight(tmp_path: Path) -> None:
    engine, position = log_at(tmp_path), LogPosition()
    commit(engine, 1, 3)
    with engine.connect() as connection:
        assert unread(connection, position) == ["fact 1", "fact 3"]
        assert unread(connection, position, final=True) == []
        assert not position.gaps and position.matches(connection)


def test_a_rewritten_log_does_not_match_what_the_book_was_fed(tmp_path: Path) -> None:
    engine, position = log_at(tmp_path), LogPosition()
    commit(engine, 1, 2)
    with engine.connect() as connection:
        unread(connection, position)
    commit(engine, 3 + MOST_GAP)
    with engine.connect() as connection:
        unread(connection, position)
        assert position.rewritten and not position.matches(connection)
