"""``/metrics`` keeps what lasts between scrapes: request latency per route template, FastStream's consumer
metrics, and the counts a service adds through ``ServiceCounter`` (the kernel names no service)."""

from __future__ import annotations

import uuid
from pathlib import Path

import redis
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from kernel.runtime import ServiceSettings, create_service_app
from kernel.store.store import EventStore
from kernel.web.instrumentation import ServiceCounter
from services.assessment.app import create_app as assessment
from services.settlement.app import create_app as settlement
from services.survey.app import create_app as survey


def families(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    return {
        family.name: [(sample.labels, sample.value) for sample in family.samples]
        for family in text_string_to_metric_families(text)
    }


def test_request_latency_is_a_histogram_labelled_with_the_route_template(
    tmp_path: Path, redis_url: str, redis_client: redis.Redis
) -> None:
    settings = ServiceSettings(service="survey", var_dir=tmp_path, redis_url=redis_url)
    with TestClient(survey(settings)) as client:
        someone = uuid.uuid4()
        client.get(f"/persons/{someone}")
        client.get(f"/persons/{uuid.uuid4()}")
        text = client.get("/metrics").text
    latency = families(text)["rehab_http_request_duration_seconds"]
    route = [
        (labels, value)
        for labels, value in latency
        if labels.get("handler") == "/persons/{person_id}" and labels.get("le") == "+Inf"
    ]
    assert route == [
        ({"handler": "/persons/{person_id}", "method": "GET", "status": "4xx", "le": "+Inf"}, 2.0)
    ]
    assert str(someone) not in text  # the template, never the path a caller typed
    assert not any(labels.get("handler") == "/metrics" for labels, _value in latency)


def test_a_consumer_reports_faststream_metrics_beside_the_kernel_counters(
    tmp_path: Path, redis_url: str, redis_client: redis.Redis
) -> None:
    settings = ServiceSettings(service="assessment", var_dir=tmp_path, redis_url=redis_url)
    with TestClient(assessment(settings)) as client:
        found = families(client.get("/metrics").text)
    assert "faststream_received_messages" in found
    assert "faststream_received_processed_messages_duration_seconds" in found
    assert found["rehab_dead_letters"] == [({"service": "assessment"}, 0.0)]


def test_a_service_adds_its_own_counter_through_the_kernel_hook(
    tmp_path: Path, redis_url: str, redis_client: redis.Redis
) -> None:
    def postings(store: EventStore) -> int:
        return 7

    app = create_service_app(
        ServiceSettings(service="survey", var_dir=tmp_path, redis_url=redis_url),
        title="a service",
        description="",
        routers=[],
        publishes_to=None,
        subscriptions=[],
        counters=[ServiceCounter("postings", "Postings in the ledger.", postings)],
    )
    with TestClient(app) as client:
        found = families(client.get("/metrics").text)
    assert found["rehab_postings"] == [({"service": "survey"}, 7.0)]


def test_settlement_reports_its_postings(tmp_path: Path, redis_url: str, redis_client: redis.Redis) -> None:
    settings = ServiceSettings(service="settlement", var_dir=tmp_path, redis_url=redis_url)
    with TestClient(settlement(settings)) as client:
        found = families(client.get("/metrics").text)
    assert found["rehab_postings"] == [({"service": "settlement"}, 0.0)]
    assert found["rehab_settlement_books_built"] == [({"service": "settlement"}, 0.0)]
