"""A keyed rebuild of the ledger answers a retry with the first answer, as every keyed command does."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient

from tests.settlement.settlement_builders import Journey
from tests.settlement.test_settlement_service import consume_journey, settlement_app


@pytest.fixture
def client(tmp_path: Path, redis_url: str, redis_client: redis.Redis) -> Iterator[TestClient]:
    with settlement_app(tmp_path, redis_url) as client:
        yield client


def test_a_rebuild_retried_with_its_idempotency_key_replays_the_first_answer(client: TestClient) -> None:
    consume_journey(client, Journey())
    first = client.post("/ledger/rebuild", headers={"Idempotency-Key": "rebuild-2025-01"})
    retried = client.post("/ledger/rebuild", headers={"Idempotency-Key": "rebuild-2025-01"})

    assert first.status_code == retried.status_code == 200
    assert "idempotent-replayed" not in first.headers
    assert retried.headers["idempotent-replayed"] == "true"
    assert retried.json() == first.json() == client.get("/ledger").json()
