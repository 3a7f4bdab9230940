"""Builders for the assessment tests: Liangjiang's institutions, surveyed cases, requests."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any
from uuid import UUID, uuid4

from kernel.reference import load_jurisdiction
from services.assessment.domain import (
    Assessment,
    AssessmentCompleted,
    AssessmentRequest,
    CaseFacts,
    ReferralRequest,
    SurveyedNeeds,
)
from services.assessment.translation import network_of

NETWORK = network_of(load_jurisdiction("liangjiang"))
TODAY = date(2024, 11, 1)
PERSON = UUID("7f0c1e9a-2d3b-4c5d-8e9f-0a1b2c3d4e5f")
DISTRICT_FIRST = "lj-assess-first-hospital"
DISTRICT_SECOND = "lj-assess-second-hospital"
CITY = "cq-assess-cqmu-second"


def surveyed(**changes: Any) -> SurveyedNeeds:
    needs = SurveyedNeeds(
        person_id=PERSON,
        year=2024,
        has_needs=True,
        needed_items=("orientation_mobility_training",),
        home_visit_required=False,
        surveyed_on=date(2024, 10, 15),
        survey_event_id=uuid4(),
    )
    return replace(needs, **changes)


def case(**changes: Any) -> CaseFacts:
    return replace(CaseFacts(survey=surveyed()), **changes)


def request(**changes: Any) -> AssessmentRequest:
    base = AssessmentRequest(
        person_id=PERSON,
        assessment_year=2024,
        institution_id=DISTRICT_FIRST,
        assessor="陈医生",
        assessed_on=date(2024, 10, 22),
        mode="at_institution",
        assessed_needs=("orientation_mobility_training",),
        referral_needed=True,
        opinion="建议定向行走训练",
    )
    return replace(base, **changes)


def complete(facts: CaseFacts | None = None, **changes: Any) -> AssessmentCompleted:
    return Assessment().complete(request(**changes), case=facts or case(), network=NETWORK, today=TODAY)[0]


def referral(**changes: Any) -> ReferralRequest:
    base = ReferralRequest(
        to_institution_id="lj-first-hospital",
        to_kind="service_institution",
        items=("orientation_mobility_training",),
        issued_on=date(2024, 10, 22),
    )
    return replace(base, **changes)
