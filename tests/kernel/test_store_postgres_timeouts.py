"""A PostgreSQL server that stops answering (a network partition, a host gone) makes a store's connection
fail within libpq's bounds, so the request gets 503 ``store.unavailable`` instead of waiting for the
operating system's TCP timeouts: here a listener that completes the TCP handshake and never answers."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy.exc import OperationalError

from kernel.store.sqlite import POSTGRES_TIMEOUTS, create_store_engine

pytest.importorskip("psycopg")


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port whose listener takes connections into its backlog and never says a word."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield listener.getsockname()[1]


def test_a_store_on_a_server_that_never_answers_fails_to_connect_instead_of_waiting(
    silent_server: int,
) -> None:
    engine = create_store_engine(f"postgresql+psycopg://rehab@127.0.0.1:{silent_server}/rehab")
    outcome: list[BaseException] = []

    def connect() -> None:
        try:
            with engine.connect():
                pass
        except BaseException as error:  # the outcome is asserted below
            outcome.append(error)

    attempt = threading.Thread(target=connect, daemon=True)
    attempt.start()
    attempt.join(timeout=POSTGRES_TIMEOUTS["connect_timeout"] * 4)

    assert not attempt.is_alive(), "the connection still waits for a server that never answers"
    assert len(outcome) == 1 and isinstance(outcome[0], OperationalError)
    assert "timeout" in str(outcome[0]).lower()
    engine.dispose()
