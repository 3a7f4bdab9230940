"""Every error a service answers is application/problem+json with a stable code and a Chinese
message naming the field: request validation, routing, conflicts, crashes (shown on the survey service)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient

from kernel.runtime import ServiceSettings
from kernel.store.store import ConcurrencyConflict
from services.survey.app import create_app
from tests.problem_json import field_error_of, problem_of
from tests.survey.people import person_body


@pytest.fixture
def client(tmp_path: Path, redis_url: str, redis_client: redis.Redis) -> Iterator[TestClient]:
    settings = ServiceSettings(
        service="survey", database_url=f"sqlite:///{tmp_path}/survey.db", redis_url=redis_url
    )
    app = create_app(settings)

    @app.get("/crash")
    def crash() -> None:
        raise RuntimeError("secret internals /home/app/db.py line 42")

    @app.post("/race")
    def race() -> None:
        raise ConcurrencyConflict("person-1", 3)

    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def test_a_missing_field_is_named_with_a_chinese_message(client: TestClient) -> None:
    body = person_body()
    del body["name"], body["phone"]
    problem = problem_of(client.post("/persons", json=body), 422)
    assert problem["code"] == "request.invalid"
    assert {(e["field"], e["code"], e["message"]) for e in problem["errors"]} == {
        ("name", "request.missing", "缺少必填字段"),
        ("phone", "request.missing", "缺少必填字段"),
    }
    assert "name" in problem["detail"] and "phone" in problem["detail"]


def test_a_wrong_type_a_bad_choice_and_a_nested_field_each_get_an_entry(client: TestClient) -> None:
    body = person_body(sex="unknown", disability_categories="vision")
    body["birth_date"] = "12/04/1958"
    problem = problem_of(client.post("/persons", json=body), 422)
    by_field = {error["field"]: error for error in problem["errors"]}
    assert by_field["sex"]["code"] == "request.enum"
    assert "male" in by_field["sex"]["message"] and "应为以下之一" in by_field["sex"]["message"]
    assert by_field["birth_date"]["message"].startswith("应为日期")
    assert by_field["disability_categories"]["message"] == "应为列表"


def test_a_name_too_long_says_the_limit(client: TestClient) -> None:
    error = field_error_of(client.post("/persons", json=person_body(name="李" * 300)), 422)
    assert error["field"] == "name" and error["code"] == "request.string_too_long"
    assert error["message"].startswith("最多 ")


def test_a_body_that_is_not_json_is_a_problem_not_a_crash(client: TestClient) -> None:
    response = client.post("/persons", content=b"{not json", headers={"content-type": "application/json"})
    assert problem_of(response, 422)["errors"][0]["code"] == "request.json_invalid"


def test_an_unknown_path_is_a_404_problem(client: TestClient) -> None:
    problem = problem_of(client.get("/no-such-thing"), 404)
    assert problem["code"] == "http.not_found" and problem["instance"] == "/no-such-thing"


def test_a_wrong_method_is_a_405_problem_that_keeps_the_allow_header(client: TestClient) -> None:
    response = client.delete("/persons")
    assert problem_of(response, 405)["code"] == "http.method_not_allowed"
    assert "POST" in response.headers["allow"]


def test_a_concurrent_update_is_a_409_problem_asking_to_retry(client: TestClient) -> None:
    problem = problem_of(client.post("/race"), 409)
    assert problem["code"] == "concurrency.conflict" and "重新提交" in problem["detail"]


def test_a_crash_is_a_500_problem_without_a_stack_trace_or_internals(client: TestClient) -> None:
    response = client.get("/crash")
    problem = problem_of(response, 500)
    assert problem["code"] == "internal" and problem["errors"] == []
    assert "secret" not in response.text and "db.py" not in response.text


def test_an_unknown_street_in_a_query_is_named(client: TestClient) -> None:
    error = field_error_of(client.get("/persons", params={"street": "解放碑"}), 422)
    assert error == {
        "field": "street",
        "code": "street.outside_jurisdiction",
        "message": error["message"],
    }
    assert "解放碑" in error["message"] and "鸳鸯" in error["message"]
