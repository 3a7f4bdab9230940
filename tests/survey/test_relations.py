"""The registry follows the assessment and approval events: which institutions serve a person, and how far
each person's year has gone, which the street office's worklist shows (ADR 0016)."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import uuid4

from fastapi.testclient import TestClient
from sqlalchemy import select

from services.survey.relations import institution_relations_table
from tests.apps import state_of
from tests.survey.events import (
    CITY_ASSESSOR,
    DISTRICT_ASSESSOR,
    OTHER_SERVICE_INSTITUTION,
    SERVICE_INSTITUTION,
    approved,
    assessed,
    changed,
    deliver,
    referred,
    rejected,
    submitted,
)
from tests.survey.people import make_id, person_body

SURVEY = {
    "survey_year": 2024,
    "surveyed_on": "2024-10-15",
    "has_needs": True,
    "needed_items": ["low_vision_training"],
    "home_visit_required": False,
    "surveyor": "张丽",
}


def surveyed(client: TestClient, sequence: str = "231", **changes: Any) -> str:
    id_number = make_id(date(1958, 4, 12), sequence)
    body = person_body(id_number=id_number, certificate_number=id_number + "12", **changes)
    person_id = str(client.post("/persons", json=body).json()["person_id"])
    assert client.post(f"/persons/{person_id}/surveys", json=SURVEY).status_code == 201
    return person_id


def relations(client: TestClient, person_id: str) -> set[tuple[str, str]]:
    table = institution_relations_table.c
    with state_of(client).runtime.store.reading() as unit:
        rows = unit.session.execute(
            select(table.institution_id, table.relation).where(table.person_id == person_id)
        )
        return {(row.institution_id, row.relation) for row in rows}


def worklist(client: TestClient, **params: Any) -> dict[str, Any]:
    answer = client.get("/worklist", params={"year": 2024, **params})
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def stage_of(client: TestClient, person_id: str) -> str:
    return next(entry["stage"] for entry in worklist(client)["persons"] if entry["person_id"] == person_id)


def test_each_institution_that_assessed_was_referred_to_or_serves_an_item_is_related_to_the_person(
    client: TestClient,
) -> None:
    person_id = surveyed(client)
    application_id = uuid4()
    assessment = assessed(person_id)

    deliver(client, assessment)
    deliver(client, referred(person_id, assessment.assessment_id, CITY_ASSESSOR))  # type: ignore[attr-defined]
    deliver(client, approved(person_id, application_id))
    deliver(client, changed(person_id, application_id, OTHER_SERVICE_INSTITUTION))

    assert relations(client, person_id) == {
        (DISTRICT_ASSESSOR, "assessed"),
        (CITY_ASSESSOR, "referred"),
        (SERVICE_INSTITUTION, "item_approved"),
        (OTHER_SERVICE_INSTITUTION, "changed_to"),
    }


def test_a_second_assessment_by_the_same_institution_keeps_one_relation(client: TestClient) -> None:
    person_id = surveyed(client)

    deliver(client, assessed(person_id))
    deliver(client, assessed(person_id, assessed_on="2024-10-30"))

    assert relations(client, person_id) == {(DISTRICT_ASSESSOR, "assessed")}


def test_a_persons_year_moves_from_not_assessed_to_not_applied_to_awaiting_decision_to_decided(
    client: TestClient,
) -> None:
    person_id = surveyed(client)
    application_id = uuid4()
    stages = [stage_of(client, person_id)]
    assessment = assessed(person_id)

    deliver(client, assessment)
    stages.append(stage_of(client, person_id))
    deliver(client, referred(person_id, assessment.assessment_id))  # type: ignore[attr-defined]
    stages.append(stage_of(client, person_id))
    deliver(client, submitted(person_id, application_id))
    stages.append(stage_of(client, person_id))
    deliver(client, rejected(person_id, application_id))  # carries no year: the application's is used
    stages.append(stage_of(client, person_id))

    assert stages == ["not_assessed", "assessed", "not_applied", "awaiting_decision", "decided"]
    entry = next(entry for entry in worklist(client)["persons"] if entry["person_id"] == person_id)
    assert (entry["decision"], entry["assessed_on"], entry["applied_on"]) == (
        "rejected",
        "2024-10-22",
        "2024-10-25",
    )


def test_the_worklist_counts_each_stage_of_the_streets_persons_with_needs(client: TestClient) -> None:
    waiting = surveyed(client, "231")
    referred_one = surveyed(client, "251", name="王秀英")
    surveyed(client, "271", street="人和", community="人和社区")
    assessment = assessed(referred_one)
    deliver(client, assessment)
    deliver(client, referred(referred_one, assessment.assessment_id))  # type: ignore[attr-defined]

    yuanyang = worklist(client, street="鸳鸯")
    not_applied = worklist(client, street="鸳鸯", stage="not_applied")

    assert yuanyang["counts"] == {
        "with_needs": 2,
        "not_assessed": 1,
        "assessed": 0,
        "not_applied": 1,
        "awaiting_decision": 0,
        "decided": 0,
    }
    assert [entry["person_id"] for entry in yuanyang["persons"] if entry["stage"] == "not_assessed"] == [
        waiting
    ]
    assert [entry["name"] for entry in not_applied["persons"]] == ["王秀英"] and not_applied["total"] == 1
    pages = [worklist(client, street="鸳鸯", limit=1, offset=offset)["persons"] for offset in (0, 1)]
    assert [len(page) for page in pages] == [1, 1] and pages[0] != pages[1]
    assert worklist(client)["counts"]["with_needs"] == 3


def test_a_person_without_needs_or_forgotten_is_not_on_the_worklist(client: TestClient) -> None:
    forgotten = surveyed(client, "231")
    id_number = make_id(date(1960, 4, 12))
    body = person_body(id_number=id_number, certificate_number=id_number + "12", birth_date="1960-04-12")
    without_needs = str(client.post("/persons", json=body).json()["person_id"])
    no_needs = {**SURVEY, "has_needs": False, "needed_items": []}
    assert client.post(f"/persons/{without_needs}/surveys", json=no_needs).status_code == 201
    assert client.post(f"/persons/{forgotten}/forget").status_code == 200

    assert worklist(client)["persons"] == []
