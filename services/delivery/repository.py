"""Where service records and entitlements live: the event store, the inbox, the records index and the
entitlements table."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from rehab_contracts import (
    ApplicationApproved,
    ApplicationRejected,
    EventEnvelope,
    InstitutionChangeApproved,
    parse_payload,
)
from rehab_contracts import ServiceDelivered as ServiceDeliveredContract
from sqlalchemy import delete, insert, select

from kernel.domain.clock import business_time
from kernel.domain.rejections import NotFound
from kernel.store import projections
from kernel.store.store import NewEvent, UnitOfWork
from services.delivery import tables
from services.delivery.domain import Entitlement, InstitutionChange, ServiceDelivered
from services.delivery.translation import contract_payload, domain_event, entitlements

RECORDS_PROJECTION = "delivery.records"


def stream_of(delivery_id: UUID) -> str:
    return f"delivery-{delivery_id}"


def record(unit: UnitOfWork, events: list[ServiceDelivered], causation_id: UUID | None) -> None:
    for event in events:
        new = NewEvent(
            contract_payload(event),
            business_time(event.form.signed_on or event.form.period_end),
            correlation_id=event.form.person_id,
            causation_id=causation_id,
        )
        unit.append(stream_of(event.delivery_id), 0, [new])
        _index_record(unit, event)


def load(unit: UnitOfWork, delivery_id: UUID) -> ServiceDelivered:
    """The record as it stands: the last of its events (a correction 更正 repeats the whole record)."""
    return domain_event(parse_payload(history(unit, delivery_id)[-1]))


def history(unit: UnitOfWork, delivery_id: UUID) -> list[EventEnvelope]:
    """The record's events, first the recording then each correction; 404 for an unknown record."""
    envelopes = unit.load(stream_of(delivery_id))
    if not envelopes:
        raise NotFound(
            f"没有编号为 {delivery_id} 的服务记录", field="delivery_id", code="delivery.record.not_found"
        )
    return envelopes


def record_correction(unit: UnitOfWork, event: ServiceDelivered, corrected: EventEnvelope) -> EventEnvelope:
    """Append the corrected record to its stream after ``corrected`` (its last event): a second
    ServiceDelivered of the same delivery_id, caused by the one it corrects. Whoever appended first wins;
    the other gets a conflict (409) and its unit rolls back."""
    new = NewEvent(
        contract_payload(event),
        business_time(event.form.signed_on or event.form.period_end),
        correlation_id=event.form.person_id,
        causation_id=corrected.event_id,
    )
    return unit.append(stream_of(event.delivery_id), corrected.version, [new])[0]


def deliveries(
    unit: UnitOfWork,
    *,
    application_id: UUID | None = None,
    person_id: UUID | None = None,
    institution_id: str | None = None,
) -> list[ServiceDelivered]:
    """Service records kept, in the order they were first recorded, each as last corrected."""
    latest: dict[UUID, ServiceDelivered] = {}
    for envelope in unit.events_of_type(ServiceDeliveredContract.event_type):
        event = domain_event(parse_payload(envelope))
        latest[event.delivery_id] = event  # a correction replaces the record, in its first place
    return [
        event
        for event in latest.values()
        if (application_id is None or event.form.application_id == application_id)
        and (person_id is None or event.form.person_id == person_id)
        and (institution_id is None or event.form.institution_id == institution_id)
    ]


def earlier_records(unit: UnitOfWork, application_id: UUID, item: str) -> list[ServiceDelivered]:
    """Records of the item already kept under the application, in the order they were kept.

    The item of the application stays locked until this transaction ends, so a concurrent record of it
    checks its period only after this one is kept or refused (docs/adr/0010).
    """
    _ensure_indexed(unit)
    unit.lock(f"delivery.service_periods:{application_id}:{item}")
    column = tables.records.c
    found = unit.session.scalars(
        select(column.delivery_id).where(column.application_id == str(application_id), column.item == item)
    )
    histories = sorted((unit.load(stream_of(UUID(each))) for each in found), key=_first_recorded)
    return [domain_event(parse_payload(envelopes[-1])) for envelopes in histories]


def _first_recorded(envelopes: list[EventEnvelope]) -> datetime:
    return envelopes[0].recorded_at


def _index_record(unit: UnitOfWork, event: ServiceDelivered) -> None:
    unit.session.execute(
        insert(tables.records).values(
            delivery_id=str(event.delivery_id),
            application_id=str(event.form.application_id),
            item=event.form.item,
        )
    )


def _ensure_indexed(unit: UnitOfWork) -> None:
    """Index the records kept before the index existed, once; later calls read one row."""

    def build() -> None:
        unit.session.execute(delete(tables.records))
        for event in deliveries(unit):
            _index_record(unit, event)

    projections.build_once(unit, tables.projection_builds, RECORDS_PROJECTION, build)


# -- entitlements ----------------------------------------------------------------------------------
def save_entitlements(unit: UnitOfWork, envelope: EventEnvelope, payload: ApplicationApproved) -> None:
    """Project an approval; an approval seen before (as another event) changes nothing."""
    for entitlement in entitlements(payload):
        key = (str(entitlement.application_id), entitlement.item)
        if _entitlement_row(unit, *key) is not None:
            continue
        unit.session.execute(
            insert(tables.entitlements).values(
                application_id=key[0],
                item=entitlement.item,
                person_id=str(entitlement.person_id),
                year=entitlement.year,
                street=payload.street,
                service_card_number=entitlement.service_card_number,
                institution_id=entitlement.institution_id,
                subsidy_mode=entitlement.subsidy_mode,
                amount_fen=entitlement.amount_fen,
                approved_on=entitlement.approved_on,
                approval_event_id=str(envelope.event_id),
            )
        )


def entitlements_of(
    unit: UnitOfWork, *, application_id: UUID | None = None, person_id: UUID | None = None
) -> list[Entitlement]:
    column = tables.entitlements.c
    query = select(tables.entitlements).order_by(column.approved_on, column.application_id, column.item)
    if application_id is not None:
        query = query.where(column.application_id == str(application_id))
    if person_id is not None:
        query = query.where(column.person_id == str(person_id))
    changes = _institution_changes(unit, application_id)
    return [
        Entitlement(
            institution_changes=tuple(changes.get((row["application_id"], row["item"]), ())),
            application_id=UUID(row["application_id"]),
            person_id=UUID(row["person_id"]),
            year=row["year"],
            service_card_number=row["service_card_number"],
            item=row["item"],
            institution_id=row["institution_id"],
            subsidy_mode=row["subsidy_mode"],
            amount_fen=row["amount_fen"],
            approved_on=row["approved_on"],
        )
        for row in unit.session.execute(query).mappings()
    ]


def save_institution_change(
    unit: UnitOfWork, envelope: EventEnvelope, payload: InstitutionChangeApproved
) -> None:
    """Project a change of institution; the inbox keeps a redelivered event from applying twice."""
    unit.session.execute(
        insert(tables.institution_changes).values(
            event_id=str(envelope.event_id),
            application_id=str(payload.application_id),
            item=str(payload.item),
            from_institution_id=payload.from_institution_id,
            to_institution_id=payload.to_institution_id,
            effective_on=payload.approved_on,
        )
    )


def _institution_changes(
    unit: UnitOfWork, application_id: UUID | None
) -> dict[tuple[str, str], list[InstitutionChange]]:
    column = tables.institution_changes.c
    query = select(tables.institution_changes).order_by(column.effective_on, column.event_id)
    if application_id is not None:
        query = query.where(column.application_id == str(application_id))
    found: dict[tuple[str, str], list[InstitutionChange]] = {}
    for row in unit.session.execute(query).mappings():
        change = InstitutionChange(row["from_institution_id"], row["to_institution_id"], row["effective_on"])
        found.setdefault((row["application_id"], row["item"]), []).append(change)
    return found


def approval_event_id(unit: UnitOfWork, application_id: UUID) -> UUID | None:
    """The approval a service record follows from (its causation)."""
    column = tables.entitlements.c
    found = unit.session.scalar(
        select(column.approval_event_id).where(column.application_id == str(application_id))
    )
    return UUID(found) if found else None


def rejection_reason(unit: UnitOfWork, application_id: UUID) -> str | None:
    """Why 区残联办 rejected the application, from the archived rejections; None when it did not."""
    for envelope in unit.received(ApplicationRejected.event_type):
        if envelope.payload.get("application_id") == str(application_id):
            return str(envelope.payload.get("reason"))
    return None


def _entitlement_row(unit: UnitOfWork, application_id: str, item: str) -> object:
    column = tables.entitlements.c
    return unit.session.execute(
        select(column.item).where(column.application_id == application_id, column.item == item)
    ).first()
