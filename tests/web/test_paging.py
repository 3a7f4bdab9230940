"""Lists that answered everything now answer a page: ``limit`` (default and cap 500) and ``offset``, still
a JSON array, with ``X-Total-Count`` and a ``Link`` to the next page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import redis
from fastapi import FastAPI, Request, Response
from fastapi.testclient import TestClient

from kernel.http import Limit, Offset
from kernel.runtime import ServiceSettings
from kernel.web.paging import MAX_PAGE, page_of
from services.approval.app import create_app as approval
from tests.approval.test_api import referred, submitted
from tests.problem_json import problem_of
from tests.web.apps import FACTORIES

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def client(tmp_path: Path, redis_url: str, redis_client: redis.Redis) -> Iterator[TestClient]:
    settings = ServiceSettings(service="approval", var_dir=tmp_path, redis_url=redis_url)
    with TestClient(approval(settings)) as test_client:
        yield test_client


def next_page(answer: object) -> dict[str, list[str]] | None:
    link = answer.headers.get("link")  # type: ignore[attr-defined]
    if link is None:
        return None
    target, relation = link.split(";")
    assert relation.strip() == 'rel="next"'
    return parse_qs(urlsplit(target.strip().strip("<>")).query)


def test_applications_come_a_page_at_a_time_with_the_total_and_the_next_page(client: TestClient) -> None:
    created = [submitted(client, referred(client)) for _ in range(3)]

    first = client.get("/applications", params={"limit": 2, "year": 2024})
    assert first.status_code == 200
    assert len(first.json()) == 2
    assert first.headers["x-total-count"] == "3"
    assert next_page(first) == {"limit": ["2"], "offset": ["2"], "year": ["2024"]}

    rest = client.get("/applications", params={"limit": 2, "offset": 2, "year": 2024})
    assert len(rest.json()) == 1 and next_page(rest) is None
    shown = [found["application_id"] for found in first.json() + rest.json()]
    assert sorted(shown) == sorted(created)

    everything = client.get("/applications")
    assert len(everything.json()) == 3 and everything.headers["x-total-count"] == "3"


def test_referrals_come_a_page_at_a_time(client: TestClient) -> None:
    for _ in range(3):
        referred(client)
    page = client.get("/referrals", params={"limit": 1, "offset": 1})
    assert len(page.json()) == 1
    assert page.headers["x-total-count"] == "3"
    assert next_page(page) == {"limit": ["1"], "offset": ["2"]}


@pytest.mark.parametrize(
    ("service", "path"),
    [
        ("approval", "/applications"),
        ("approval", "/referrals"),
        ("delivery", "/deliveries"),
        ("delivery", "/entitlements"),
    ],
)
def test_a_page_larger_than_the_cap_is_refused_naming_limit(
    service: str, path: str, tmp_path: Path, redis_url: str, redis_client: redis.Redis
) -> None:
    settings = ServiceSettings(service=service, var_dir=tmp_path, redis_url=redis_url)
    with TestClient(FACTORIES[service](settings)) as client:
        assert_capped(client, path)


def assert_capped(client: TestClient, path: str) -> None:
    body = problem_of(client.get(path, params={"limit": MAX_PAGE + 1}), 422)
    assert [error["field"] for error in body["errors"]] == ["limit"]
    assert problem_of(client.get(path, params={"offset": -1}), 422)["errors"][0]["field"] == "offset"
    parameters = client.get("/openapi.json").json()["paths"][path]["get"]["parameters"]
    assert {"limit", "offset"} <= {parameter["name"] for parameter in parameters}


def test_a_page_keeps_the_other_filters_in_its_next_link_and_encodes_them() -> None:
    app = FastAPI()

    @app.get("/things")
    def things(
        request: Request, response: Response, street: str = "", limit: Limit = 2, offset: Offset = 0
    ) -> list[int]:
        return list(page_of(list(range(5)), limit=limit, offset=offset, request=request, response=response))

    client = TestClient(app)
    answer = client.get("/things", params={"street": "鸳鸯"})
    assert answer.json() == [0, 1] and answer.headers["x-total-count"] == "5"
    assert next_page(answer) == {"street": ["鸳鸯"], "limit": ["2"], "offset": ["2"]}
    last = client.get("/things", params={"offset": 4})
    assert last.json() == [4] and "link" not in last.headers
    assert client.get("/things", params={"offset": 9}).json() == []
