"""The bad-input suite, HTTP: each kind of bad input a person or program can send a real service gets a
clear 4xx problem+json naming the field with a Chinese reason, and nothing already accepted changes.

Checks that other suites test in depth (tests/survey, tests/approval, ...) appear here once each, so
that this is the one place walking the whole list; docs/security.md, "Bad input", is its index.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient

from kernel.runtime import ServiceSettings
from services.survey.app import create_app
from tests.problem_json import field_error_of
from tests.security.openapi_bounds import unbounded_strings
from tests.survey.people import make_id, person_body

BORN = date(1958, 4, 12)


@pytest.fixture
def client(tmp_path: Path, redis_url: str, redis_client: redis.Redis) -> Iterator[TestClient]:
    settings = ServiceSettings(
        service="survey",
        database_url=f"sqlite:///{tmp_path}/survey.db",
        redis_url=redis_url,
        max_body_bytes=64 * 1024,
    )
    with TestClient(create_app(settings)) as test_client:
        register(test_client, person_body())  # what was accepted before the bad input arrives
        yield test_client


def register(client: TestClient, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/persons", json=body)
    assert response.status_code == 201, response.text
    return client.get(response.headers["location"]).json()


def accepted(client: TestClient) -> tuple[int, list[dict[str, Any]]]:
    """Events stored and the persons as listed: what must not change when bad input is refused."""
    events = client.get("/health").json()["events"]["stored"]
    return events, client.get("/persons").json()["items"]


def person(sequence: str, **changes: Any) -> dict[str, Any]:
    id_number = make_id(BORN, sequence)
    return person_body(**{"id_number": id_number, "certificate_number": id_number + "12", **changes})


def refused(client: TestClient, body: Any, status: int = 422, **request: Any) -> dict[str, Any]:
    """POST /persons is refused with `status` as problem+json, and nothing accepted changes."""
    before = accepted(client)
    response = (
        client.post("/persons", json=body, **request)
        if body is not None
        else client.post("/persons", **request)
    )
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert accepted(client) == before
    return dict(response.json())


def error(body: dict[str, Any]) -> tuple[str, str, str]:
    [entry] = body["errors"]
    assert any("\u4e00" <= character <= "\u9fff" for character in entry["message"]), entry
    return entry["field"], entry["code"], entry["message"]


# -- identity numbers -----------------------------------------------------------------------------------
def test_an_id_number_with_a_wrong_check_character_is_refused_naming_the_field(client: TestClient) -> None:
    good = make_id(BORN, "251")
    wrong = good[:17] + ("0" if good[17] != "0" else "1")
    field, code, _ = error(refused(client, person("251", id_number=wrong, certificate_number=wrong + "12")))
    assert (field, code) == ("id_number", "survey.id_number.checksum")


def test_full_width_digits_in_an_id_number_are_refused_asking_for_half_width(client: TestClient) -> None:
    full_width = make_id(BORN, "251").translate({ord(d): ord(d) + 0xFEE0 for d in "0123456789"})
    field, code, message = error(refused(client, person("251", id_number=full_width)))
    assert (field, code) == ("id_number", "survey.id_number.characters")
    assert "半角" in message


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"certificate_number": make_id(BORN, "273") + "12"}, "survey.certificate_number.id_mismatch"),
        ({"disability_categories": ["hearing"]}, "survey.certificate_number.category_mismatch"),
        ({"disability_grade": "grade_3"}, "survey.certificate_number.grade_mismatch"),
    ],
    ids=["another person's ID", "declared category", "declared grade"],
)
def test_a_certificate_number_inconsistent_with_the_id_or_the_declared_disability_is_refused(
    client: TestClient, changes: dict[str, Any], code: str
) -> None:
    field, found, _ = error(refused(client, person("251", **changes)))
    assert (field, found) == ("certificate_number", code)


# -- names ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dot", ["•", "・", "‧", "∙", "．"])
def test_a_look_alike_middle_dot_in_a_name_is_refused_naming_the_real_one(
    client: TestClient, dot: str
) -> None:
    field, code, message = error(refused(client, person("251", name=f"阿依古丽{dot}买买提")))
    assert (field, code) == ("name", "survey.name.lookalike_middle_dot")
    assert "U+00B7" in message


@pytest.mark.parametrize(
    "name", ["阿依古丽·买买提", "𠮷田𰻝", "王𪚥"], ids=["middle dot", "non-BMP", "non-BMP 2"]
)
def test_names_with_the_middle_dot_or_characters_beyond_the_bmp_are_kept_exactly(
    client: TestClient, name: str
) -> None:
    assert register(client, person("251", name=name))["name"] == name


# -- sizes and types ------------------------------------------------------------------------------------
def test_a_body_over_the_limit_is_a_413_before_it_is_read(client: TestClient) -> None:
    padded = person("251", address="重" * 40_000)  # ~120 KB of UTF-8, the limit is 64 KiB here
    body = refused(client, padded, status=413)
    assert body["code"] == "http.payload_too_large" and "64 KiB" in body["detail"]


def test_a_sheet_upload_has_its_own_larger_limit(client: TestClient) -> None:
    sheet = ("证件号码,姓名\n" + "x" * 100_000).encode()  # over 64 KiB: reaches the import, which reads it
    form = {"street": "鸳鸯", "survey_year": "2024", "surveyed_on": "2024-10-15", "surveyor": "张丽"}
    response = client.post("/imports/surveys", data=form, files={"file": ("sheet.csv", sheet, "text/csv")})
    assert response.status_code == 422 and response.json()["code"] != "http.payload_too_large"


def test_a_chunked_body_without_a_length_is_cut_off_at_the_limit(client: TestClient) -> None:
    chunks = (b'{"name": "' + b"x" * 8192 for _ in range(20))  # streamed: no Content-Length
    body = refused(client, None, status=413, content=chunks, headers={"content-type": "application/json"})
    assert body["code"] == "http.payload_too_large"


def test_a_field_over_its_maximum_length_is_refused_naming_it(client: TestClient) -> None:
    field, code, message = error(refused(client, person("251", address="重" * 1000)))
    assert (field, code) == ("address", "request.string_too_long")
    assert "最多" in message


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"registered_on": 20241015}, "registered_on"),
        ({"disability_categories": "vision"}, "disability_categories"),
        ({"name": ["李", "明"]}, "name"),
        ({"birth_date": "明年"}, "birth_date"),
        ({"sex": "unknown"}, "sex"),
    ],
)
def test_a_value_of_the_wrong_type_is_refused_naming_the_field(
    client: TestClient, changes: dict[str, Any], field: str
) -> None:
    found, code, _ = error(refused(client, person("251", **changes)))
    assert found == field and code.startswith("request.")


def test_a_body_that_is_not_json_is_refused_naming_the_body_and_where_it_breaks(client: TestClient) -> None:
    body = refused(client, None, content=b'{"a":', headers={"content-type": "application/json"})
    assert body["code"] == "request.invalid"
    field, code, message = error(body)
    assert (field, code) == ("body", "request.json_invalid")  # not the character position as a field
    assert "前 5 个字符之后" in message and "5：" not in body["detail"]


def test_a_body_that_is_not_utf_8_is_the_documented_422_naming_the_body_not_a_bare_400(
    client: TestClient,
) -> None:
    """What the OpenAPI fuzzer sent (issue 14): FastAPI answered 400, a status no operation documents."""
    body = refused(client, None, content=b"+\xf1\xb3\x06\xe4", headers={"content-type": "application/json"})
    assert body["code"] == "request.invalid"
    assert error(body)[:2] == ("body", "request.json_invalid")


def test_every_free_text_field_of_every_service_has_a_maximum_length() -> None:
    """Request bodies and query parameters of all five services."""
    found = {}
    for service in ("survey", "assessment", "approval", "delivery", "settlement"):
        app = importlib.import_module(f"services.{service}.app").create_app(ServiceSettings(service=service))
        found[service] = unbounded_strings(app.openapi())
    # The sheet import is a multipart form its handler checks itself: street against the jurisdiction,
    # surveyor at most 200 characters (tests/survey/test_survey_import_api.py).
    assert found == {
        "survey": ["POST /imports/surveys street", "POST /imports/surveys surveyor"],
        "assessment": [],
        "approval": [],
        "delivery": [],
        "settlement": [],
    }


# -- injection ------------------------------------------------------------------------------------------
INJECTIONS = [
    "'; DROP TABLE events; --",
    "1' OR '1'='1",
    '李明"); DELETE FROM persons; --',
    "${jndi:ldap://x}",
]


@pytest.mark.parametrize("text", INJECTIONS)
def test_sql_injection_in_free_text_is_stored_verbatim_and_harmless(client: TestClient, text: str) -> None:
    events, _ = accepted(client)
    stored = register(client, person("251", address=f"重庆市{text}"))
    assert stored["address"] == f"重庆市{text}"
    assert accepted(client)[0] == events + 1  # the event store still answers, one event more


@pytest.mark.parametrize("text", INJECTIONS)
def test_sql_injection_in_a_query_matches_nothing_and_changes_nothing(client: TestClient, text: str) -> None:
    before = accepted(client)
    assert client.get("/persons", params={"id_number": text}).json()["total"] == 0
    assert client.get("/persons", params={"community": text}).json()["total"] == 0
    street = client.get("/persons", params={"street": text})
    assert field_error_of(street)["field"] == "street"
    assert accepted(client) == before


# -- NUL characters (PostgreSQL text cannot hold them) ----------------------------------------------------
def test_a_nul_character_in_a_json_body_is_refused_and_an_escaped_backslash_before_u0000_is_not(
    client: TestClient,
) -> None:
    body = person("253", address="重庆市\x00两江新区")
    assert error(refused(client, body))[:2] == ("address", "request.nul_character")
    literal = register(client, person("253", address="重庆市\\u0000两江新区"))  # a backslash, then "u0000"
    assert literal["address"] == "重庆市\\u0000两江新区"


def test_a_nul_character_in_a_query_parameter_or_the_path_is_refused_naming_it(client: TestClient) -> None:
    before = accepted(client)
    assert error(client.get("/persons", params={"community": "金渝\x00"}).json())[:2] == (
        "community",
        "request.nul_character",
    )
    assert error(client.get("/persons/a%00b").json())[:2] == ("path", "request.nul_character")
    assert accepted(client) == before


def test_an_offset_beyond_any_list_is_refused_naming_it_rather_than_overflowing(client: TestClient) -> None:
    found, code, _ = error(client.get("/persons", params={"offset": 10**20}).json())
    assert (found, code) == ("offset", "request.less_than_equal")
