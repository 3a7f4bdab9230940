"""An address or headers longer than any this API needs are refused by the app in problem+json with a
Chinese reason (414, 431), before access control reads a token or a route parses a parameter: before,
uvicorn's parser answered a bare 400 text/plain to a 100 KB query string. Past 64 KiB of request line,
uvicorn's httptools still answers first (kernel.web.limits.MAX_TARGET_BYTES)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from kernel.web.limits import MAX_HEADER_BYTES, MAX_TARGET_BYTES
from tests.problem_json import problem_of
from tests.web.apps import service_app

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    yield TestClient(service_app("survey", tmp_path, access=True))  # not started: refused before any route


def test_a_query_string_over_the_ceiling_is_a_414_in_chinese_before_the_token_is_read(
    client: TestClient,
) -> None:
    answer = client.get("/persons", params={"street": "a" * MAX_TARGET_BYTES})
    body = problem_of(answer, 414)
    assert (body["code"], body["title"], body["instance"]) == (
        "http.uri_too_long",
        "请求地址过长",
        "/persons",
    )
    assert "8 KiB" in body["detail"]


def test_a_path_over_the_ceiling_is_a_414_with_its_instance_cut_short(client: TestClient) -> None:
    body = problem_of(client.get("/persons/" + "a" * MAX_TARGET_BYTES), 414)
    assert len(body["instance"]) < 300


def test_headers_over_the_ceiling_are_a_431_in_chinese(client: TestClient) -> None:
    answer = client.get("/persons", headers={"X-Padding": "a" * MAX_HEADER_BYTES})
    body = problem_of(answer, 431)
    assert (body["code"], body["title"]) == ("http.request_header_fields_too_large", "请求头过大")


def test_an_address_and_headers_within_the_ceilings_reach_access_control(client: TestClient) -> None:
    answer = client.get("/persons", params={"street": "a" * 4000}, headers={"X-Padding": "a" * 16_000})
    assert problem_of(answer, 401)["code"] == "access.unauthenticated"
