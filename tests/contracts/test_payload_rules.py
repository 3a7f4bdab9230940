"""Payloads refuse what cannot have happened: the invariants each contract checks on its own."""

from __future__ import annotations

from typing import Any, TypeVar

import pytest
from pydantic import ValidationError
from rehab_contracts import (
    ApplicationApproved,
    ApplicationAttachmentsAdded,
    ApplicationSubmitted,
    EventPayload,
    NeedSurveyed,
    PersonDetailsCorrected,
    PersonRegistered,
    ReferralIssued,
    ServiceDelivered,
)
from rehab_contracts.examples import example_payload

Payload = TypeVar("Payload", bound=EventPayload)


def with_changes(payload_class: type[Payload], **changes: Any) -> Payload:
    """The documented example of ``payload_class`` with some fields replaced, validated afresh."""
    return payload_class.model_validate(example_payload(payload_class).model_dump(mode="json") | changes)


def test_a_service_period_cannot_end_before_it_starts() -> None:
    with pytest.raises(ValidationError, match="period_end"):
        with_changes(
            ServiceDelivered, period_start="2024-11-01", period_end="2024-10-31", signed_on="2024-11-01"
        )


def test_a_service_cannot_be_signed_for_before_it_started() -> None:
    with pytest.raises(ValidationError, match="signed_on"):
        with_changes(ServiceDelivered, signed_on="2024-10-01")


def test_insurance_cannot_pay_more_than_the_charge() -> None:
    with pytest.raises(ValidationError, match="insurance_paid_fen"):
        with_changes(ServiceDelivered, charge_fen=1000, insurance_paid_fen=1001)


@pytest.mark.parametrize("amount", [1500.5, 1500.0, "1500", -1])
def test_money_is_a_whole_non_negative_number_of_fen(amount: Any) -> None:
    with pytest.raises(ValidationError):
        with_changes(ServiceDelivered, charge_fen=amount)


def test_a_person_has_at_least_one_disability_category() -> None:
    with pytest.raises(ValidationError):
        with_changes(PersonRegistered, disability_categories=[])


def test_a_disability_category_is_listed_once() -> None:
    with pytest.raises(ValidationError, match="repeated"):
        with_changes(PersonRegistered, disability_categories=["vision", "vision"])


def test_no_insurance_cannot_be_ticked_with_an_insurance() -> None:
    with pytest.raises(ValidationError, match="none"):
        with_changes(PersonRegistered, medical_insurance=["none", "medical_aid"])


def test_an_uncertified_child_needs_no_certificate_number() -> None:
    person = with_changes(PersonRegistered, certificate_number=None, veteran_certificate_number=None)
    assert person.certificate_number is None


@pytest.mark.parametrize("id_number", ["5001121958041223", "50011219580412231x", "50011219580412231XX"])
def test_an_id_number_is_eighteen_digits_or_seventeen_and_an_x(id_number: str) -> None:
    with pytest.raises(ValidationError):
        with_changes(PersonRegistered, id_number=id_number)


def test_a_correction_must_change_at_least_one_detail() -> None:
    with pytest.raises(ValidationError, match="at least one detail"):
        PersonDetailsCorrected.model_validate(
            {"person_id": "7f0c1e9a-2d3b-4c5d-8e9f-0a1b2c3d4e5f", "reason": "核对"}
        )


def test_a_person_with_needs_has_needed_items() -> None:
    with pytest.raises(ValidationError, match="needed_items"):
        with_changes(NeedSurveyed, has_needs=True, needed_items=[])


def test_a_person_without_needs_has_no_needed_items() -> None:
    with pytest.raises(ValidationError, match="needed_items"):
        with_changes(NeedSurveyed, has_needs=False)
    assert with_changes(NeedSurveyed, has_needs=False, needed_items=[]).needed_items == []


@pytest.mark.parametrize("month", ["1958-4", "1958-13", "195804", "1958-04-12"])
def test_a_birth_month_is_written_year_dash_month(month: str) -> None:
    with pytest.raises(ValidationError):
        with_changes(NeedSurveyed, birth_month=month)


def test_a_referral_to_a_service_institution_names_the_items() -> None:
    with pytest.raises(ValidationError, match="at least one item"):
        with_changes(ReferralIssued, items=[])
    escalation = with_changes(
        ReferralIssued, items=[], to_kind="assessment_institution", to_institution_id="cq-city"
    )
    assert escalation.items == []


def test_a_referral_goes_to_another_institution() -> None:
    with pytest.raises(ValidationError, match="another institution"):
        with_changes(ReferralIssued, to_institution_id="lj-district-assessment-centre")


def test_cataract_surgery_names_the_eyes_and_no_other_item_does() -> None:
    with pytest.raises(ValidationError, match="eyes"):
        with_changes(ApplicationSubmitted, requested_items=[{"item": "cataract_surgery"}])
    with pytest.raises(ValidationError, match="eyes"):
        with_changes(
            ApplicationSubmitted, requested_items=[{"item": "low_vision_training", "eyes": ["left"]}]
        )


def test_the_self_purchased_device_subsidy_says_whether_the_person_is_poor() -> None:
    with pytest.raises(ValidationError, match="poor"):
        with_changes(ApplicationSubmitted, requested_items=[{"item": "self_purchased_device_subsidy"}])
    application = with_changes(
        ApplicationSubmitted, requested_items=[{"item": "self_purchased_device_subsidy", "poor": True}]
    )
    assert application.requested_items[0].poor is True


def test_an_item_is_requested_once_per_application() -> None:
    item = {"item": "assistive_device_fitting"}
    with pytest.raises(ValidationError, match="repeated"):
        with_changes(ApplicationSubmitted, requested_items=[item, item])


def test_a_fixed_amount_subsidy_has_an_amount_and_a_free_one_has_none() -> None:
    fixed = {
        "item": "cataract_surgery",
        "institution_id": "lj-first-peoples-hospital",
        "subsidy_mode": "fixed_amount",
    }
    with pytest.raises(ValidationError, match="amount_fen"):
        with_changes(ApplicationApproved, approved_items=[fixed])
    with pytest.raises(ValidationError, match="amount_fen"):
        with_changes(
            ApplicationApproved, approved_items=[fixed | {"subsidy_mode": "free", "amount_fen": 100}]
        )


@pytest.mark.parametrize("amount", [0, -100])
def test_a_fixed_amount_subsidy_is_above_zero(amount: int) -> None:
    fixed = {
        "item": "cataract_surgery",
        "institution_id": "lj-first-peoples-hospital",
        "subsidy_mode": "fixed_amount",
        "amount_fen": amount,
    }
    with pytest.raises(ValidationError, match="greater than 0"):
        with_changes(ApplicationApproved, approved_items=[fixed])


def test_an_application_stored_before_the_declared_fields_reads_as_certified_and_undeclared() -> None:
    stored = example_payload(ApplicationSubmitted).model_dump(mode="json")
    for field in ("economic_status", "disability_categories", "certified"):
        del stored[field]
    application = ApplicationSubmitted.model_validate(stored)
    assert application.certified is True
    assert application.economic_status is None
    assert application.disability_categories == []


def test_an_uncertified_child_applies_without_a_certificate_copy() -> None:
    application = with_changes(
        ApplicationSubmitted,
        certified=False,
        attachments=["id_card_copy", "household_register_copy", "service_handbook"],
    )
    assert application.certified is False


def test_a_disability_category_is_declared_once_on_an_application() -> None:
    with pytest.raises(ValidationError, match="repeated"):
        with_changes(ApplicationSubmitted, disability_categories=["vision", "vision"])


def test_attachments_handed_in_later_name_at_least_one_document_once() -> None:
    with pytest.raises(ValidationError):
        with_changes(ApplicationAttachmentsAdded, attachments=[])
    with pytest.raises(ValidationError, match="repeated"):
        with_changes(ApplicationAttachmentsAdded, attachments=["service_handbook", "service_handbook"])


def test_an_approved_item_names_its_institution_unless_it_is_reimbursed_to_the_person() -> None:
    with pytest.raises(ValidationError, match="institution_id"):
        with_changes(
            ApplicationApproved, approved_items=[{"item": "cataract_surgery", "subsidy_mode": "free"}]
        )
    reimbursed = {
        "item": "self_purchased_device_subsidy",
        "subsidy_mode": "fixed_amount",
        "amount_fen": 50000,
    }
    assert (
        with_changes(ApplicationApproved, approved_items=[reimbursed]).approved_items[0].institution_id
        is None
    )


def test_an_item_cannot_be_both_approved_and_refused() -> None:
    with pytest.raises(ValidationError, match="repeated"):
        with_changes(ApplicationApproved, rejected_items=[{"item": "cataract_surgery", "reason": "重复"}])


def test_an_approval_approves_at_least_one_item() -> None:
    with pytest.raises(ValidationError):
        with_changes(ApplicationApproved, approved_items=[])
