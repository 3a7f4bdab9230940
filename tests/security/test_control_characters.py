"""Control characters, bidi overrides and invisible characters are refused in every text field of every
command (issue 14, defect 10): `community: "康美\\x01社区"` was accepted, and afterwards 附件3 of that
street answered 500 for everyone. The answer is 422 naming the field, with a Chinese message."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient

from kernel.runtime import ServiceSettings
from services.survey.app import create_app
from tests.problem_json import is_chinese, problem_of
from tests.survey.people import person_body
from tests.survey.sheets import base_row, csv_bytes, xlsx_bytes

HIDDEN = {
    "SOH": "\x01",
    "ESC": "\x1b",
    "newline": "\n",
    "tab": "\t",
    "DEL": "\x7f",
    "C1 NEL": "\x85",
    "zero width space": "\u200b",
    "right-to-left mark": "\u200f",
    "right-to-left override": "\u202e",
    "first strong isolate": "\u2068",
    "byte order mark": "\ufeff",
    "line separator": "\u2028",
}


@pytest.fixture
def client(tmp_path: Path, redis_url: str, redis_client: redis.Redis) -> Iterator[TestClient]:
    settings = ServiceSettings(
        service="survey", database_url=f"sqlite:///{tmp_path}/survey.db", redis_url=redis_url
    )
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def refusal(response: Any) -> dict[str, str]:
    """The one field error of a 422 about hidden characters: {field: code}."""
    body = problem_of(response, 422)
    errors = {error["field"]: error["code"] for error in body["errors"]}
    assert all(is_chinese(error["message"]) for error in body["errors"]), body
    return errors


def stored_events(client: TestClient) -> int:
    return int(client.get("/health").json()["events"]["stored"])


@pytest.mark.parametrize("character", HIDDEN.values(), ids=HIDDEN.keys())
def test_a_hidden_character_in_the_community_of_a_registration_is_refused_naming_it(
    client: TestClient, character: str
) -> None:
    response = client.post("/persons", json=person_body(community=f"金渝{character}社区"))
    assert refusal(response) == {"community": "request.control_character"}
    assert stored_events(client) == 0


def test_a_hidden_character_in_a_nested_field_is_refused_naming_the_path(client: TestClient) -> None:
    body = person_body()
    body["guardian"] = {"name": "王\u202e芳", "sex": "female", "phone": "13900139000", "relation": "母亲"}
    assert refusal(client.post("/persons", json=body)) == {"guardian.name": "request.control_character"}


def test_a_hidden_character_in_a_correction_or_a_survey_is_refused(client: TestClient) -> None:
    person = client.post("/persons", json=person_body()).json()["person_id"]
    correction = {"reason": "更正\x07", "phone": "13800138009"}
    survey = {
        "survey_year": 2024,
        "surveyed_on": "2024-10-15",
        "has_needs": False,
        "needed_items": [],
        "surveyor": "张\u200b丽",
    }
    assert refusal(client.post(f"/persons/{person}/corrections", json=correction)) == {
        "reason": "request.control_character"
    }
    assert refusal(client.post(f"/persons/{person}/surveys", json=survey)) == {
        "surveyor": "request.control_character"
    }


def test_a_replacement_character_where_characters_were_lost_is_refused_naming_the_field(
    client: TestClient,
) -> None:
    """U+FFFD stands where a decoder lost what was typed (a form posted as raw bytes %FF%FE)."""
    response = client.post("/persons", json=person_body(name="张\ufffd\ufffd"))
    assert refusal(response) == {"name": "request.replacement_character"}
    assert "丢失" in response.json()["errors"][0]["message"]
    reason = {"reason": "更正\ufffd", "phone": "13800138009"}
    person = client.post("/persons", json=person_body()).json()["person_id"]
    assert refusal(client.post(f"/persons/{person}/corrections", json=reason)) == {
        "reason": "request.replacement_character"
    }
    assert stored_events(client) == 1


def test_ordinary_text_is_accepted_as_it_is(client: TestClient) -> None:
    body = person_body(
        name="阿依古丽·买买提", address="重庆市\u3000两江新区 金渝大道88号（3-2）", ethnicity="维吾尔族"
    )
    response = client.post("/persons", json=body)
    assert response.status_code == 201, response.text
    person = client.get(f"/persons/{response.json()['person_id']}").json()
    assert (person["name"], person["address"]) == (body["name"], body["address"])


@pytest.mark.parametrize(
    ("service", "path", "body", "field"),
    [
        ("assessment", "/assessments", {"opinion": "建议\u2066训练"}, "opinion"),
        ("approval", "/applications", {"serial_number": "\x1b[31mLJ-1"}, "serial_number"),
        ("delivery", "/deliveries", {"staff": "刘\x07康复师"}, "staff"),
        ("approval", "/applications", {"attachments": ["id_card"], "street": "鸳鸯\ufeff"}, "street"),
    ],
)
def test_every_service_refuses_hidden_characters_in_a_commands_text(
    service: str,
    path: str,
    body: dict[str, Any],
    field: str,
    tmp_path: Path,
    redis_url: str,
    redis_client: redis.Redis,
) -> None:
    create = importlib.import_module(f"services.{service}.app").create_app
    settings = ServiceSettings(
        service=service, database_url=f"sqlite:///{tmp_path}/{service}.db", redis_url=redis_url
    )
    with TestClient(create(settings)) as service_client:
        response = service_client.post(path, json=body)
    assert refusal(response) == {field: "request.control_character"}


# -- the sheet import -------------------------------------------------------------------------------------
def upload(client: TestClient, content: bytes, name: str, **form: str) -> Any:
    fields = {
        "street": "鸳鸯",
        "survey_year": "2024",
        "surveyed_on": "2024-10-15",
        "surveyor": "张丽",
        **form,
    }
    return client.post(
        "/imports/surveys", data=fields, files={"file": (name, content, "application/octet-stream")}
    )


@pytest.mark.parametrize("sheet", ["csv", "xlsx"])
def test_a_hidden_character_in_a_cell_of_a_sheet_is_refused_with_its_row_and_column(
    client: TestClient, sheet: str
) -> None:
    rows = [base_row(社区="金渝\u202e社区")]
    content = csv_bytes(rows) if sheet == "csv" else xlsx_bytes(rows)

    response = upload(client, content, f"鸳鸯.{sheet}")

    body = problem_of(response, 422)
    assert body["code"] == "survey.import.rows_invalid"
    [error] = body["errors"]
    assert (error["row"], error["column"], error["code"]) == (2, "社区", "survey.import.control_character")
    assert is_chinese(error["message"])
    assert stored_events(client) == 0


def test_a_replacement_character_in_a_cell_of_a_sheet_is_refused_with_its_row_and_column(
    client: TestClient,
) -> None:
    response = upload(client, csv_bytes([base_row(社区="金渝\ufffd社区")]), "鸳鸯.csv")
    [error] = problem_of(response, 422)["errors"]
    assert (error["row"], error["column"]) == (2, "社区")
    assert "U+FFFD" in error["message"]


def test_a_hidden_character_in_a_field_of_the_import_form_is_refused_naming_it(client: TestClient) -> None:
    response = upload(client, csv_bytes([base_row()]), "鸳鸯.csv", surveyor="张\u202e丽")
    assert refusal(response) == {"surveyor": "request.control_character"}
    assert stored_events(client) == 0
