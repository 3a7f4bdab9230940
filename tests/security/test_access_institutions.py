"""Institutions with access control on: an assessment institution sees and records only the persons
addressed to it, a service institution only its own services; settlement's commands need the district."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient

from services.assessment.app import create_app as create_assessment
from services.delivery.app import create_app as create_delivery
from services.settlement.app import create_app as create_settlement
from tests.access.principals import Deployment, code_of, served
from tests.assessment.cases import CITY, DISTRICT_FIRST, DISTRICT_SECOND
from tests.assessment.test_assessment_api import assessment_body, referral_body, surveyed_person
from tests.delivery.test_api import approved, consume, service


@pytest.fixture
def deployment(tmp_path: Path) -> Deployment:
    return Deployment(tmp_path / "access")


@pytest.fixture
def assessment(
    tmp_path: Path, redis_url: str, redis_client: redis.Redis, deployment: Deployment
) -> Iterator[TestClient]:
    with served(create_assessment, "assessment", tmp_path, redis_url, deployment.folder) as client:
        yield client


@pytest.fixture
def delivery(
    tmp_path: Path, redis_url: str, redis_client: redis.Redis, deployment: Deployment
) -> Iterator[TestClient]:
    with served(create_delivery, "delivery", tmp_path, redis_url, deployment.folder) as client:
        yield client


def assessor(deployment: Deployment, institution: str) -> dict[str, str]:
    return deployment.bearer(f"医生@{institution}", "assessment", f"institution:{institution}")


def test_an_assessment_institution_records_assessments_only_in_its_own_name(
    assessment: TestClient, deployment: Deployment
) -> None:
    person_id, _ = surveyed_person(assessment)
    body = assessment_body(person_id, institution_id=DISTRICT_FIRST)
    refused = assessment.post("/assessments", json=body, headers=assessor(deployment, DISTRICT_SECOND))
    assert code_of(refused) == "access.other_institution"
    assert (
        assessment.post("/assessments", json=body, headers=assessor(deployment, DISTRICT_FIRST)).status_code
        == 201
    )


def test_an_assessment_institution_sees_its_own_assessments_and_those_escalated_to_it(
    assessment: TestClient, deployment: Deployment
) -> None:
    person_id, _ = surveyed_person(assessment)
    first = assessor(deployment, DISTRICT_FIRST)
    created = assessment.post("/assessments", json=assessment_body(person_id), headers=first).json()
    path = f"/assessments/{created['assessment_id']}"
    assert assessment.get(path, headers=first).status_code == 200
    assert (
        code_of(assessment.get(path, headers=assessor(deployment, DISTRICT_SECOND)))
        == "access.other_institution"
    )
    assert code_of(assessment.get(path, headers=assessor(deployment, CITY))) == "access.other_institution"
    listed = assessment.get("/assessments", headers=assessor(deployment, DISTRICT_SECOND)).json()
    assert listed["total"] == 0
    refused = assessment.get(
        f"/assessments?institution_id={DISTRICT_FIRST}", headers=assessor(deployment, CITY)
    )
    assert code_of(refused) == "access.other_institution"
    district = deployment.bearer("区残联", "assessment", "district")
    assert assessment.get("/assessments", headers=district).json()["total"] == 1


def test_only_the_assessing_institution_refers_its_assessment(
    assessment: TestClient, deployment: Deployment
) -> None:
    person_id, _ = surveyed_person(assessment)
    first = assessor(deployment, DISTRICT_FIRST)
    created = assessment.post("/assessments", json=assessment_body(person_id), headers=first).json()
    path = f"/assessments/{created['assessment_id']}/referrals"
    other = assessment.post(path, json=referral_body(), headers=assessor(deployment, DISTRICT_SECOND))
    assert code_of(other) == "access.other_institution"
    assert assessment.post(path, json=referral_body(), headers=first).status_code == 201


def test_an_institutions_worklist_is_its_own(assessment: TestClient, deployment: Deployment) -> None:
    surveyed_person(assessment)
    headers = assessor(deployment, DISTRICT_FIRST)
    assert assessment.get("/worklist?year=2024", headers=headers).json()["total"] == 1
    other = assessment.get(f"/worklist?year=2024&institution_id={DISTRICT_SECOND}", headers=headers)
    assert code_of(other) == "access.other_institution"


def test_a_service_institution_records_and_sees_only_its_own_services(
    delivery: TestClient, deployment: Deployment
) -> None:
    approval = approved()
    consume(delivery, approval)
    own = deployment.bearer("刘康复师", "delivery", "institution:cqmu-second")
    other = deployment.bearer("李康复师", "delivery", "institution:lj-first-hospital")
    assert (
        code_of(delivery.post("/deliveries", json=service(approval), headers=other))
        == "access.other_institution"
    )
    recorded = delivery.post("/deliveries", json=service(approval), headers=own)
    assert recorded.status_code == 201, recorded.text
    path = f"/deliveries/{recorded.json()['delivery_id']}"
    assert code_of(delivery.get(path, headers=other)) == "access.other_institution"
    assert delivery.get("/deliveries", headers=other).json() == []
    assert delivery.get("/entitlements", headers=other).json() == []
    assert len(delivery.get("/deliveries", headers=own).json()) == 1
    assert len(delivery.get("/entitlements", headers=own).json()) == 1
    assert delivery.get(path, headers=deployment.auditor()).status_code == 200


def test_settlement_is_read_only_except_for_the_districts_commands(
    tmp_path: Path, redis_url: str, redis_client: redis.Redis, deployment: Deployment
) -> None:
    with served(create_settlement, "settlement", tmp_path, redis_url, deployment.folder) as settlement:
        street = deployment.bearer("鸳鸯出纳", "settlement", "street:鸳鸯")
        assert code_of(settlement.get("/ledger", headers=street)) == "access.district_only"
        assert code_of(settlement.post("/ledger/rebuild", headers=street)) == "access.command_scope"
        assert code_of(settlement.post("/ledger/rebuild", headers=deployment.auditor())) == "access.read_only"
        assert settlement.get("/ledger", headers=deployment.auditor()).status_code == 200
        district = deployment.bearer("财务科", "settlement", "district")
        assert settlement.post("/ledger/rebuild", headers=district).status_code == 200


def test_a_city_institution_sees_the_district_assessment_that_escalated_the_person_to_it(
    assessment: TestClient, deployment: Deployment
) -> None:
    person_id, _ = surveyed_person(assessment, needed_items=["cataract_surgery"])
    first = assessor(deployment, DISTRICT_FIRST)
    body = assessment_body(person_id, assessed_needs=["cataract_surgery"], referral_needed=True)
    created = assessment.post("/assessments", json=body, headers=first).json()
    path = f"/assessments/{created['assessment_id']}"
    city = assessor(deployment, CITY)
    assert code_of(assessment.get(path, headers=city)) == "access.other_institution"
    escalation = referral_body(
        to_institution_id=CITY, to_kind="assessment_institution", items=["cataract_surgery"]
    )
    assert assessment.post(f"{path}/referrals", json=escalation, headers=first).status_code == 201
    assert assessment.get(path, headers=city).status_code == 200
    worklist = assessment.get("/worklist?year=2024", headers=city).json()["items"]
    assert [entry["person_id"] for entry in worklist] == [str(person_id)]
