"""``/metrics`` answers while the database does not: 200 with ``rehab_ready 0``, the HTTP counters and what
Redis tells, the stored counts NaN (no value), so a database outage shows on the dashboards instead of
the scrape failing (it answered 503 problem+json while PostgreSQL refused, 500 on a store not migrated)."""

from __future__ import annotations

import math
from pathlib import Path

import redis
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, make_url, text

from kernel.runtime import ServiceSettings
from services.survey.app import create_app as survey
from tests.kernel.test_health_and_metrics import samples

SURVEY = (("service", "survey"),)


def test_metrics_say_not_ready_while_postgresql_refuses_the_services_connections(
    empty_postgres_url: str, redis_url: str, redis_client: redis.Redis, tmp_path: Path
) -> None:
    database = make_url(empty_postgres_url).database
    server = create_engine(
        make_url(empty_postgres_url).set(database="postgres"), isolation_level="AUTOCOMMIT"
    )
    settings = ServiceSettings(service="survey", database_url=empty_postgres_url, redis_url=redis_url)
    try:
        with TestClient(survey(settings)) as client:
            assert client.get("/openapi.json").status_code == 200  # counted in rehab_http_requests_total
            with server.connect() as connection:  # as when the server is down: no connection is taken
                connection.execute(text(f'ALTER DATABASE "{database}" WITH ALLOW_CONNECTIONS false'))
                connection.execute(
                    text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"),
                    {"name": database},
                )
            metrics = client.get("/metrics")
            health = client.get("/health")
    finally:
        with server.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{database}" WITH ALLOW_CONNECTIONS true'))
        server.dispose()

    assert health.status_code == 503
    assert metrics.status_code == 200, metrics.text
    found = samples(metrics.text)
    assert found[("rehab_ready", SURVEY)] == 0
    assert math.isnan(found[("rehab_outbox_backlog", SURVEY)])
    assert math.isnan(found[("rehab_events_stored", SURVEY)])
    assert any(name.startswith("rehab_http_requests") for name, _labels in found)


def test_metrics_say_not_ready_on_a_store_not_migrated(
    tmp_path: Path, redis_url: str, redis_client: redis.Redis
) -> None:
    settings = ServiceSettings(
        service="survey",
        database_url=f"sqlite:///{tmp_path / 'survey.db'}",
        redis_url=redis_url,
        migrate_at_start=False,
    )
    with TestClient(survey(settings)) as client:
        metrics = client.get("/metrics")

    assert metrics.status_code == 200, metrics.text
    assert samples(metrics.text)[("rehab_ready", SURVEY)] == 0
