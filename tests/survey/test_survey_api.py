"""The survey service over HTTP, with its own SQLite store and a real Redis."""

from __future__ import annotations

import time
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from rehab_contracts import SURVEY_STREAM, EventEnvelope
from sqlalchemy import func, select

from kernel.store.store import outbox_table
from services.survey import handlers
from services.survey.keys import person_keys_table
from tests.problem_json import field_error_of
from tests.survey.people import child, make_id, person_body


def stored_events(client: TestClient, *types: str) -> list[EventEnvelope]:
    store = client.app.state.runtime.store  # type: ignore[attr-defined]
    with store.transaction() as unit:
        return unit.events_of_type(*types)


def register(client: TestClient, **changes: Any) -> str:
    response = client.post("/persons", json=person_body(**changes))
    assert response.status_code == 201, response.text
    return response.json()["person_id"]


def survey_body(**changes: Any) -> dict[str, Any]:
    body = {
        "survey_year": 2024,
        "surveyed_on": "2024-10-15",
        "has_needs": True,
        "needed_items": ["low_vision_training"],
        "home_visit_required": False,
        "surveyor": "张丽",
    }
    return {**body, **changes}


def error_of(response) -> dict[str, Any]:
    return field_error_of(response)


def test_registering_a_person_stores_person_registered_and_answers_with_its_location(
    client: TestClient,
) -> None:
    response = client.post("/persons", json=person_body())
    assert response.status_code == 201
    person_id = response.json()["person_id"]
    assert response.headers["location"] == f"/persons/{person_id}"
    [event] = stored_events(client, "survey.person_registered")
    assert event.stream_id == f"person-{person_id}"
    assert event.schema_version == 2 and event.payload["personal_data"]["algorithm"] == "AES-256-GCM"
    assert person_body()["id_number"] not in str(event.payload)
    assert event.producer == "survey"


def test_a_registered_person_is_published_on_the_survey_stream(client: TestClient, redis_client) -> None:
    person_id = register(client)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        entries = redis_client.xrange(SURVEY_STREAM)
        if entries:
            break
        time.sleep(0.05)
    envelope = EventEnvelope.from_wire(entries[0][1])
    assert envelope.event_type == "survey.person_registered"
    assert envelope.payload["person_id"] == person_id


def test_a_street_outside_liangjiang_is_a_422_naming_the_street(client: TestClient) -> None:
    response = client.post("/persons", json=person_body(street="解放碑"))
    assert response.status_code == 422
    assert error_of(response)["field"] == "street"
    assert error_of(response)["code"] == "survey.street.outside_jurisdiction"
    assert "鸳鸯" in error_of(response)["message"]


def test_a_mistyped_id_number_is_a_422_explaining_the_check(client: TestClient) -> None:
    body = person_body()
    wrong = body["id_number"][:-1] + ("1" if body["id_number"][-1] != "1" else "2")
    response = client.post("/persons", json={**body, "id_number": wrong, "certificate_number": wrong + "12"})
    assert response.status_code == 422
    assert error_of(response)["field"] == "id_number"
    assert error_of(response)["code"] == "survey.id_number.checksum"
    assert "可能有一位数字输错" in error_of(response)["message"]


def test_every_mistake_of_a_registration_is_named_at_once(client: TestClient) -> None:
    # A clerk corrects the form in one go instead of one error per submission.
    body = person_body()
    wrong = body["id_number"][:-1] + ("1" if body["id_number"][-1] != "1" else "2")
    mistakes = {
        "id_number": wrong,
        "certificate_number": wrong + "12",
        "phone": "123",
        "registered_on": "2999-01-01",
    }
    response = client.post("/persons", json={**body, **mistakes})
    assert response.status_code == 422
    fields = {error["field"]: error["code"] for error in response.json()["errors"]}
    assert fields == {
        "registered_on": "survey.registered_on.future",
        "id_number": "survey.id_number.checksum",
        "phone": "survey.phone.format",
    }
    assert response.json()["detail"].startswith("有 3 处需要更正")
    assert stored_events(client, "survey.person_registered") == []


def test_full_width_digits_are_a_422(client: TestClient) -> None:
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in person_body()["id_number"])
    response = client.post("/persons", json=person_body(id_number=full_width))
    assert response.status_code == 422
    assert error_of(response)["code"] == "survey.id_number.characters"
    assert "全角数字" in error_of(response)["message"]


def test_an_unknown_disability_category_is_a_422(client: TestClient) -> None:
    response = client.post("/persons", json=person_body(disability_categories=["blind"]))
    assert error_of(response)["field"] == "disability_categories.0"
    assert error_of(response)["message"].startswith("应为以下之一")


def test_an_unknown_field_is_a_422_not_silently_dropped(client: TestClient) -> None:
    response = client.post("/persons", json=person_body(nickname="老李"))
    assert error_of(response) == {
        "field": "nickname",
        "code": "request.extra_forbidden",
        "message": "不认识的字段，请删除",
    }


def test_registering_an_id_number_twice_is_a_409_naming_the_first_person(client: TestClient) -> None:
    person_id = register(client)
    response = client.post("/persons", json=person_body(name="李明明"))
    assert response.status_code == 409
    assert error_of(response)["code"] == "survey.id_number.already_registered"
    assert person_id in error_of(response)["message"]
    assert len(stored_events(client, "survey.person_registered")) == 1


def test_a_registration_racing_past_the_id_number_check_is_refused_by_the_index_and_leaves_nothing(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    register(client)
    # As if another registration of this ID number committed between the check and the insert.
    monkeypatch.setattr(handlers.projection, "person_holding", lambda _session, _id_number: None)
    response = client.post("/persons", json=person_body(name="李明明"))
    assert response.status_code == 409
    assert error_of(response)["code"] == "survey.id_number.already_registered"
    assert len(stored_events(client, "survey.person_registered")) == 1
    with client.app.state.runtime.store.engine.connect() as connection:  # type: ignore[attr-defined]
        assert connection.scalar(select(func.count()).select_from(person_keys_table)) == 1
        assert connection.scalar(select(func.count()).select_from(outbox_table)) == 1


def test_an_uncertified_child_is_registered_with_a_guardian(client: TestClient) -> None:
    details = child()
    guardian = vars(details.guardian)
    person_id = register(
        client,
        name=details.name,
        sex="female",
        birth_date=details.birth_date.isoformat(),
        id_number=details.id_number,
        certificate_number=None,
        disability_categories=["hearing"],
        disability_grade="ungraded",
        guardian=guardian,
    )
    person = client.get(f"/persons/{person_id}").json()
    assert person["certified"] is False
    assert person["guardian"]["relation"] == "母亲"


def test_a_person_is_read_back_with_all_basic_information(client: TestClient) -> None:
    person_id = register(client)
    response = client.get(f"/persons/{person_id}")
    assert response.status_code == 200
    person = response.json()
    assert person["name"] == "李明"
    assert person["certified"] is True
    assert person["disability_categories"] == ["vision"]
    assert person["version"] == 1
    assert person["surveys"] == []


def test_an_unknown_person_is_a_404(client: TestClient) -> None:
    response = client.get("/persons/7f0c1e9a-2d3b-4c5d-8e9f-0a1b2c3d4e5f")
    assert response.status_code == 404


def test_persons_are_listed_by_street_page_by_page(client: TestClient) -> None:
    for year in (1950, 1951, 1952):
        id_number = make_id(date(year, 1, 1))
        register(client, birth_date=f"{year}-01-01", id_number=id_number, certificate_number=id_number + "12")
    id_number = make_id(date(1960, 1, 1))
    register(
        client,
        street="人和",
        birth_date="1960-01-01",
        id_number=id_number,
        certificate_number=id_number + "12",
    )
    page = client.get("/persons", params={"street": "鸳鸯", "limit": 2}).json()
    assert page["total"] == 3 and len(page["items"]) == 2
    rest = client.get("/persons", params={"street": "鸳鸯", "limit": 2, "offset": 2}).json()
    assert len(rest["items"]) == 1
    assert "id_number" not in rest["items"][0]
    found = client.get("/persons", params={"id_number": id_number}).json()
    assert [item["street"] for item in found["items"]] == ["人和"]


def test_a_survey_stores_need_surveyed_with_eligibility_facts(client: TestClient) -> None:
    person_id = register(client)
    response = client.post(f"/persons/{person_id}/surveys", json=survey_body())
    assert response.status_code == 201, response.text
    survey_id = response.json()["survey_id"]
    assert response.headers["location"] == f"/persons/{person_id}/surveys/{survey_id}"
    [event] = stored_events(client, "survey.need_surveyed")
    assert str(event.event_id) == survey_id
    assert event.payload["street"] == "鸳鸯"
    assert event.payload["certified"] is True
    assert event.payload["birth_month"] == "1958-04"
    assert "id_number" not in event.payload and "name" not in event.payload
    assert client.get(f"/persons/{person_id}/surveys/{survey_id}").json()["needed_items"] == [
        "low_vision_training"
    ]


def test_surveying_an_unknown_person_is_a_404(client: TestClient) -> None:
    response = client.post("/persons/7f0c1e9a-2d3b-4c5d-8e9f-0a1b2c3d4e5f/surveys", json=survey_body())
    assert response.status_code == 404


def test_a_second_survey_in_a_year_is_a_409_until_it_says_what_it_supersedes(client: TestClient) -> None:
    person_id = register(client)
    first = client.post(f"/persons/{person_id}/surveys", json=survey_body()).json()["survey_id"]
    again = client.post(f"/persons/{person_id}/surveys", json=survey_body(needed_items=["cataract_surgery"]))
    assert again.status_code == 409
    assert first in error_of(again)["message"]
    corrected = client.post(
        f"/persons/{person_id}/surveys", json=survey_body(needed_items=["cataract_surgery"], supersedes=first)
    )
    assert corrected.status_code == 201
    current = client.get("/surveys", params={"year": 2024}).json()
    assert [item["needed_items"] for item in current["items"]] == [["cataract_surgery"]]
    everything = client.get("/surveys", params={"year": 2024, "include_superseded": True}).json()
    assert everything["total"] == 2
    superseded = next(item for item in everything["items"] if item["survey_id"] == first)
    assert superseded["superseded_by"] == corrected.json()["survey_id"]


def test_survey_results_are_listed_by_year_and_street(client: TestClient) -> None:
    first = register(client)
    id_number = make_id(date(1960, 1, 1))
    second = register(
        client,
        street="人和",
        birth_date="1960-01-01",
        id_number=id_number,
        certificate_number=id_number + "12",
    )
    client.post(f"/persons/{first}/surveys", json=survey_body())
    client.post(f"/persons/{second}/surveys", json=survey_body(has_needs=False, needed_items=[]))
    page = client.get("/surveys", params={"year": 2024, "street": "人和"}).json()
    assert page["total"] == 1
    [row] = page["items"]
    assert (row["person_id"], row["street"], row["has_needs"], row["needed_items"]) == (
        second,
        "人和",
        False,
        [],
    )
    assert client.get("/surveys", params={"year": 2023}).json()["total"] == 0


def test_a_survey_with_needs_but_no_items_is_a_422(client: TestClient) -> None:
    person_id = register(client)
    response = client.post(f"/persons/{person_id}/surveys", json=survey_body(needed_items=[]))
    assert response.status_code == 422
    assert error_of(response)["field"] == "needed_items"


def test_a_correction_changes_the_details_and_is_stored(client: TestClient) -> None:
    person_id = register(client)
    response = client.post(
        f"/persons/{person_id}/corrections", json={"reason": "换了手机号", "phone": "13800138009"}
    )
    assert response.status_code == 201, response.text
    assert response.json()["corrected"] == ["phone"]
    assert client.get(f"/persons/{person_id}").json()["phone"] == "13800138009"
    [event] = stored_events(client, "survey.person_details_corrected")
    assert "13800138009" not in str(event.payload) and event.payload["personal_data"] is not None
    assert event.payload["street"] is None


@pytest.mark.parametrize(
    ("reason", "code"),
    [
        ("本人来电，身份证号 {id_number} 核实", "request.personal_data_in_clear_text"),
        ("本人来电 13712345678", "request.personal_data_in_clear_text"),
        ("{name}本人来电更正", "survey.reason.names_the_person"),
    ],
)
def test_a_correction_reason_naming_the_person_is_a_422_and_nothing_is_stored(
    client: TestClient, reason: str, code: str
) -> None:
    # The reason travels in clear on the stream and stays in every archive after the person is forgotten.
    body = person_body()
    person_id = register(client)
    given = reason.format(id_number=body["id_number"], name=body["name"])
    response = client.post(
        f"/persons/{person_id}/corrections", json={"reason": given, "phone": "13800138009"}
    )
    error = error_of(response)
    assert (response.status_code, error["field"], error["code"]) == (422, "reason", code)
    assert body["id_number"] not in response.text and body["name"] not in response.text
    assert stored_events(client, "survey.person_details_corrected") == []


def test_moving_a_person_to_another_street_moves_them_in_the_list(client: TestClient) -> None:
    person_id = register(client)
    client.post(
        f"/persons/{person_id}/corrections",
        json={"reason": "搬家", "street": "礼嘉", "community": "礼嘉社区"},
    )
    assert client.get("/persons", params={"street": "礼嘉"}).json()["total"] == 1


def test_the_handbook_page_prints_the_basic_information_in_chinese(client: TestClient) -> None:
    person_id = register(client)
    page = client.get(f"/persons/{person_id}/handbook").json()
    lines = {line["label"]: line["value"] for line in page["lines"]}
    assert page["title"] == "残疾人基本信息"
    assert lines["性别"] == "男"
    assert lines["残疾类别"] == "视力"
    assert lines["残疾等级"] == "二级"
    assert lines["残疾人证号（持证必填）"] == person_body()["certificate_number"]


def test_listing_by_a_street_the_jurisdiction_does_not_have_is_a_422_not_an_empty_list(
    client: TestClient,
) -> None:
    for path in ("/persons", "/surveys"):
        response = client.get(path, params={"street": "鸳鸯街道"})
        assert response.status_code == 422
        assert error_of(response)["field"] == "street"


def test_a_certificate_number_inconsistent_with_the_declared_category_is_a_422(client: TestClient) -> None:
    body = person_body()
    response = client.post("/persons", json={**body, "certificate_number": body["id_number"] + "42"})
    error = field_error_of(response, 422)
    assert (error["field"], error["code"]) == (
        "certificate_number",
        "survey.certificate_number.category_mismatch",
    )
    assert "类别位是 4" in error["message"]


def test_a_look_alike_middle_dot_in_a_name_is_a_422_naming_the_name(client: TestClient) -> None:
    response = client.post("/persons", json=person_body(name="阿依古丽・买买提"))  # U+30FB katakana dot
    error = field_error_of(response, 422)
    assert (error["field"], error["code"]) == ("name", "survey.name.lookalike_middle_dot")
    assert "U+00B7" in error["message"]


def test_names_outside_the_basic_plane_with_the_middle_dot_and_of_50_characters_are_accepted(
    client: TestClient,
) -> None:
    for sequence, name in (("231", "𠮷田"), ("251", "阿依古丽·买买提"), ("271", "𠮷" * 50)):
        body = person_body(id_number=make_id(date(1958, 4, 12), sequence), name=name)
        body["certificate_number"] = body["id_number"] + "12"
        response = client.post("/persons", json=body)
        assert response.status_code == 201, response.text
        assert client.get(response.headers["location"]).json()["name"] == name


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"phone": "138-0013-800"}, "phone"),
        ({"phone": "１３８００１３８０００"}, "phone"),
        ({"phone": "电话"}, "phone"),
    ],
)
def test_a_phone_number_not_in_a_mainland_format_is_a_422(
    client: TestClient, changes: dict[str, str], field: str
) -> None:
    error = field_error_of(client.post("/persons", json=person_body(**changes)), 422)
    assert (error["field"], error["code"]) == (field, f"survey.{field}.format")


def test_an_adult_without_certificate_is_a_422_naming_the_certificate(client: TestClient) -> None:
    body = {**person_body(), "certificate_number": None}
    error = field_error_of(client.post("/persons", json=body), 422)
    assert (error["field"], error["code"]) == (
        "certificate_number",
        "survey.certificate_number.required_for_adult",
    )
