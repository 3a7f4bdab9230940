"""The assessment service over HTTP: a worklist fed by real survey events, assessments and referrals."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
import redis
from fastapi.testclient import TestClient
from rehab_contracts import ASSESSMENT_STREAM, SURVEY_STREAM, EventEnvelope, NeedSurveyed

from kernel.domain.clock import business_time
from kernel.domain.ids import new_event_id
from kernel.runtime import ServiceSettings
from services.assessment.app import create_app
from tests.problem_json import field_error_of

DISTRICT = "lj-assess-first-hospital"
CITY = "cq-assess-cqmu-second"


@pytest.fixture
def client(tmp_path: Path, redis_url: str, redis_client: redis.Redis) -> Iterator[TestClient]:
    settings = ServiceSettings(
        service="assessment", database_url=f"sqlite:///{tmp_path}/assessment.db", redis_url=redis_url
    )
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def need_surveyed(person_id: UUID | None = None, version: int = 1, **changes: Any) -> EventEnvelope:
    """A survey.need_surveyed envelope as the survey service publishes it."""
    person_id = person_id or uuid4()
    values: dict[str, Any] = {
        "person_id": person_id,
        "survey_year": 2024,
        "street": "鸳鸯",
        "community": "金渝社区",
        "surveyed_on": "2024-10-15",
        "has_needs": True,
        "needed_items": ["orientation_mobility_training"],
        "home_visit_required": False,
        "surveyor": "张丽",
        "certified": True,
        "disability_categories": ["vision"],
        "disability_grade": "grade_2",
        "birth_month": "1958-04",
        "economic_status": "subsistence_allowance",
    }
    payload = NeedSurveyed.model_validate({**values, **changes})
    event_id = new_event_id()
    return EventEnvelope(
        event_id=event_id,
        event_type=NeedSurveyed.event_type,
        schema_version=1,
        occurred_at=business_time(payload.surveyed_on),
        recorded_at=datetime.now(UTC),
        producer="survey",
        stream_id=f"person-{person_id}",
        version=version,
        correlation_id=person_id,
        payload=payload.model_dump(mode="json"),
    )


def deliver(client: TestClient, envelope: EventEnvelope) -> bool:
    return client.app.state.runtime.consumer.apply(envelope, SURVEY_STREAM)  # type: ignore[attr-defined]


def stored_events(client: TestClient, *types: str) -> list[EventEnvelope]:
    with client.app.state.runtime.store.transaction() as unit:  # type: ignore[attr-defined]
        return unit.events_of_type(*types)


def assessment_body(person_id: UUID, **changes: Any) -> dict[str, Any]:
    body = {
        "institution_id": DISTRICT,
        "person_id": str(person_id),
        "assessment_year": 2024,
        "assessor": "陈医生",
        "assessed_on": "2024-10-22",
        "mode": "at_institution",
        "assessed_needs": ["orientation_mobility_training"],
        "referral_needed": True,
        "opinion": "建议定向行走训练",
    }
    return {**body, **changes}


def referral_body(**changes: Any) -> dict[str, Any]:
    body = {
        "to_institution_id": "lj-first-hospital",
        "to_kind": "service_institution",
        "items": ["orientation_mobility_training"],
        "issued_on": "2024-10-22",
    }
    return {**body, **changes}


def surveyed_person(client: TestClient, **changes: Any) -> tuple[UUID, EventEnvelope]:
    envelope = need_surveyed(**changes)
    assert deliver(client, envelope)
    return UUID(envelope.payload["person_id"]), envelope


def assess(client: TestClient, person_id: UUID, **changes: Any) -> dict[str, Any]:
    response = client.post("/assessments", json=assessment_body(person_id, **changes))
    assert response.status_code == 201, response.text
    return response.json()


def error_of(response) -> dict[str, Any]:
    return field_error_of(response)


def test_a_survey_published_on_the_survey_stream_reaches_the_worklist(
    client: TestClient, redis_client
) -> None:
    envelope = need_surveyed()
    redis_client.xadd(SURVEY_STREAM, envelope.to_wire())
    deadline = time.monotonic() + 10
    items: list[dict[str, Any]] = []
    while time.monotonic() < deadline and not items:
        items = client.get("/worklist", params={"year": 2024}).json()["items"]
        time.sleep(0.05)
    assert [item["person_id"] for item in items] == [envelope.payload["person_id"]]
    assert items[0]["status"] == "awaiting_assessment"
    assert items[0]["needed_items"] == ["orientation_mobility_training"]


def test_delivering_the_same_survey_twice_has_one_effect(client: TestClient) -> None:
    envelope = need_surveyed()
    assert deliver(client, envelope) is True
    assert deliver(client, envelope) is False
    assert client.get("/worklist", params={"year": 2024}).json()["total"] == 1


def test_a_superseding_survey_replaces_the_earlier_one_on_the_worklist(client: TestClient) -> None:
    person_id, first = surveyed_person(client)
    second = need_surveyed(
        person_id,
        version=2,
        needed_items=["cataract_surgery"],
        supersedes_event_id=first.event_id,
        home_visit_required=True,
    )
    deliver(client, second)
    [item] = client.get("/worklist", params={"year": 2024}).json()["items"]
    assert item["needed_items"] == ["cataract_surgery"]
    assert item["home_visit_required"] is True
    assert item["survey_event_id"] == str(second.event_id)


def test_a_superseded_survey_arriving_late_does_not_replace_its_correction(client: TestClient) -> None:
    person_id = uuid4()
    first = need_surveyed(person_id)
    second = need_surveyed(
        person_id, version=2, needed_items=["cataract_surgery"], supersedes_event_id=first.event_id
    )
    deliver(client, second)
    deliver(client, first)
    [item] = client.get("/worklist", params={"year": 2024}).json()["items"]
    assert item["needed_items"] == ["cataract_surgery"]


def test_a_survey_without_needs_is_not_on_the_worklist_and_cannot_be_assessed(client: TestClient) -> None:
    person_id, _ = surveyed_person(client, has_needs=False, needed_items=[])
    assert client.get("/worklist", params={"year": 2024, "status": "all"}).json()["total"] == 0
    response = client.post("/assessments", json=assessment_body(person_id))
    assert response.status_code == 409
    assert "没有康复需求" in error_of(response)["message"]


def test_assessing_a_person_whose_survey_has_not_arrived_is_a_409_saying_so(client: TestClient) -> None:
    response = client.post("/assessments", json=assessment_body(uuid4()))
    assert response.status_code == 409
    assert "尚未收到此人" in error_of(response)["message"]
    assert error_of(response)["field"] == "person_id"


def test_an_assessment_by_an_unknown_institution_is_a_422(client: TestClient) -> None:
    person_id, _ = surveyed_person(client)
    response = client.post("/assessments", json=assessment_body(person_id, institution_id="lj-rehab-centre"))
    assert response.status_code == 422
    assert error_of(response)["field"] == "institution_id"
    assert error_of(response)["code"] == "assessment.institution_id.not_designated"


def test_an_opinion_naming_an_id_or_phone_number_is_a_422_and_nothing_is_recorded(client: TestClient) -> None:
    # The opinion travels in clear on the assessment stream and outlives the person's key (ADR 0007).
    person_id, _ = surveyed_person(client)
    for opinion in ("本人身份证号 500112199001011234，建议训练", "家属电话 13912345678"):
        response = client.post("/assessments", json=assessment_body(person_id, opinion=opinion))
        error = error_of(response)
        assert response.status_code == 422
        assert (error["field"], error["code"]) == ("opinion", "request.personal_data_in_clear_text")
        assert "13912345678" not in response.text and "500112199001011234" not in response.text
    assert stored_events(client, "assessment.assessment_completed") == []
    assert client.post("/assessments", json=assessment_body(person_id)).status_code == 201


def test_an_assessment_is_stored_in_the_persons_journey(client: TestClient) -> None:
    person_id, survey = surveyed_person(client)
    response = client.post("/assessments", json=assessment_body(person_id))
    assert response.status_code == 201, response.text
    created = response.json()
    assert response.headers["location"] == f"/assessments/{created['assessment_id']}"
    assert created["referral_pending"] is True and created["items_to_escalate"] == []
    [event] = stored_events(client, "assessment.assessment_completed")
    assert event.stream_id == f"assessment-{created['assessment_id']}"
    assert event.causation_id == survey.event_id
    assert event.correlation_id == survey.correlation_id
    assert event.payload["institution_level"] == "district"


def test_a_referral_completes_the_record_and_the_worklist_entry(client: TestClient) -> None:
    person_id, _ = surveyed_person(client)
    assessment_id = assess(client, person_id)["assessment_id"]
    assert client.get("/worklist", params={"year": 2024}).json()["items"][0]["status"] == "awaiting_referral"
    response = client.post(f"/assessments/{assessment_id}/referrals", json=referral_body())
    assert response.status_code == 201, response.text
    referral_id = response.json()["referral_id"]
    assert response.headers["location"] == f"/assessments/{assessment_id}/referrals/{referral_id}"
    record = client.get(f"/assessments/{assessment_id}").json()
    assert record["referred"] is True and record["referral_pending"] is False
    assert record["referrals"][0]["to_institution"]["name"] == "区第一人民医院"
    form = {line["label"]: line["value"] for line in record["form"]}
    assert form["康复需求"] == "盲人定向行走及适应训练"
    assert form["是否需转介"] == "是"
    assert form["转介至（机构）"].startswith("区第一人民医院")
    assert form["评估机构名称"] == "两江新区第一人民医院康复评估中心"
    assert form["评估人"] == "陈医生" and form["评估时间"] == "2024年10月22日"
    [event] = stored_events(client, "assessment.referral_issued")
    assert event.payload["items"] == ["orientation_mobility_training"]
    assert client.get("/worklist", params={"year": 2024}).json()["total"] == 0
    done = client.get("/worklist", params={"year": 2024, "status": "assessed"}).json()["items"]
    assert done[0]["assessment_ids"] == [assessment_id]


def test_a_referral_to_a_service_institution_not_designated_for_the_item_is_a_422(client: TestClient) -> None:
    person_id, _ = surveyed_person(client)
    assessment_id = assess(client, person_id)["assessment_id"]
    response = client.post(
        f"/assessments/{assessment_id}/referrals", json=referral_body(to_institution_id="cq-aier-eye")
    )
    assert response.status_code == 422
    assert error_of(response)["field"] == "items"
    assert error_of(response)["code"] == "assessment.items.service_not_designated"


def test_needs_outside_the_designation_are_escalated_and_then_assessed_at_the_city_level(
    client: TestClient,
) -> None:
    person_id, _ = surveyed_person(client, needed_items=["cataract_surgery"])
    created = assess(client, person_id, assessed_needs=["cataract_surgery"], referral_needed=True)
    assert created["items_to_escalate"] == ["cataract_surgery"]
    assert [i["id"] for i in created["escalation_options"][0]["city_institutions"]] == [CITY]
    too_early = client.post(
        "/assessments",
        json=assessment_body(person_id, institution_id=CITY, assessed_needs=["cataract_surgery"]),
    )
    assert too_early.status_code == 409
    escalation = referral_body(
        to_institution_id=CITY, to_kind="assessment_institution", items=["cataract_surgery"]
    )
    response = client.post(f"/assessments/{created['assessment_id']}/referrals", json=escalation)
    assert response.status_code == 201, response.text
    city_list = client.get("/worklist", params={"year": 2024, "institution_id": CITY}).json()["items"]
    assert [(i["status"], i["awaiting_institution_ids"]) for i in city_list] == [
        ("awaiting_city_assessment", [CITY])
    ]
    city = assess(
        client, person_id, institution_id=CITY, assessed_needs=["cataract_surgery"], assessed_on="2024-10-25"
    )
    client.post(
        f"/assessments/{city['assessment_id']}/referrals",
        json=referral_body(
            to_institution_id="cq-aier-eye", items=["cataract_surgery"], issued_on="2024-10-25"
        ),
    )
    assert client.get("/worklist", params={"year": 2024}).json()["total"] == 0


def test_a_second_district_assessment_of_the_same_person_is_a_409(client: TestClient) -> None:
    person_id, _ = surveyed_person(client)
    first = assess(client, person_id)["assessment_id"]
    again = client.post(
        "/assessments", json=assessment_body(person_id, institution_id="lj-assess-second-hospital")
    )
    assert again.status_code == 409
    assert first in error_of(again)["message"]
    assert error_of(again)["code"] == "assessment.person_id.already_assessed"


def test_a_person_who_cannot_travel_is_assessed_at_home(client: TestClient) -> None:
    person_id, _ = surveyed_person(client, home_visit_required=True)
    refused = client.post("/assessments", json=assessment_body(person_id))
    assert refused.status_code == 422
    assert error_of(refused)["field"] == "mode"
    assert error_of(refused)["code"] == "assessment.mode.home_visit_required"
    assert assess(client, person_id, mode="home_visit")["person_id"] == str(person_id)


def test_a_district_institution_sees_only_persons_awaiting_a_first_assessment(client: TestClient) -> None:
    waiting, _ = surveyed_person(client)
    assessed, _ = surveyed_person(client, street="人和", community="人和社区")
    assess(client, assessed)
    other = client.get(
        "/worklist", params={"year": 2024, "institution_id": "lj-assess-second-hospital"}
    ).json()
    assert [i["person_id"] for i in other["items"]] == [str(waiting)]
    by_street = client.get("/worklist", params={"year": 2024, "street": "人和", "status": "all"}).json()
    assert [i["person_id"] for i in by_street["items"]] == [str(assessed)]


def test_assessments_are_listed_by_person(client: TestClient) -> None:
    person_id, _ = surveyed_person(client)
    assessment_id = assess(client, person_id)["assessment_id"]
    page = client.get("/assessments", params={"person_id": str(person_id)}).json()
    assert [item["assessment_id"] for item in page["items"]] == [assessment_id]


def test_an_unknown_assessment_is_a_404(client: TestClient) -> None:
    assert client.get(f"/assessments/{uuid4()}").status_code == 404
    assert client.post(f"/assessments/{uuid4()}/referrals", json=referral_body()).status_code == 404


def test_assessments_and_referrals_are_published_on_the_assessment_stream(
    client: TestClient, redis_client
) -> None:
    person_id, _ = surveyed_person(client)
    assessment_id = assess(client, person_id)["assessment_id"]
    client.post(f"/assessments/{assessment_id}/referrals", json=referral_body())
    deadline = time.monotonic() + 10
    entries: list[Any] = []
    while time.monotonic() < deadline and len(entries) < 2:
        entries = redis_client.xrange(ASSESSMENT_STREAM)
        time.sleep(0.05)
    types = [EventEnvelope.from_wire(fields).event_type for _, fields in entries]
    assert types == ["assessment.assessment_completed", "assessment.referral_issued"]


def test_a_worklist_for_an_unknown_street_is_a_422(client: TestClient) -> None:
    response = client.get("/worklist", params={"year": 2024, "street": "解放碑"})
    assert response.status_code == 422
    assert "鸳鸯" in error_of(response)["message"]


def test_a_worklist_for_an_unknown_institution_is_a_422(client: TestClient) -> None:
    response = client.get("/worklist", params={"year": 2024, "institution_id": "nowhere"})
    assert response.status_code == 422
