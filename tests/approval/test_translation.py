"""Every application event survives the trip domain -> contract -> domain, so the state is its events."""

from __future__ import annotations

from datetime import date
from uuid import UUID

import pytest
from rehab_contracts import ApplicationAttachmentsAdded, ApplicationSubmitted
from rehab_contracts.examples import example_payload

from services.approval.events import (
    ApplicationApproved,
    ApplicationEvent,
    ApplicationRejected,
    ApplicationReviewed,
    AttachmentsAdded,
    ItemApproval,
    ItemRejection,
    RequestedItem,
    Signatories,
    Submission,
)
from services.approval.events import ApplicationSubmitted as Submitted
from services.approval.translation import contract_payload, domain_event

APPLICATION = UUID("c4e6a8b0-2d4f-4b6d-9e1a-3c5e7a9b1d3f")
FORM = Submission(
    person_id=UUID("7f0c1e9a-2d3b-4c5d-8e9f-0a1b2c3d4e5f"),
    application_year=2024,
    street="鸳鸯",
    serial_number="2024-015",
    requested_items=(
        RequestedItem("cataract_surgery", eyes=("left", "right"), nutrition_allowance=True),
        RequestedItem("low_vision_training", institution_id="cqmu-second"),
    ),
    attachments=frozenset({"id_card_copy", "household_register_copy"}),
    economic_status="subsistence_allowance",
    disability_categories=frozenset({"vision", "physical"}),
    applicant_role="guardian",
    submitted_on=date(2024, 10, 25),
    referral_id=UUID("5d3f7a9c-1b4e-4d8f-a2c6-3e5f7a9b1c3d"),
    certified=False,
)
OFFICE = Signatories(responsible="赵主任", reviewer="钱科长", handler="孙干事")

EVENTS: list[ApplicationEvent] = [
    Submitted(APPLICATION, FORM),
    AttachmentsAdded(
        APPLICATION, frozenset({"service_handbook", "subsistence_certificate_copy"}), date(2024, 10, 27)
    ),
    ApplicationReviewed(
        APPLICATION, "community", True, "情况属实", Signatories("周书记", "吴干事"), date(2024, 10, 28)
    ),
    ApplicationApproved(
        APPLICATION,
        "LJ2024-000001",
        (ItemApproval("cataract_surgery", "fixed_amount", "lj-first-hospital", 120000),),
        (ItemRejection("low_vision_training", "名额已满"),),
        OFFICE,
        date(2024, 11, 1),
    ),
    ApplicationRejected(APPLICATION, "不符合条件", OFFICE, date(2024, 11, 1)),
]


@pytest.mark.parametrize("event", EVENTS, ids=lambda event: type(event).__name__)
def test_each_application_event_comes_back_unchanged_from_its_contract_payload(
    event: ApplicationEvent,
) -> None:
    assert domain_event(contract_payload(event, FORM)) == event


def test_attachments_added_are_published_with_the_applicant() -> None:
    payload = contract_payload(EVENTS[1], FORM)
    assert isinstance(payload, ApplicationAttachmentsAdded)
    assert payload.person_id == FORM.person_id
    assert payload.attachments == ["service_handbook", "subsistence_certificate_copy"]


def test_a_submission_stored_without_the_new_fields_reads_as_certified_and_undeclared() -> None:
    stored = example_payload(ApplicationSubmitted).model_dump(mode="json")
    for field in ("economic_status", "disability_categories", "certified"):
        stored.pop(field)
    event = domain_event(ApplicationSubmitted.model_validate(stored))
    assert isinstance(event, Submitted)
    assert event.submission.certified is True
    assert event.submission.economic_status is None
    assert event.submission.disability_categories == frozenset()
