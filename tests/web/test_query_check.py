"""An unknown query parameter is refused with 422 problem+json naming it, on every route of every service,
while the parameters a route declares (its dependencies' and aliases included) still pass."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient

from kernel.runtime import ServiceSettings
from services.assessment.app import create_app as assessment
from tests.problem_json import problem_of
from tests.web.apps import SERVICES, service_app

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

PATH_PARAMETER = re.compile(r"\{[^}]+\}")


@pytest.mark.parametrize("service", SERVICES)
def test_every_route_refuses_a_query_parameter_it_does_not_take_naming_it(
    service: str, tmp_path: Path
) -> None:
    client = TestClient(
        service_app(service, tmp_path)
    )  # not started: the check answers before the route runs
    operations = [
        (method, path)
        for path, item in client.get("/openapi.json").json()["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    ]
    assert len(operations) > 3
    for method, path in operations:
        concrete = PATH_PARAMETER.sub("0193a6b2-0000-7000-8000-000000000000", path)
        answer = client.request(method.upper(), concrete, params={"stauts": "approved"})
        body = problem_of(answer, 422)
        assert body["code"] == "request.invalid", (method, path)
        assert body["errors"] == [
            {
                "field": "stauts",
                "code": "request.unknown_query",
                "message": "不认识的查询参数，请删除或检查拼写",
            }
        ], (method, path)


def test_every_unknown_parameter_is_named_once(tmp_path: Path) -> None:
    client = TestClient(service_app("delivery", tmp_path))
    body = problem_of(client.get("/deliveries?b=1&a=2&a=3&limit=5"), 422)
    assert [error["field"] for error in body["errors"]] == ["a", "b"]
    assert "a：" in body["detail"] and "b：" in body["detail"]


def test_declared_parameters_their_dependencies_and_aliases_still_answer(
    tmp_path: Path, redis_url: str, redis_client: redis.Redis
) -> None:
    settings = ServiceSettings(service="assessment", var_dir=tmp_path, redis_url=redis_url)
    with TestClient(assessment(settings)) as client:
        answer = client.get("/worklist", params={"year": 2024, "street": "鸳鸯", "status": "all", "limit": 5})
        assert answer.status_code == 200, answer.text
        assert client.get("/health").status_code == 200
        assert problem_of(client.get("/health?verbose=1"), 422)["errors"][0]["field"] == "verbose"
