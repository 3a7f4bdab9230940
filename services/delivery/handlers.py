"""Command handler (load what is known, one domain call, save), the entitlement projection, and queries."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from uuid import UUID

from rehab_contracts import ApplicationApproved, EventEnvelope, EventPayload, InstitutionChangeApproved

from kernel.domain.clock import today
from kernel.domain.rejections import CommandRejected
from kernel.reference import Jurisdiction
from kernel.store.store import EventStore, UnitOfWork
from services.delivery.corrections import Correction, correct_service, corrections_of
from services.delivery.domain import (
    DeliveryContext,
    Entitlement,
    ServiceDelivered,
    ServiceForm,
    ServiceRecord,
)
from services.delivery.refusals import (
    RefusedRecord,
    dismiss,
    keep_refused,
    refused,
    refused_record,
    refused_records,
)
from services.delivery.repository import (
    approval_event_id,
    deliveries,
    earlier_records,
    entitlements_of,
    load,
    record,
    rejection_reason,
    save_entitlements,
    save_institution_change,
)


def record_service(
    unit: UnitOfWork, jurisdiction: Jurisdiction, form: ServiceForm, *, as_sent: str, sender: str | None
) -> ServiceDelivered | RefusedRecord:
    """Record a signed service (in the command's unit of work) under an approved entitlement; a record a
    rule refuses is kept instead, as sent (``as_sent``, JSON) with the reason, in the same unit."""
    context = DeliveryContext(
        today=today(),
        designated=designated_items(jurisdiction),
        entitlements=tuple(entitlements_of(unit, application_id=form.application_id)),
        rejection_reason=rejection_reason(unit, form.application_id),
        earlier=tuple(earlier_records(unit, form.application_id, form.item)),
    )
    try:
        events = ServiceRecord.record(form, context)
    except CommandRejected as refusal:
        return keep_refused(unit, refused(form, as_sent, refusal, sender))
    record(unit, events, causation_id=approval_event_id(unit, form.application_id))
    return events[0]


def correct_delivery(
    unit: UnitOfWork,
    jurisdiction: Jurisdiction,
    delivery_id: UUID,
    form: ServiceForm,
    reason: str,
    *,
    check: Callable[[ServiceForm], None],
    by: str | None,
) -> tuple[ServiceDelivered, list[Correction]]:
    """Correct 更正 a kept record (corrections.py): the record as corrected and its corrections."""
    return correct_service(unit, jurisdiction, delivery_id, form, reason, check=check, by=by)


def on_application_approved(unit: UnitOfWork, envelope: EventEnvelope, payload: EventPayload) -> None:
    """Keep what 区残联办 approved: a service is recorded only under an approved item."""
    assert isinstance(payload, ApplicationApproved)
    save_entitlements(unit, envelope, payload)


def on_institution_change_approved(unit: UnitOfWork, envelope: EventEnvelope, payload: EventPayload) -> None:
    """From the approved day on, the new institution delivers the item and the old one no longer does."""
    assert isinstance(payload, InstitutionChangeApproved)
    save_institution_change(unit, envelope, payload)


# -- queries ---------------------------------------------------------------------------------------
def get_delivery(store: EventStore, delivery_id: UUID) -> tuple[ServiceDelivered, list[Correction]]:
    """The record as last corrected, with its corrections, oldest first."""
    with store.reading() as unit:
        return load(unit, delivery_id), corrections_of(unit, [delivery_id]).get(delivery_id, [])


def list_deliveries(
    store: EventStore,
    *,
    person_id: UUID | None = None,
    institution_id: str | None = None,
    application_id: UUID | None = None,
) -> list[ServiceDelivered]:
    with store.reading() as unit:
        return deliveries(
            unit, person_id=person_id, institution_id=institution_id, application_id=application_id
        )


def list_corrected_deliveries(
    store: EventStore,
    *,
    person_id: UUID | None = None,
    institution_id: str | None = None,
    application_id: UUID | None = None,
) -> list[tuple[ServiceDelivered, list[Correction]]]:
    """Service records as last corrected, each with its corrections, read in one transaction."""
    with store.reading() as unit:
        found = deliveries(
            unit, person_id=person_id, institution_id=institution_id, application_id=application_id
        )
        corrected = corrections_of(unit)
    return [(delivered, corrected.get(delivered.delivery_id, [])) for delivered in found]


def list_refused(
    store: EventStore, institution_id: str | None = None, *, dismissed: bool = False
) -> list[RefusedRecord]:
    with store.reading() as unit:
        return refused_records(unit, institution_id, dismissed=dismissed)


def dismiss_refused(
    unit: UnitOfWork,
    refusal_id: UUID,
    check: Callable[[RefusedRecord], None],
    by: str | None,
    reason: str | None,
) -> RefusedRecord:
    """Dismiss 撤销 a refused record the institution will not resend (``check``: the caller's institution)."""
    found = refused_record(unit, refusal_id)
    check(found)
    return dismiss(unit, found, by, reason)


def get_refused(store: EventStore, refusal_id: UUID) -> RefusedRecord:
    with store.reading() as unit:
        return refused_record(unit, refusal_id)


def list_entitlements(
    store: EventStore, *, person_id: UUID | None = None, application_id: UUID | None = None
) -> list[Entitlement]:
    with store.reading() as unit:
        return entitlements_of(unit, person_id=person_id, application_id=application_id)


def designated_items(jurisdiction: Jurisdiction) -> Mapping[str, frozenset[str]]:
    return {institution.id: institution.designated_items for institution in jurisdiction.service_institutions}
