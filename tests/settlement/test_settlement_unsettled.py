"""Facts not settled, over HTTP: a page at a time like the postings (X-Total-Count, Link), each with a stable
code, the person it concerns and a reason in Chinese."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient
from rehab_contracts.streams import DELIVERY_STREAM

from kernel.runtime import ServiceSettings
from services.settlement.app import create_app
from tests.problem_json import is_chinese
from tests.settlement.settlement_builders import Journey

WAITING = [Journey() for _ in range(3)]
"""Three services recorded before their applications were approved: three unsettled facts."""


@pytest.fixture
def client(tmp_path: Path, redis_url: str, redis_client: redis.Redis) -> Iterator[TestClient]:
    settings = ServiceSettings(
        service="settlement", database_url=f"sqlite:///{tmp_path}/settlement.db", redis_url=redis_url
    )
    with TestClient(create_app(settings)) as client:
        consumer = client.app.state.runtime.consumer  # type: ignore[attr-defined]
        for journey in WAITING:
            consumer.apply(journey.delivered, DELIVERY_STREAM)
        yield client


def test_unsettled_facts_come_a_page_at_a_time_with_the_total_and_a_link_to_the_next_page(client):
    first = client.get("/ledger/unsettled", params={"limit": 2})
    assert first.status_code == 200
    assert (len(first.json()), first.headers["X-Total-Count"]) == (2, "3")
    assert first.headers["Link"] == '</ledger/unsettled?limit=2&offset=2>; rel="next"'
    last = client.get("/ledger/unsettled", params={"limit": 2, "offset": 2})
    assert (len(last.json()), last.headers["X-Total-Count"], "Link" in last.headers) == (1, "3", False)
    subjects = [item["subject"] for item in [*first.json(), *last.json()]]
    assert sorted(subjects) == sorted(str(journey.delivery) for journey in WAITING)


def test_each_unsettled_fact_says_why_in_chinese_with_a_stable_code_and_names_its_person(client):
    items = client.get("/ledger/unsettled").json()
    assert {item["code"] for item in items} == {"awaiting_approval"}
    assert all(is_chinese(item["reason"]) and "application" not in item["reason"] for item in items)
    assert {item["person_id"] for item in items} == {str(journey.person) for journey in WAITING}


def test_a_page_beyond_the_last_is_empty_and_a_page_size_over_500_is_refused(client):
    beyond = client.get("/ledger/unsettled", params={"offset": 10})
    assert (beyond.json(), beyond.headers["X-Total-Count"]) == ([], "3")
    assert client.get("/ledger/unsettled", params={"limit": 501}).status_code == 422
