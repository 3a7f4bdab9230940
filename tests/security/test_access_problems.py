"""A refused caller reads why in Chinese: 401 and 403 have their own titles, the token's fault is named
at ``Authorization`` with its own code (``access.unauthenticated`` stays what programs match on), and
every kernel problem says which address it answers (``instance``), the Idempotency-Key's included."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient

from services.survey.app import create_app
from tests.access.principals import Deployment, served
from tests.problem_json import field_error_of, is_chinese, problem_of
from tests.survey.people import person_body


@pytest.fixture
def deployment(tmp_path: Path) -> Deployment:
    return Deployment(tmp_path / "access")


@pytest.fixture
def client(
    tmp_path: Path, redis_url: str, redis_client: redis.Redis, deployment: Deployment
) -> Iterator[TestClient]:
    with served(create_app, "survey", tmp_path, redis_url, deployment.folder) as test_client:
        yield test_client


@pytest.mark.parametrize(
    ("authorization", "code"),
    [
        (None, "access.token_missing"),
        ("Bearer jwt.a.b", "access.token_malformed"),
        ("Bearer rehab1.e30.AAAA", "access.token_signature"),
    ],
)
def test_a_refused_token_is_named_in_chinese_with_its_own_code(
    client: TestClient, authorization: str | None, code: str
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = client.get("/persons", headers=headers)
    body = problem_of(response, 401)
    expected = ("access.unauthenticated", "未通过身份验证", "/persons")
    assert (body["code"], body["title"], body["instance"]) == expected
    error = field_error_of(response)
    assert (error["field"], error["code"]) == ("Authorization", code)
    assert "token" not in error["message"].replace("rehab token", ""), error  # no English reason
    assert response.headers["www-authenticate"] == 'Bearer realm="rehab"'


def test_a_token_of_another_agency_is_a_403_titled_in_chinese(
    client: TestClient, deployment: Deployment
) -> None:
    response = client.get("/persons", headers=deployment.bearer("评估员", "assessment", "district"))
    body = problem_of(response, 403)
    assert (body["code"], body["title"], body["instance"]) == ("access.wrong_agency", "没有权限", "/persons")


def test_idempotency_key_problems_name_their_address(client: TestClient, deployment: Deployment) -> None:
    headers = {**deployment.bearer("鸳鸯干事", "survey", "street:鸳鸯"), "Idempotency-Key": "x" * 500}
    response = client.post("/persons", json=person_body(), headers=headers)
    body = problem_of(response, 422)
    assert (body["code"], body["instance"]) == ("idempotency.key_invalid", "/persons")
    assert is_chinese(body["errors"][0]["message"])
