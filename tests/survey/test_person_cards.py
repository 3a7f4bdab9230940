"""Names across agencies: the registry releases 姓名 (and 附件1 basic information) to other agencies' pages,
within each caller's scope, and audits each person released with the caller's purpose (ADR 0016)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote
from uuid import UUID, uuid4

import pytest
import redis
from fastapi.testclient import TestClient

from services.survey.app import create_app
from tests.access.principals import Deployment, audit_entries, served
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
)
from tests.survey.people import make_id, person_body

CARDS = "/persons/cards:batch"


@dataclass
class Registry:
    client: TestClient
    deployment: Deployment
    yuanyang: str
    renhe: str

    def cards(self, headers: dict[str, str], *person_ids: str, purpose: str = "审批：申请列表") -> Any:
        response = self.client.post(
            CARDS, json={"person_ids": list(person_ids)}, headers={**headers, "X-Purpose": quote(purpose)}
        )
        assert response.status_code == 200, response.text
        return response.json()

    def names(self, headers: dict[str, str], *person_ids: str) -> dict[str, str]:
        return {card["person_id"]: card["name"] for card in self.cards(headers, *person_ids)["cards"]}

    def survey(self, person_id: str, **changes: Any) -> None:
        body = {
            "survey_year": 2024,
            "surveyed_on": "2024-10-15",
            "has_needs": True,
            "needed_items": ["low_vision_training"],
            "home_visit_required": False,
            "surveyor": "张丽",
            **changes,
        }
        clerk = self.deployment.bearer("鸳鸯干事", "survey", "district")
        response = self.client.post(f"/persons/{person_id}/surveys", json=body, headers=clerk)
        assert response.status_code == 201, response.text


@pytest.fixture
def registry(tmp_path: Path, redis_url: str, redis_client: redis.Redis) -> Iterator[Registry]:
    deployment = Deployment(tmp_path / "access")
    clerk = deployment.bearer("区干事", "survey", "district")
    with served(create_app, "survey", tmp_path, redis_url, deployment.folder) as client:
        yuanyang = client.post("/persons", json=person_body(), headers=clerk).json()["person_id"]
        other = person_body(street="人和", community="人和社区", name="赵兰", id_number=make_id_of_woman())
        other["certificate_number"] = other["id_number"] + "12"
        other["sex"] = "female"
        renhe = client.post("/persons", json=other, headers=clerk)
        assert renhe.status_code == 201, renhe.text
        yield Registry(client, deployment, yuanyang, renhe.json()["person_id"])


def make_id_of_woman() -> str:
    return make_id(date(1958, 4, 12), "242")


def test_a_district_user_of_another_agency_reads_the_name_of_any_person(registry: Registry) -> None:
    office = registry.deployment.bearer("区残联办经办", "approval", "district", "handler")

    names = registry.names(office, registry.yuanyang, registry.renhe)

    assert names == {registry.yuanyang: "李明", registry.renhe: "赵兰"}


def test_a_street_user_reads_the_names_of_its_street_and_the_other_street_is_not_released(
    registry: Registry,
) -> None:
    street = registry.deployment.bearer("鸳鸯街道审核", "approval", "street:鸳鸯", "reviewer")

    answer = registry.cards(street, registry.yuanyang, registry.renhe)

    assert [card["name"] for card in answer["cards"]] == ["李明"]
    assert answer["not_released"] == [registry.renhe]


def test_a_community_user_reads_only_its_community(registry: Registry) -> None:
    own = registry.deployment.bearer("金渝社区", "approval", "community:鸳鸯/金渝社区", "handler")
    other = registry.deployment.bearer("桂花社区", "approval", "community:鸳鸯/桂花社区", "handler")

    assert registry.names(own, registry.yuanyang) == {registry.yuanyang: "李明"}
    assert registry.names(other, registry.yuanyang) == {}


def test_a_service_institution_reads_no_name_until_a_referral_or_an_approved_item_relates_it(
    registry: Registry,
) -> None:
    therapist = registry.deployment.bearer("康复师", "delivery", f"institution:{SERVICE_INSTITUTION}")
    other = registry.deployment.bearer("另一机构", "delivery", f"institution:{OTHER_SERVICE_INSTITUTION}")
    before = registry.names(therapist, registry.yuanyang)

    assessment = assessed(registry.yuanyang)
    deliver(registry.client, assessment)
    deliver(registry.client, referred(registry.yuanyang, assessment.assessment_id))  # type: ignore[attr-defined]

    assert before == {}
    assert registry.names(therapist, registry.yuanyang) == {registry.yuanyang: "李明"}
    assert registry.names(other, registry.yuanyang) == {}


def test_an_approved_item_and_a_change_of_institution_relate_their_institutions(registry: Registry) -> None:
    application_id = uuid4()
    first = registry.deployment.bearer("一院", "delivery", f"institution:{SERVICE_INSTITUTION}")
    second = registry.deployment.bearer("二院", "delivery", f"institution:{OTHER_SERVICE_INSTITUTION}")

    deliver(registry.client, approved(registry.renhe, application_id))
    assert registry.names(first, registry.renhe) == {registry.renhe: "赵兰"}
    assert registry.names(second, registry.renhe) == {}

    deliver(registry.client, changed(registry.renhe, application_id, OTHER_SERVICE_INSTITUTION))
    assert registry.names(second, registry.renhe) == {registry.renhe: "赵兰"}


def test_a_district_assessor_reads_who_awaits_a_first_assessment_and_a_city_one_only_escalations(
    registry: Registry,
) -> None:
    district = registry.deployment.bearer("评估员", "assessment", f"institution:{DISTRICT_ASSESSOR}")
    city = registry.deployment.bearer("市级评估", "assessment", f"institution:{CITY_ASSESSOR}")
    before_survey = registry.names(district, registry.yuanyang)
    registry.survey(registry.yuanyang)

    awaiting = registry.names(district, registry.yuanyang)
    city_before = registry.names(city, registry.yuanyang)
    assessment = assessed(registry.yuanyang, referral_needed=True)
    deliver(registry.client, assessment)
    deliver(registry.client, referred(registry.yuanyang, assessment.assessment_id, CITY_ASSESSOR))  # type: ignore[attr-defined]

    assert before_survey == {} and awaiting == {registry.yuanyang: "李明"}
    assert city_before == {} and registry.names(city, registry.yuanyang) == {registry.yuanyang: "李明"}
    another_district = registry.deployment.bearer(
        "二院评估", "assessment", "institution:lj-assess-second-hospital"
    )
    assert registry.names(another_district, registry.yuanyang) == {}  # assessed: no longer awaiting anyone


def test_a_forgotten_person_is_not_released(registry: Registry) -> None:
    head = registry.deployment.bearer("区负责人", "survey", "district", "responsible")
    office = registry.deployment.bearer("区残联办经办", "approval", "district", "handler")
    assert registry.client.post(f"/persons/{registry.renhe}/forget", headers=head).status_code == 200

    answer = registry.cards(office, registry.yuanyang, registry.renhe, str(uuid4()))

    assert [card["name"] for card in answer["cards"]] == ["李明"]
    assert len(answer["not_released"]) == 2 and registry.renhe in answer["not_released"]


def test_the_basic_information_goes_to_agencies_that_print_the_forms_and_the_name_alone_to_others(
    registry: Registry,
) -> None:
    office = registry.deployment.bearer("区残联办经办", "approval", "district", "handler")
    assessor = registry.deployment.bearer("区评估", "assessment", "district")

    full = registry.cards(office, registry.yuanyang)["cards"][0]
    short = registry.cards(assessor, registry.yuanyang)["cards"][0]

    assert full["id_number"] == person_body()["id_number"]
    assert full["disability_certificate_number"] == person_body()["id_number"] + "12"
    assert (full["sex"], full["birth_date"], full["phone"]) == ("male", "1958-04-12", "13800138000")
    assert full["disability_categories"] == ["vision"] and full["disability_grade"] == "grade_2"
    assert short["name"] == "李明" and short["street"] == "鸳鸯" and short["community"] == "金渝社区"
    assert short["id_number"] is None and short["phone"] is None and short["address"] is None


def test_the_basic_information_carries_what_the_approval_form_prints_of_the_person_and_the_guardian(
    registry: Registry,
) -> None:
    clerk = registry.deployment.bearer("区干事", "survey", "district")
    guardian = {"name": "王芳", "sex": "female", "phone": "13900139000", "relation": "母亲"}
    guardian["id_number"] = make_id(date(1985, 3, 15), "242")
    child_id = make_id(date(2019, 6, 1), "124")
    body = person_body(
        name="李小雨", sex="female", birth_date="2019-06-01", id_number=child_id, certificate_number=None
    )
    body |= {"disability_categories": ["hearing"], "disability_grade": "ungraded", "guardian": guardian}
    body |= {"medical_insurance": ["urban_rural_resident", "medical_aid"]}
    registered = registry.client.post("/persons", json=body, headers=clerk)
    assert registered.status_code == 201, registered.text
    office = registry.deployment.bearer("区残联办经办", "approval", "district", "handler")
    assessor = registry.deployment.bearer("区评估", "assessment", "district")

    full = registry.cards(office, registered.json()["person_id"])["cards"][0]
    short = registry.cards(assessor, registry.yuanyang)["cards"][0]

    assert (full["ethnicity"], full["household_registration"], full["residence"]) == (
        "汉族",
        "重庆市渝北区",
        "重庆市两江新区鸳鸯街道",
    )
    assert full["medical_insurance"] == ["urban_rural_resident", "medical_aid"]
    assert (full["guardian_name"], full["guardian_sex"], full["guardian_id_number"]) == (
        "王芳",
        "female",
        guardian["id_number"],
    )
    assert short["ethnicity"] is None and short["residence"] is None and short["medical_insurance"] is None
    assert short["guardian_id_number"] is None


def test_each_released_person_is_audited_with_the_callers_purpose(registry: Registry) -> None:
    street = registry.deployment.bearer("鸳鸯街道审核", "approval", "street:鸳鸯", "reviewer")

    registry.cards(street, registry.yuanyang, registry.renhe, purpose="审批：街道审核")
    audited = [entry for entry in audit_entries(registry.client) if "cards:batch" in entry.action]

    assert [(entry.agency, entry.subject, entry.purpose) for entry in audited] == [
        ("approval", registry.yuanyang, "审批：街道审核")
    ]


def test_an_auditor_reads_cards_though_the_request_is_a_post(registry: Registry) -> None:
    assert registry.names(registry.deployment.auditor(), registry.renhe) == {registry.renhe: "赵兰"}


def test_an_agency_not_entitled_to_names_or_a_missing_token_is_refused(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = registry.client.app.state.card_release  # type: ignore[attr-defined]
    monkeypatch.setattr(
        registry.client.app.state,  # type: ignore[attr-defined]
        "card_release",
        type(release)(release.verifier, frozenset({"settlement"}), frozenset({"settlement"})),
    )
    therapist = registry.deployment.bearer("康复师", "delivery", "district")

    refused = registry.client.post(CARDS, json={"person_ids": [registry.yuanyang]}, headers=therapist)
    anonymous = registry.client.post(CARDS, json={"person_ids": [registry.yuanyang]})

    assert refused.status_code == 403 and refused.json()["code"] == "survey.cards.not_entitled"
    assert anonymous.status_code == 401


@pytest.mark.parametrize(
    "body",
    [{"person_ids": []}, {"person_ids": [str(uuid4()) for _ in range(501)]}, {"person_ids": ["李明"]}, {}],
)
def test_a_request_without_ids_with_too_many_or_with_a_wrong_id_is_a_422_naming_the_field(
    registry: Registry, body: dict[str, Any]
) -> None:
    office = registry.deployment.bearer("区残联办经办", "approval", "district", "handler")

    answer = registry.client.post(CARDS, json=body, headers=office)

    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["errors"][0]["field"].startswith("person_ids")


def test_the_route_is_documented_with_its_answer_and_refusals(registry: Registry) -> None:
    operation = registry.client.get("/openapi.json").json()["paths"][CARDS]["post"]

    assert {"200", "401", "403", "422"} <= set(operation["responses"])
    assert operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/Cards")


def test_unrelated_ids_keep_their_order_and_each_is_listed_once(registry: Registry) -> None:
    office = registry.deployment.bearer("区残联办经办", "approval", "district", "handler")
    unknown = str(uuid4())

    answer = registry.cards(office, registry.renhe, unknown, registry.yuanyang, registry.renhe)

    assert [UUID(card["person_id"]) for card in answer["cards"]] == [
        UUID(registry.renhe),
        UUID(registry.yuanyang),
    ]
    assert answer["not_released"] == [unknown]


def test_a_street_clerk_reads_the_worklist_of_its_own_street_only(registry: Registry) -> None:
    clerk = registry.deployment.bearer("鸳鸯干事", "survey", "street:鸳鸯")
    registry.survey(registry.yuanyang)

    own = registry.client.get("/worklist", params={"year": 2024}, headers=clerk)
    other = registry.client.get("/worklist", params={"year": 2024, "street": "人和"}, headers=clerk)

    assert [entry["name"] for entry in own.json()["persons"]] == ["李明"]
    assert other.status_code == 403 and other.json()["code"] == "access.other_street"
