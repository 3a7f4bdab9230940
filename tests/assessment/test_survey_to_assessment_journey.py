"""Journey over real Redis: a street surveys a person, a district institution assesses and refers."""

from __future__ import annotations

import time
from pathlib import Path

import redis
from fastapi.testclient import TestClient

from kernel.runtime import ServiceSettings
from services.assessment.app import create_app as create_assessment_app
from services.survey.app import create_app as create_survey_app
from tests.survey.people import person_body


def test_a_surveyed_person_with_needs_is_assessed_and_referred(
    tmp_path: Path, redis_url: str, redis_client: redis.Redis
) -> None:
    survey_settings = ServiceSettings(
        service="survey", database_url=f"sqlite:///{tmp_path}/s.db", redis_url=redis_url
    )
    assessment_settings = ServiceSettings(
        service="assessment", database_url=f"sqlite:///{tmp_path}/a.db", redis_url=redis_url
    )
    with (
        TestClient(create_survey_app(survey_settings)) as survey,
        TestClient(create_assessment_app(assessment_settings)) as assessment,
    ):
        person_id = survey.post("/persons", json=person_body()).json()["person_id"]
        surveyed = survey.post(
            f"/persons/{person_id}/surveys",
            json={
                "survey_year": 2024,
                "surveyed_on": "2024-10-15",
                "has_needs": True,
                "needed_items": ["orientation_mobility_training"],
                "surveyor": "张丽",
            },
        )
        assert surveyed.status_code == 201, surveyed.text

        deadline = time.monotonic() + 10
        worklist: list[dict] = []
        while time.monotonic() < deadline and not worklist:
            worklist = assessment.get("/worklist", params={"year": 2024, "street": "鸳鸯"}).json()["items"]
            time.sleep(0.05)
        assert [entry["person_id"] for entry in worklist] == [person_id]

        created = assessment.post(
            "/assessments",
            json={
                "institution_id": "lj-assess-first-hospital",
                "person_id": person_id,
                "assessment_year": 2024,
                "assessor": "陈医生",
                "assessed_on": "2024-10-22",
                "mode": "at_institution",
                "assessed_needs": ["orientation_mobility_training"],
                "referral_needed": True,
            },
        )
        assert created.status_code == 201, created.text
        assessment_id = created.json()["assessment_id"]
        referred = assessment.post(
            f"/assessments/{assessment_id}/referrals",
            json={
                "to_institution_id": "lj-first-hospital",
                "to_kind": "service_institution",
                "items": ["orientation_mobility_training"],
                "issued_on": "2024-10-22",
            },
        )
        assert referred.status_code == 201, referred.text
        assert assessment.get(f"/assessments/{assessment_id}").json()["referred"] is True
