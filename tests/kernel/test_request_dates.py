"""A date in a request is written YYYY-MM-DD in every service: a number (seconds since 1970) or a
datetime, which pydantic would read as a date, is refused naming the field (request.date_format), in a
body at any depth, in a query and in a path; the places are read from each route's own schema."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import pytest
import redis
from fastapi import FastAPI, Query
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field

from kernel.runtime import ServiceSettings
from kernel.web.errors import install_error_handlers
from kernel.web.query_check import install_query_check
from services.survey.app import create_app
from tests.problem_json import field_error_of, problem_of
from tests.survey.people import make_id, person_body
from tests.web.apps import service_app

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

NOT_ISO = [1741996800, 0, 1741996800.0, "1741996800", "2025-03-01T00:00:00", "2025-03-01 00:00", True]


@pytest.fixture
def survey(tmp_path: Path, redis_url: str, redis_client: redis.Redis) -> Iterator[TestClient]:
    settings = ServiceSettings(
        service="survey", database_url=f"sqlite:///{tmp_path}/survey.db", redis_url=redis_url
    )
    with TestClient(create_app(settings)) as client:
        yield client


def resident(sequence: str, **changes: Any) -> dict[str, Any]:
    id_number = make_id(date(1958, 4, 12), sequence)
    return person_body(id_number=id_number, certificate_number=id_number + "12", **changes)


@pytest.mark.parametrize("value", NOT_ISO, ids=repr)
def test_a_registration_date_not_written_yyyy_mm_dd_is_refused_naming_it(
    survey: TestClient, value: object
) -> None:
    answer = survey.post("/persons", json=resident("231", registered_on=value))
    error = field_error_of(answer, 422)
    assert (error["field"], error["code"]) == ("registered_on", "request.date_format")
    assert "YYYY-MM-DD" in error["message"]
    assert survey.get("/persons").json()["total"] == 0


def test_a_loose_date_is_refused_with_every_other_error_of_the_body(survey: TestClient) -> None:
    body = problem_of(survey.post("/persons", json=resident("231", registered_on=0, sex="unknown")), 422)
    codes = {error["field"]: error["code"] for error in body["errors"]}
    assert codes == {"registered_on": "request.date_format", "sex": "request.enum"}


def test_a_date_written_yyyy_mm_dd_is_taken_as_before(survey: TestClient) -> None:
    answer = survey.post("/persons", json=resident("231", registered_on="2025-03-15"))
    assert answer.status_code == 201, answer.text
    assert survey.get(answer.headers["location"]).json()["registered_on"] == "2025-03-15"


@pytest.mark.parametrize("value", ["1741996800", "2025-03-01T00:00:00"])
def test_a_date_in_a_query_not_written_yyyy_mm_dd_is_refused_naming_it(tmp_path: Path, value: str) -> None:
    settlement = TestClient(service_app("settlement", tmp_path))  # not started: refused before the route
    error = field_error_of(settlement.get("/replay/as-of", params={"date": value}), 422)
    assert (error["field"], error["code"]) == ("date", "request.date_format")
    approval = TestClient(service_app("approval", tmp_path))
    error = field_error_of(approval.get("/applications/overdue", params={"as_of": value}), 422)
    assert (error["field"], error["code"]) == ("as_of", "request.date_format")


class Period(BaseModel):
    start: date
    end: date | None = None
    at: datetime | None = None


class Plan(BaseModel):
    periods: list[Period] = []
    by_name: dict[str, date] = {}
    day: Annotated[date | None, Field(alias="on")] = None
    note: str = ""


def test_dates_are_found_at_any_depth_of_a_body_and_in_a_path() -> None:
    app = FastAPI()
    install_error_handlers(app)
    install_query_check(app)

    @app.post("/plans/{day}")
    async def plan(day: date, body: Plan, since: Annotated[list[date] | None, Query()] = None) -> str:
        return "ok"

    client = TestClient(app)
    good = {"periods": [{"start": "2025-03-01", "at": "2025-03-01T08:00:00+08:00"}], "note": "1741996800"}
    assert client.post("/plans/2025-03-01?since=2025-01-01", json=good).status_code == 200
    bad = {
        "periods": [{"start": "2025-03-01"}, {"start": 0, "end": "2025-03-01T00:00:00"}],
        "by_name": {"a": 1741996800},
        "on": 20250301,
    }
    body = problem_of(client.post("/plans/2025-03-01", json={**bad, "note": 5}), 422)
    fields = {error["field"]: error["code"] for error in body["errors"]}
    assert fields == {
        "periods.1.start": "request.date_format",
        "periods.1.end": "request.date_format",
        "by_name.a": "request.date_format",
        "on": "request.date_format",
        "note": "request.string_type",  # the body's other errors in the same answer
    }
    body = problem_of(client.post("/plans/1741996800?since=2025-01-01&since=0", json=good), 422)
    assert {error["field"] for error in body["errors"]} == {"since", "day"}
