"""Translators at the edge: approval contract payloads <-> approval domain events."""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum
from typing import Any

from rehab_contracts import ApplicationApproved as ApprovedContract
from rehab_contracts import ApplicationAttachmentsAdded as AttachmentsAddedContract
from rehab_contracts import ApplicationRejected as RejectedContract
from rehab_contracts import ApplicationReviewed as ReviewedContract
from rehab_contracts import ApplicationSubmitted as SubmittedContract
from rehab_contracts import EventEnvelope, EventPayload, parse_payload
from rehab_contracts import InstitutionChangeApproved as ChangeApprovedContract
from rehab_contracts import ItemApproval as ItemApprovalContract
from rehab_contracts import ItemRejection as ItemRejectionContract
from rehab_contracts import RequestedItem as RequestedItemContract
from rehab_contracts import Signatories as SignatoriesContract
from rehab_contracts.vocabulary import (
    Attachment,
    CatalogueItem,
    DisabilityCategory,
    EconomicStatus,
    Eye,
    ReviewLevel,
    SignerRole,
)

from services.approval.events import (
    ApplicationApproved,
    ApplicationEvent,
    ApplicationRejected,
    ApplicationReviewed,
    ApplicationSubmitted,
    AttachmentsAdded,
    InstitutionChangeApproved,
    ItemApproval,
    ItemRejection,
    RequestedItem,
    Signatories,
    Submission,
)


# -- contract -> domain ----------------------------------------------------------------------------
def domain_events(envelopes: Iterable[EventEnvelope]) -> list[ApplicationEvent]:
    """One application's stored events as domain events, in stream order: its whole state."""
    return [domain_event(parse_payload(envelope)) for envelope in envelopes]


def domain_event(payload: EventPayload) -> ApplicationEvent:
    if isinstance(payload, SubmittedContract):
        return ApplicationSubmitted(payload.application_id, _submission(payload))
    if isinstance(payload, AttachmentsAddedContract):
        return AttachmentsAdded(
            payload.application_id,
            attachments=frozenset(str(attachment) for attachment in payload.attachments),
            added_on=payload.added_on,
        )
    if isinstance(payload, ReviewedContract):
        return ApplicationReviewed(
            payload.application_id,
            level=str(payload.level),
            endorsed=payload.endorsed,
            opinion=payload.opinion,
            signatories=signatories(payload.signatories),
            reviewed_on=payload.reviewed_on,
        )
    if isinstance(payload, ApprovedContract):
        return ApplicationApproved(
            payload.application_id,
            service_card_number=payload.service_card_number,
            approved_items=tuple(ItemApproval(**_plain(a.model_dump())) for a in payload.approved_items),
            rejected_items=tuple(ItemRejection(**_plain(r.model_dump())) for r in payload.rejected_items),
            signatories=signatories(payload.signatories),
            approved_on=payload.approved_on,
        )
    if isinstance(payload, RejectedContract):
        return ApplicationRejected(
            payload.application_id, payload.reason, signatories(payload.signatories), payload.rejected_on
        )
    if isinstance(payload, ChangeApprovedContract):
        return InstitutionChangeApproved(
            payload.application_id,
            item=str(payload.item),
            from_institution_id=payload.from_institution_id,
            to_institution_id=payload.to_institution_id,
            reason=payload.reason,
            signatories=signatories(payload.signatories),
            approved_on=payload.approved_on,
        )
    raise ValueError(f"{payload.event_type} is not an event of the application aggregate")


def _submission(payload: SubmittedContract) -> Submission:
    return Submission(
        person_id=payload.person_id,
        application_year=payload.application_year,
        street=payload.street,
        serial_number=payload.serial_number,
        requested_items=tuple(requested_item(requested) for requested in payload.requested_items),
        attachments=frozenset(str(attachment) for attachment in payload.attachments),
        economic_status=None if payload.economic_status is None else str(payload.economic_status),
        disability_categories=frozenset(str(category) for category in payload.disability_categories),
        applicant_role=str(payload.applicant_role),
        submitted_on=payload.submitted_on,
        referral_id=payload.referral_id,
        certified=payload.certified,
    )


def requested_item(contract: RequestedItemContract) -> RequestedItem:
    return RequestedItem(
        item=str(contract.item),
        institution_id=contract.institution_id,
        eyes=tuple(str(eye) for eye in contract.eyes),
        nutrition_allowance=contract.nutrition_allowance,
        poor=contract.poor,
    )


def signatories(contract: SignatoriesContract) -> Signatories:
    return Signatories(responsible=contract.responsible, handler=contract.handler, reviewer=contract.reviewer)


# -- domain -> contract ----------------------------------------------------------------------------
def contract_payload(
    event: ApplicationEvent, form: Submission, service_card_number: str | None = None
) -> EventPayload:
    """The contract payload of a decided event; ``form`` supplies the person, year and street."""
    if isinstance(event, ApplicationSubmitted):
        return _submitted(event)
    if isinstance(event, AttachmentsAdded):
        return AttachmentsAddedContract(
            application_id=event.application_id,
            person_id=form.person_id,
            attachments=sorted(Attachment(attachment) for attachment in event.attachments),
            added_on=event.added_on,
        )
    if isinstance(event, ApplicationReviewed):
        return ReviewedContract(
            application_id=event.application_id,
            person_id=form.person_id,
            level=ReviewLevel(event.level),
            endorsed=event.endorsed,
            opinion=event.opinion,
            signatories=_signatories_contract(event.signatories),
            reviewed_on=event.reviewed_on,
        )
    if isinstance(event, ApplicationApproved):
        return ApprovedContract(
            application_id=event.application_id,
            person_id=form.person_id,
            application_year=form.application_year,
            street=form.street,
            service_card_number=event.service_card_number,
            approved_items=[ItemApprovalContract(**vars(approval)) for approval in event.approved_items],
            rejected_items=[ItemRejectionContract(**vars(rejection)) for rejection in event.rejected_items],
            signatories=_signatories_contract(event.signatories),
            approved_on=event.approved_on,
        )
    if isinstance(event, ApplicationRejected):
        return RejectedContract(
            application_id=event.application_id,
            person_id=form.person_id,
            reason=event.reason,
            signatories=_signatories_contract(event.signatories),
            rejected_on=event.rejected_on,
        )
    if isinstance(event, InstitutionChangeApproved):
        assert service_card_number is not None
        return ChangeApprovedContract(
            application_id=event.application_id,
            person_id=form.person_id,
            application_year=form.application_year,
            street=form.street,
            service_card_number=service_card_number,
            item=CatalogueItem(event.item),
            from_institution_id=event.from_institution_id,
            to_institution_id=event.to_institution_id,
            reason=event.reason,
            signatories=_signatories_contract(event.signatories),
            approved_on=event.approved_on,
        )
    raise ValueError(f"{type(event).__name__} has no contract event")


def _submitted(event: ApplicationSubmitted) -> SubmittedContract:
    form = event.submission
    return SubmittedContract(
        application_id=event.application_id,
        person_id=form.person_id,
        application_year=form.application_year,
        street=form.street,
        serial_number=form.serial_number,
        requested_items=[
            RequestedItemContract(
                item=CatalogueItem(requested.item),
                institution_id=requested.institution_id,
                eyes=[Eye(eye) for eye in requested.eyes],
                nutrition_allowance=requested.nutrition_allowance,
                poor=requested.poor,
            )
            for requested in form.requested_items
        ],
        attachments=sorted(Attachment(attachment) for attachment in form.attachments),
        submitted_on=form.submitted_on,
        applicant_role=SignerRole(form.applicant_role),
        referral_id=form.referral_id,
        economic_status=None if form.economic_status is None else EconomicStatus(form.economic_status),
        disability_categories=sorted(DisabilityCategory(category) for category in form.disability_categories),
        certified=form.certified,
    )


def _signatories_contract(block: Signatories) -> SignatoriesContract:
    return SignatoriesContract(responsible=block.responsible, reviewer=block.reviewer, handler=block.handler)


def _plain(values: dict[str, Any]) -> dict[str, Any]:
    return {name: str(value) if isinstance(value, Enum) else value for name, value in values.items()}
