"""A service started on a store whose migrations were not run (``REHAB_MIGRATE_AT_START=false``, the operator
not done yet) answers commands 503 ``store.schema_behind`` with the reason, as ``/health`` says
``schema.behind``, instead of a 500; its consumer waits for the migrations instead of dead-lettering."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from kernel.messaging.infrastructure import is_infrastructure_failure
from kernel.runtime import ServiceSettings
from kernel.store.store import EventStore, create_store_engine
from kernel.store.unavailable import store_refusal
from services.survey.app import create_app as survey
from tests.problem_json import problem_of
from tests.survey.people import person_body


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'survey.db'}"
    return str(request.getfixturevalue("empty_postgres_url"))


def test_a_command_on_a_store_not_migrated_is_answered_503_until_the_operator_migrates(
    empty_url: str, redis_url: str, redis_client: redis.Redis
) -> None:
    settings = ServiceSettings(
        service="survey", database_url=empty_url, redis_url=redis_url, migrate_at_start=False
    )
    engine = create_store_engine(empty_url)
    with TestClient(survey(settings)) as client:
        keyed = client.post("/persons", json=person_body(), headers={"Idempotency-Key": "register-1"})
        unkeyed = client.post("/persons", json=person_body())
        EventStore(engine, "survey").create_schema(service="survey")  # the operator migrates
        after = client.post("/persons", json=person_body(), headers={"Idempotency-Key": "register-1"})
    engine.dispose()

    for refused in (keyed, unkeyed):
        problem = problem_of(refused, 503)
        assert problem["code"] == "store.schema_behind"
        assert problem["detail"].startswith("数据库结构尚未迁移到本版本")
        assert refused.headers["retry-after"] == "5"
    assert after.status_code == 201, after.text


def test_a_missing_table_or_column_is_a_store_not_migrated_to_the_consumer_too(empty_url: str) -> None:
    engine = create_store_engine(empty_url)
    failures = []
    for statement in ("SELECT * FROM inbox", "SELECT no_such_column FROM alembic_version"):
        with pytest.raises(DBAPIError) as failed, engine.begin() as connection:
            connection.execute(text("CREATE TABLE IF NOT EXISTS alembic_version (version_num VARCHAR(32))"))
            connection.execute(text(statement))
        failures.append(failed.value)
    engine.dispose()

    for error in failures:
        assert is_infrastructure_failure(error)
        refusal = store_refusal(error)
        assert refusal is not None and refusal.code == "store.schema_behind"
