"""Oversized text in settlement's query and path parameters is a 422 naming the field, never a query."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient

from kernel.runtime import ServiceSettings
from services.settlement.app import create_app
from tests.problem_json import field_error_of
from tests.security.openapi_bounds import unbounded_strings

TOO_LONG = "鸳" * 101


@pytest.fixture
def client(tmp_path: Path, redis_url: str, redis_client: redis.Redis) -> Iterator[TestClient]:
    settings = ServiceSettings(
        service="settlement", database_url=f"sqlite:///{tmp_path}/settlement.db", redis_url=redis_url
    )
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def test_every_text_parameter_of_settlement_has_a_maximum_length() -> None:
    spec = create_app(ServiceSettings(service="settlement")).openapi()
    assert unbounded_strings(spec, query=True) == []


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/ledger/postings", {"account": TOO_LONG}, "account"),
        ("/ledger/postings", {"rule": TOO_LONG}, "rule"),
        ("/statements/street:鸳鸯", {"period": TOO_LONG}, "period"),
        (f"/statements/street:{TOO_LONG}", {"period": "2024"}, "account"),
        ("/reports/annual-summary", {"year": 2024, "street": TOO_LONG}, "street"),
        ("/reports/annual-summary", {"year": 2024, "street": "鸳鸯", "community": TOO_LONG}, "community"),
        ("/reports/annual-summary", {"year": 2024, "street": "鸳鸯", "preparer": TOO_LONG}, "preparer"),
        ("/reports/annual-summary", {"year": 2024, "street": "鸳鸯", "reviewer": TOO_LONG}, "reviewer"),
        ("/reports/quota-use", {"year": 2021, "jurisdiction": "a" * 101}, "jurisdiction"),
    ],
)
def test_text_over_100_characters_is_a_422_naming_the_parameter(client, path, params, field):
    error = field_error_of(client.get(path, params=params), 422)
    assert (error["field"], error["code"]) == (field, "request.string_too_long")
    assert "100" in error["message"]


def test_text_of_100_characters_is_still_accepted(client):
    response = client.get("/ledger/postings", params={"account": "a" * 100, "rule": "r" * 100})
    assert response.status_code == 200
    assert response.json()["total"] == 0
