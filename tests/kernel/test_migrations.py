"""The stores' schema comes from the Alembic migrations (ADR 0018): they build what the code declares,
they adopt a store the release before them created, and instances starting together never race."""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from alembic.autogenerate import compare_metadata
from alembic.config import main as alembic
from alembic.runtime.migration import MigrationContext
from fastapi.testclient import TestClient
from sqlalchemy import Engine, MetaData, create_engine, inspect, text

from kernel.access.audit import audit_log
from kernel.messaging.ordering import parking_metadata
from kernel.messaging.reconcile import reconciliation_metadata
from kernel.runtime import ServiceSettings
from kernel.store.schema import MIGRATIONS, SchemaAhead, pending
from kernel.store.store import EventStore, create_store_engine, metadata
from services.approval.tables import tables as approval_tables
from services.assessment.projection import tables as assessment_tables
from services.delivery.tables import tables as delivery_tables
from services.settlement.app import create_app as settlement
from services.settlement.ledger.tables import metadata as settlement_tables
from services.survey.projection import tables as survey_tables
from tests.kernel.events import need_surveyed

OWN_TABLES = {
    "survey": survey_tables,
    "assessment": assessment_tables,
    "approval": approval_tables,
    "delivery": delivery_tables,
    "settlement": settlement_tables,
}
for service in OWN_TABLES:  # an app module imports every module that adds a table to its service's
    importlib.import_module(f"services.{service}.app")


def declared(service: str | None) -> MetaData:
    """Every table a service's store has in the code: the kernel's and the service's own."""
    combined = MetaData()
    kernel = [metadata, parking_metadata, reconciliation_metadata]
    tables = [table for tables in kernel for table in tables.sorted_tables]
    own = OWN_TABLES[service].sorted_tables if service else []
    for table in [*tables, audit_log, *own]:
        table.to_metadata(combined)
    return combined


def differences(engine: Engine, service: str | None) -> list[object]:
    with engine.connect() as connection:
        return list(compare_metadata(MigrationContext.configure(connection), declared(service)))


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return str(request.getfixturevalue("empty_postgres_url"))


@pytest.fixture
def engine(empty_url: str) -> Iterator[Engine]:
    engine = create_store_engine(empty_url)
    yield engine
    engine.dispose()


@pytest.mark.parametrize("service", sorted(OWN_TABLES))
def test_the_migrations_build_exactly_the_tables_each_service_declares(engine: Engine, service: str) -> None:
    EventStore(engine, service).create_schema(service=service)
    assert differences(engine, service) == []
    assert pending(engine, ["kernel", service]) == []


def test_a_store_whose_schema_is_current_is_not_migrated_again(engine: Engine) -> None:
    store = EventStore(engine, "settlement")
    store.create_schema(service="settlement")
    with engine.connect() as connection:
        before = sorted(MigrationContext.configure(connection).get_current_heads())
    store.create_schema(service="settlement")
    with engine.connect() as connection:
        assert sorted(MigrationContext.configure(connection).get_current_heads()) == before
    assert before == ["kernel_0003", "settlement_0002"]  # one head per branch


def create_as_the_release_before_migrations(engine: Engine, service: str, inbox_version: bool) -> None:
    """What ``create_all`` made: every declared table, the inbox's ``version`` column only when the
    release that added it had started on the store (its ALTER)."""
    tables = declared(service)
    tables.create_all(engine)
    with engine.begin() as connection:
        connection.execute(text("DROP INDEX ix_inbox_received_at"))  # kernel_0003's
    if not inbox_version:
        with engine.begin() as connection:
            connection.execute(text("DROP INDEX ix_inbox_aggregate_version"))
            connection.execute(text("ALTER TABLE inbox DROP COLUMN version"))


def archive_one_event(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO inbox (event_id, source_stream, event_type, stream_id, occurred_at, "
                "received_at, envelope) VALUES ('e-1', 'rehab.survey.events', 'survey.need_surveyed', "
                "'person-1', '2025-03-01T00:00:00+00:00', '2025-03-01T00:00:00+00:00', '{}')"
            )
        )


@pytest.mark.parametrize("inbox_version", [False, True], ids=["before-the-version-column", "after-its-alter"])
def test_a_store_the_release_before_migrations_created_is_adopted_with_its_data(
    engine: Engine, inbox_version: bool
) -> None:
    create_as_the_release_before_migrations(engine, "settlement", inbox_version)
    archive_one_event(engine)
    assert pending(engine, ["kernel", "settlement"]) == [
        "kernel_0001",
        "kernel_0002",
        "kernel_0003",
        "settlement_0001",
        "settlement_0002",
    ]

    EventStore(engine, "settlement").create_schema(service="settlement")

    assert pending(engine, ["kernel", "settlement"]) == []
    assert differences(engine, "settlement") == []
    with engine.connect() as connection:
        kept = connection.execute(text("SELECT event_id, version FROM inbox")).all()
    assert [tuple(row) for row in kept] == [("e-1", None)]  # a row written before the column: NULL


def test_a_service_starts_on_a_store_the_release_before_migrations_wrote_and_keeps_what_it_archived(
    tmp_path: Path, redis_url: str, redis_client: redis.Redis
) -> None:
    producer = EventStore(create_store_engine(f"sqlite:///{tmp_path / 'survey.db'}"), "survey")
    producer.create_schema()
    with producer.transaction() as unit:
        surveyed = unit.append("person-1", 0, [need_surveyed()])[0]
    url = f"sqlite:///{tmp_path / 'settlement.db'}"
    legacy = create_store_engine(url)
    create_as_the_release_before_migrations(legacy, "settlement", inbox_version=False)
    with legacy.begin() as connection:  # as that release's consumer archived it: no version column
        connection.execute(
            text(
                "INSERT INTO inbox (event_id, source_stream, event_type, stream_id, occurred_at, "
                "received_at, envelope) VALUES (:id, 'rehab.survey.events', :type, :stream, :at, :at, :json)"
            ),
            {
                "id": str(surveyed.event_id),
                "type": surveyed.event_type,
                "stream": surveyed.stream_id,
                "at": surveyed.occurred_at,
                "json": surveyed.model_dump_json(),
            },
        )

    settings = ServiceSettings(service="settlement", database_url=url, redis_url=redis_url)
    with TestClient(settlement(settings)) as client:
        health = client.get("/health")

    assert health.status_code == 200, health.text
    assert health.json()["events"]["received"] == 1
    assert pending(legacy, ["kernel", "settlement"]) == []
    producer.engine.dispose()
    legacy.dispose()


def test_the_inbox_version_column_is_a_migration_not_an_alter_at_start_up(engine: Engine) -> None:
    store = EventStore(engine, "assessment")
    store.create_schema(service="assessment")
    with engine.connect() as connection:
        applied = set(MigrationContext.configure(connection).get_current_heads())
    assert "kernel_0003" in applied  # kernel_0002 and the one after it
    assert "version" in {column["name"] for column in inspect(engine).get_columns("inbox")}


def test_a_store_of_the_release_before_the_received_at_index_gets_it_and_keeps_its_archive(
    engine: Engine,
) -> None:
    EventStore(engine, "settlement").create_schema(service="settlement")
    archive_one_event(engine)
    with engine.begin() as connection:  # the store as kernel_0002 left it
        connection.execute(text("DROP INDEX ix_inbox_received_at"))
        connection.execute(
            text("UPDATE alembic_version SET version_num = 'kernel_0002' WHERE version_num = 'kernel_0003'")
        )
    assert pending(engine, ["kernel", "settlement"]) == ["kernel_0003"]

    EventStore(engine, "settlement").create_schema(service="settlement")

    assert pending(engine, ["kernel", "settlement"]) == []
    assert differences(engine, "settlement") == []
    assert "ix_inbox_received_at" in {index["name"] for index in inspect(engine).get_indexes("inbox")}
    with engine.connect() as connection:
        kept = connection.execute(text("SELECT event_id, received_at FROM inbox")).all()
    assert [row.event_id for row in kept] == ["e-1"]


def start_together(engines: list[Engine], start: Callable[[Engine], None]) -> list[BaseException]:
    """Run ``start`` on each engine in a thread of its own, all released at once; the errors raised."""
    barrier = threading.Barrier(len(engines))
    errors: list[BaseException] = []

    def run(engine: Engine) -> None:
        barrier.wait()
        try:
            start(engine)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(engine,)) for engine in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


def test_instances_starting_together_on_an_empty_database_all_start(empty_url: str) -> None:
    engines = [create_store_engine(empty_url) for _ in range(4)]  # one engine per instance, as processes
    try:
        for round_ in range(3):
            errors = start_together(
                engines, lambda engine: EventStore(engine, "settlement").create_schema(service="settlement")
            )
            assert errors == [], f"round {round_}: {errors}"
            assert differences(engines[0], "settlement") == []
            drop_everything(engines[0])
    finally:
        for engine in engines:
            engine.dispose()


def drop_everything(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("DROP VIEW IF EXISTS journal_lines"))
    declared("settlement").drop_all(engine)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE alembic_version"))


def test_the_alembic_command_line_migrates_a_store_by_its_url(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'survey.db'}"
    ini = str(MIGRATIONS.parent / "alembic.ini")
    alembic(["-c", ini, "-x", f"url={url}", "upgrade", "kernel@head"])
    alembic(["-c", ini, "-x", f"url={url}", "upgrade", "survey@head"])
    engine = create_engine(url)
    try:
        assert pending(engine, ["kernel", "survey"]) == []
        assert differences(engine, "survey") == []
    finally:
        engine.dispose()


def migrate_as_a_newer_release(engine: Engine, revision: str, to: str) -> None:
    """What Alembic leaves when a newer release moves a branch on: the branch's row names a revision this
    code does not know."""
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE alembic_version SET version_num = :to WHERE version_num = :revision"),
            {"to": to, "revision": revision},
        )


def heads(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return sorted(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())


@pytest.mark.parametrize("newer", ["survey_0004_future", "9f3c2a7b1d0e"], ids=["named", "hex"])
def test_a_store_a_newer_release_migrated_is_not_behind_and_is_left_as_it_is(
    engine: Engine, newer: str
) -> None:
    EventStore(engine, "survey").create_schema(service="survey")
    migrate_as_a_newer_release(engine, "survey_0003", newer)

    assert pending(engine, ["kernel", "survey"]) == []
    EventStore(engine, "survey").create_schema(service="survey")  # an old instance starting: nothing to do

    assert heads(engine) == sorted(["kernel_0003", newer])  # neither upgraded nor downgraded
    assert differences(engine, "survey") == []


def test_a_store_ahead_on_one_branch_and_behind_on_another_says_why_it_cannot_be_migrated(
    engine: Engine,
) -> None:
    EventStore(engine, "survey").create_schema(service="survey")
    migrate_as_a_newer_release(engine, "survey_0003", "survey_0004_future")
    migrate_as_a_newer_release(engine, "kernel_0003", "kernel_0002")

    assert pending(engine, ["kernel", "survey"]) == ["kernel_0003"]
    with pytest.raises(SchemaAhead) as refused:
        EventStore(engine, "survey").create_schema(service="survey")

    assert refused.value.missing == ["kernel_0003"]
    assert refused.value.ahead == ["survey_0004_future"]
    assert str(refused.value).startswith("数据库结构无法迁移：本版本缺少的迁移 kernel_0003 无法执行")
    assert heads(engine) == ["kernel_0002", "survey_0004_future"]


def test_a_store_without_a_branch_is_still_behind_on_it(engine: Engine) -> None:
    EventStore(engine, "survey").create_schema()  # the kernel's branch only, as a tool makes it

    assert pending(engine, ["kernel", "survey"]) == ["survey_0001", "survey_0002", "survey_0003"]


def test_an_instance_of_the_release_before_starts_ready_on_a_store_a_newer_release_migrated(
    empty_url: str, redis_url: str
) -> None:
    engine = create_store_engine(empty_url)
    EventStore(engine, "settlement").create_schema(service="settlement")
    migrate_as_a_newer_release(engine, "settlement_0002", "settlement_0003_future")

    settings = ServiceSettings(service="settlement", database_url=empty_url, redis_url=redis_url)
    with TestClient(settlement(settings)) as client:
        health = client.get("/health")

    assert health.status_code == 200, health.text
    assert heads(engine) == ["kernel_0003", "settlement_0003_future"]
    engine.dispose()
