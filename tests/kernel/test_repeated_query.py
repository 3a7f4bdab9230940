"""A query parameter that holds one value is given once: ``?limit=10&limit=20`` is refused naming
``limit`` (the last value silently won), on every route of every service; a list parameter takes many."""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import pytest
from fastapi import FastAPI, Query
from fastapi.testclient import TestClient

from kernel.web.errors import install_error_handlers
from kernel.web.query_check import install_query_check, takes_a_list
from tests.problem_json import field_error_of, problem_of
from tests.web.apps import SERVICES, service_app

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

PATH_PARAMETER = re.compile(r"\{[^}]+\}")


class Status(StrEnum):
    APPROVED = "approved"


@pytest.mark.parametrize("service", SERVICES)
def test_every_single_valued_query_parameter_given_twice_is_refused_naming_it(
    service: str, tmp_path: Path
) -> None:
    client = TestClient(service_app(service, tmp_path))  # not started: the check answers before the route
    document = client.get("/openapi.json").json()
    checked = 0
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for parameter in operation.get("parameters", []):
                if parameter["in"] != "query" or parameter["schema"].get("type") == "array":
                    continue
                concrete = PATH_PARAMETER.sub("0193a6b2-0000-7000-8000-000000000000", path)
                name = parameter["name"]
                answer = client.request(method.upper(), f"{concrete}?{name}=1&{name}=2")
                error = field_error_of(answer, 422)
                assert (error["field"], error["code"]) == (name, "request.repeated_query"), (method, path)
                checked += 1
    assert checked > 3


def test_limit_given_twice_is_refused_rather_than_the_last_one_winning(tmp_path: Path) -> None:
    client = TestClient(service_app("survey", tmp_path))
    body = problem_of(client.get("/persons?limit=10&limit=20"), 422)
    assert body["errors"][0]["field"] == "limit"
    assert body["detail"].startswith("请求有 1 处需要更正：limit：")


def test_a_list_parameter_takes_every_value_given() -> None:
    app = FastAPI()
    install_error_handlers(app)
    install_query_check(app)

    @app.get("/items")
    async def items(tag: Annotated[list[str] | None, Query()] = None, limit: int = 5) -> dict[str, object]:
        return {"tag": tag, "limit": limit}

    client = TestClient(app)
    assert client.get("/items?tag=a&tag=b&limit=3").json() == {"tag": ["a", "b"], "limit": 3}
    assert field_error_of(client.get("/items?tag=a&limit=3&limit=4"), 422)["field"] == "limit"


def test_what_takes_a_list() -> None:
    assert takes_a_list(list[str]) and takes_a_list(list[int] | None) and takes_a_list(set[str])
    texts = (str, int, str | None, bytes, Status | None)
    assert not any(takes_a_list(annotation) for annotation in texts)
