"""The edge where contract payloads become settlement facts: one translator per fact type (see fact_types)."""

from __future__ import annotations

from rehab_contracts import EventEnvelope
from rehab_contracts.events import (
    ApplicationApproved,
    ApplicationRejected,
    ApplicationSubmitted,
    AssessmentCompleted,
    InstitutionChangeApproved,
    NeedSurveyed,
    ServiceDelivered,
)

from kernel.domain.clock import business_date
from services.settlement.book.facts import (
    ApplicationDescribed,
    ApplicationRefused,
    ApprovedItem,
    InstitutionChanged,
    ItemsApproved,
    PersonAssessed,
    PersonSurveyed,
    ServiceRecorded,
)


def person_surveyed(envelope: EventEnvelope, survey: NeedSurveyed) -> PersonSurveyed:
    return PersonSurveyed(
        event_id=str(envelope.event_id),
        person=str(survey.person_id),
        year=survey.survey_year,
        street=survey.street,
        has_needs=survey.has_needs,
        surveyed_on=survey.surveyed_on,
        supersedes=None if survey.supersedes_event_id is None else str(survey.supersedes_event_id),
        recorded_on=business_date(envelope.recorded_at),
        birth_month=survey.birth_month,
        categories=",".join(category.value for category in survey.disability_categories),
        economic_status=survey.economic_status.value,
        certified=survey.certified,
        subtypes=",".join(subtype.value for subtype in survey.disability_subtypes),
        hardship=",".join(status.value for status in survey.hardship_statuses),
        residence_permit=survey.residence_permit,
    )


def person_assessed(envelope: EventEnvelope, assessment: AssessmentCompleted) -> PersonAssessed:
    return PersonAssessed(
        event_id=str(envelope.event_id),
        person=str(assessment.person_id),
        year=assessment.assessment_year,
        institution=assessment.institution_id,
        level=assessment.institution_level.value,
        assessed_on=assessment.assessed_on,
    )


def items_approved(envelope: EventEnvelope, approval: ApplicationApproved) -> ItemsApproved:
    return ItemsApproved(
        event_id=str(envelope.event_id),
        application=str(approval.application_id),
        person=str(approval.person_id),
        year=approval.application_year,
        items=tuple(
            ApprovedItem(
                item=approved.item.value,
                institution=approved.institution_id,
                mode=approved.subsidy_mode.value,
                amount_fen=approved.amount_fen,
            )
            for approved in approval.approved_items
        ),
        approved_on=approval.approved_on,
        recorded_on=business_date(envelope.recorded_at),
        area=approval.street,
    )


def application_refused(envelope: EventEnvelope, rejection: ApplicationRejected) -> ApplicationRefused:
    return ApplicationRefused(
        event_id=str(envelope.event_id),
        application=str(rejection.application_id),
        person=str(rejection.person_id),
        refused_on=rejection.rejected_on,
    )


def service_recorded(envelope: EventEnvelope, delivery: ServiceDelivered) -> ServiceRecorded:
    return ServiceRecorded(
        event_id=str(envelope.event_id),
        delivery=str(delivery.delivery_id),
        application=str(delivery.application_id),
        person=str(delivery.person_id),
        item=delivery.item.value,
        institution=delivery.institution_id,
        year=delivery.service_year,
        charge_fen=delivery.charge_fen,
        insurance_paid_fen=delivery.insurance_paid_fen,
        signed=delivery.signed_by is not None,
        signed_on=delivery.signed_on,
        recorded_on=business_date(envelope.recorded_at),
        period_start=delivery.period_start,
        period_end=delivery.period_end,
    )


def institution_changed(envelope: EventEnvelope, change: InstitutionChangeApproved) -> InstitutionChanged:
    return InstitutionChanged(
        event_id=str(envelope.event_id),
        application=str(change.application_id),
        item=change.item.value,
        from_institution=change.from_institution_id,
        to_institution=change.to_institution_id,
        approved_on=change.approved_on,
        recorded_on=business_date(envelope.recorded_at),
    )


def application_described(envelope: EventEnvelope, submission: ApplicationSubmitted) -> ApplicationDescribed:
    return ApplicationDescribed(
        event_id=str(envelope.event_id),
        application=str(submission.application_id),
        person=str(submission.person_id),
        categories=",".join(category.value for category in submission.disability_categories),
        economic_status=None if submission.economic_status is None else submission.economic_status.value,
        certified=submission.certified,
        ticks=_ticks(submission),
    )


def _ticks(submission: ApplicationSubmitted) -> str:
    """The choices ticked beside the items: the eyes 左眼/右眼 and 低保人员营养费 (``item.tick``)."""
    ticks = [
        f"{requested.item.value}.eye.{eye.value}"
        for requested in submission.requested_items
        for eye in requested.eyes
    ]
    ticks += [
        f"{requested.item.value}.nutrition_allowance"
        for requested in submission.requested_items
        if requested.nutrition_allowance
    ]
    return ",".join(ticks)
