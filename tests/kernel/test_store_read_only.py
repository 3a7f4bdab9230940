"""A database that cannot be written now is unavailable, not a bug: PostgreSQL made read-only
(``default_transaction_read_only``, as a hot standby a failover left the service on answers: SQLSTATE
25006, an InternalError to SQLAlchemy) or an administrator ending the sessions (57P01), a SQLite file
opened read-only (SQLITE_READONLY). A command is answered 503 ``store.unavailable`` and a consumer waits
for the database with back-off instead of dead-lettering good events (docs/reliability.md)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient
from redis.asyncio import Redis
from sqlalchemy import Engine, make_url, text
from sqlalchemy.exc import DBAPIError

from kernel.messaging.consumer import dead_letter_stream
from kernel.messaging.infrastructure import is_infrastructure_failure
from kernel.runtime import ServiceSettings
from kernel.store.store import EventStore, create_store_engine
from kernel.store.unavailable import store_refusal
from services.survey.app import create_app as survey
from tests.kernel.consuming import (
    GROUP,
    applied,
    consumer_for,
    delivered_to_a_consumer_that_dies,
    pending_count,
    surveys_of_one_person,
    with_redis,
)
from tests.kernel.test_store_unavailable import app_querying
from tests.problem_json import problem_of
from tests.survey.people import person_body


def read_only(url: str, on: bool) -> None:
    """``ALTER DATABASE … SET default_transaction_read_only``, then end its sessions so that new ones see it
    (what an operator does; a promoted standby's sessions are as read-only)."""
    name = make_url(url).database
    server = create_store_engine(make_url(url).set(database="postgres").render_as_string(False))
    with server.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f'ALTER DATABASE "{name}" SET default_transaction_read_only = {on}'))
        connection.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = :name AND pid <> pg_backend_pid()"
            ),
            {"name": name},
        )
    server.dispose()


@pytest.fixture
def postgres_store(empty_postgres_url: str) -> Iterator[EventStore]:
    engine = create_store_engine(empty_postgres_url)
    store = EventStore(engine, producer="survey")
    store.create_schema()
    yield store
    read_only(empty_postgres_url, False)
    engine.dispose()


def failure_of(engine: Engine, statement: str) -> DBAPIError:
    with pytest.raises(DBAPIError) as failed, engine.begin() as connection:
        connection.execute(text(statement))
    return failed.value


def test_a_read_only_postgresql_fails_a_write_as_unavailable(postgres_store: EventStore) -> None:
    engine = postgres_store.engine
    read_only(str(engine.url.render_as_string(False)), True)

    error = failure_of(engine, "DELETE FROM outbox")

    assert getattr(error.orig, "sqlstate", None) == "25006"
    assert is_infrastructure_failure(error)
    refusal = store_refusal(error)
    assert refusal is not None and refusal.code == "store.unavailable"


def test_a_session_an_administrator_ended_is_unavailable(postgres_store: EventStore) -> None:
    engine = postgres_store.engine
    with pytest.raises(DBAPIError) as ended, engine.connect() as connection:
        connection.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))

    assert is_infrastructure_failure(ended.value)
    refusal = store_refusal(ended.value)
    assert refusal is not None and refusal.code == "store.unavailable"


def test_a_command_on_a_read_only_postgresql_is_answered_503(postgres_store: EventStore) -> None:
    engine = postgres_store.engine
    read_only(str(engine.url.render_as_string(False)), True)

    with TestClient(app_querying(engine, "DELETE FROM outbox")) as client:
        answer = client.get("/persons")

    problem = problem_of(answer, 503)
    assert problem["code"] == "store.unavailable"
    assert problem["detail"].startswith("数据库当前只读")


def test_events_arriving_while_postgresql_is_read_only_wait_for_it_and_are_applied_once_after(
    postgres_store: EventStore, redis_url: str, redis_client: redis.Redis
) -> None:
    [envelope] = surveys_of_one_person(postgres_store, 1)
    consumer = consumer_for(postgres_store, max_deliveries=3, backoff_seconds=0)
    delivered_to_a_consumer_that_dies(redis_client, [envelope])  # delivery 1
    url = str(postgres_store.engine.url.render_as_string(False))
    read_only(url, True)

    async def reclaim(client: Redis, times: int) -> None:
        for _ in range(times):
            await consumer.reclaim_once(client, min_idle_seconds=0)

    with_redis(redis_url, lambda client: reclaim(client, 5))  # deliveries 2-6, past the budget of 3
    assert redis_client.xlen(dead_letter_stream(GROUP)) == 0
    assert consumer.stats.infrastructure_failures == 5
    assert pending_count(redis_client) == 1

    read_only(url, False)  # the primary is back (or the standby promoted)
    with_redis(redis_url, lambda client: reclaim(client, 1))

    assert applied(postgres_store) == [("person-1", 1)]
    assert redis_client.xlen(dead_letter_stream(GROUP)) == 0
    assert pending_count(redis_client) == 0


def test_a_command_on_a_sqlite_file_opened_read_only_is_answered_503(tmp_path: Path) -> None:
    path = tmp_path / "survey.db"
    EventStore(create_store_engine(f"sqlite:///{path}"), "survey").create_schema()
    engine = create_store_engine(f"sqlite:///file:{path}?mode=ro&uri=true")

    error = failure_of(engine, "DELETE FROM outbox")
    with TestClient(app_querying(engine, "DELETE FROM outbox")) as client:
        answer = client.get("/persons")
    engine.dispose()

    assert "readonly" in str(error.orig)
    assert is_infrastructure_failure(error)
    problem = problem_of(answer, 503)
    assert problem["code"] == "store.unavailable"
    assert problem["detail"].startswith("数据库当前只读")


def test_health_is_not_ready_while_postgresql_is_read_only(empty_postgres_url: str, redis_url: str) -> None:
    settings = ServiceSettings(service="survey", database_url=empty_postgres_url, redis_url=redis_url)
    with TestClient(survey(settings)) as client:
        ready = client.get("/health")
        read_only(empty_postgres_url, True)
        refused = client.get("/health")
        command = client.post("/persons", json=person_body(), headers={"Idempotency-Key": "register-1"})
        read_only(empty_postgres_url, False)
        again = client.get("/health")

    assert ready.status_code == 200, ready.text
    assert refused.status_code == 503
    [problem] = refused.json()["problems"]
    assert problem["code"] == "store.read_only"
    assert problem["reason"].startswith("数据库只读")
    assert problem_of(command, 503)["code"] == "store.unavailable"
    assert again.status_code == 200, again.text
