"""A service whose database cannot be reached answers 503: a request ``store.unavailable`` (problem+json, no
trace), ``/health`` not ready with ``store.unreachable`` (issue 16). The outage of a real PostgreSQL under
load, through the five services, is tests/faults/test_postgres_outage.py."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from redis.asyncio import Redis
from sqlalchemy import Engine, text

from kernel.messaging.health import readiness
from kernel.store.store import EventStore, create_store_engine
from kernel.web.errors import install_error_handlers
from kernel.web.store_unavailable import AnswerStoreUnavailable
from rehab.local_redis import free_port
from tests.problem_json import problem_of


@pytest.fixture
def unreachable() -> Iterator[Engine]:
    """An engine on a PostgreSQL port nothing listens on: every connection is refused."""
    engine = create_store_engine(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/survey")
    yield engine
    engine.dispose()


def app_querying(engine: Engine, query: str) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    app.add_middleware(AnswerStoreUnavailable)

    @app.get("/persons")
    def persons() -> None:
        with engine.connect() as connection:
            connection.execute(text(query))

    return app


def test_a_request_whose_database_refuses_connections_is_answered_503(unreachable: Engine) -> None:
    with TestClient(app_querying(unreachable, "SELECT 1")) as client:
        answer = client.get("/persons")

    assert problem_of(answer, 503)["code"] == "store.unavailable"
    assert answer.headers["retry-after"] == "5"


def test_a_statement_the_database_refuses_stays_a_500(tmp_path: Path) -> None:
    """SQLite refuses a statement with the same exception type as 'unable to open database file'. (A
    missing table is a store not migrated: tests/kernel/test_store_not_migrated.py.)"""
    engine = create_store_engine(f"sqlite:///{tmp_path / 'survey.db'}")
    app = app_querying(engine, "SELECT nothing FROM")
    with TestClient(app, raise_server_exceptions=False) as client:
        answer = client.get("/persons")
    engine.dispose()

    assert problem_of(answer, 500)["code"] == "internal"


def test_readiness_says_the_database_is_unreachable(unreachable: Engine, redis_url: str) -> None:
    async def ask() -> list[tuple[str, str]]:
        redis = Redis.from_url(redis_url)
        try:
            return await readiness(EventStore(unreachable, "survey"), "survey", redis, [], None, None)
        finally:
            await redis.aclose()

    [(code, reason)] = asyncio.run(ask())

    assert code == "store.unreachable"
    assert reason.startswith("无法连接数据库") and "Connection refused" in reason
