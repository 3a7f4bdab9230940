"""Corrections 更正 of a kept 康复服务记录: a wrong charge, insurance part, period, staff or signature date.

The institution sends the whole corrected record with a reason. It is checked by the rules of a new record
(``ServiceRecord.record``, against the other records of the item, not against itself) and appended as a
second ``ServiceDelivered`` of the same ``delivery_id``: settlement settles the record again and posts the
difference as an adjustment, a top-up or a claw-back 追回 (ADR 0006). Who the record is for, under which
application, by which institution and for which item stay as recorded: a record of the wrong person or item
is not corrected into another one. Why, when and by whom are kept in this service's own table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from uuid import UUID

from rehab_contracts import parse_payload
from sqlalchemy import insert, select

from kernel.domain.clock import today
from kernel.domain.rejections import CommandRejected
from kernel.reference import Jurisdiction
from kernel.store.store import UnitOfWork
from services.delivery import tables
from services.delivery.domain import DeliveryContext, ServiceDelivered, ServiceForm, ServiceRecord
from services.delivery.labels import items_text
from services.delivery.repository import (
    earlier_records,
    entitlements_of,
    history,
    record_correction,
    rejection_reason,
)
from services.delivery.translation import domain_event

corrections_table = tables.corrections

FIXED = {
    "application_id": "所属申请",
    "person_id": "服务对象",
    "institution_id": "服务机构",
    "item": "服务项目",
}
"""What a correction cannot change: the record stays the same person's, application's, institution's and
item's."""


@dataclass(frozen=True)
class Correction:
    """One correction of a record: the correcting event, when, by whom, why."""

    event_id: UUID
    delivery_id: UUID
    corrected_at: datetime
    corrected_by: str | None
    reason: str


def correct_service(
    unit: UnitOfWork,
    jurisdiction: Jurisdiction,
    delivery_id: UUID,
    form: ServiceForm,
    reason: str,
    *,
    check: Callable[[ServiceForm], None],
    by: str | None,
) -> tuple[ServiceDelivered, list[Correction]]:
    """Correct the record (404 unknown; ``check``: the caller may correct the record as kept, else 403):
    the corrected record as it now stands, and its corrections, oldest first."""
    kept = domain_event(parse_payload(history(unit, delivery_id)[-1]))
    check(kept.form)
    _check_same_record(form, kept.form)
    # The item's records stay locked until this unit ends (as a new record's, docs/adr/0010): concurrent
    # corrections of the record are applied one after the other, each to the record as the one before left it.
    others = tuple(
        record
        for record in earlier_records(unit, form.application_id, form.item)
        if record.delivery_id != delivery_id
    )
    envelopes = history(unit, delivery_id)
    if form == domain_event(parse_payload(envelopes[-1])).form:
        raise CommandRejected(
            "更正后的记录与现有记录完全相同：请修改需要更正的内容",
            code="delivery.correction.unchanged",
        )
    context = DeliveryContext(
        today=today(),
        designated={each.id: each.designated_items for each in jurisdiction.service_institutions},
        entitlements=tuple(entitlements_of(unit, application_id=form.application_id)),
        rejection_reason=rejection_reason(unit, form.application_id),
        earlier=others,
    )
    checked = ServiceRecord.record(form, context)[0]  # the rules of a new record; its new id is not used
    corrected = replace(checked, delivery_id=delivery_id)
    appended = record_correction(unit, corrected, envelopes[-1])
    unit.session.execute(
        insert(corrections_table).values(
            event_id=str(appended.event_id),
            delivery_id=str(delivery_id),
            corrected_at=appended.recorded_at,
            corrected_by=by,
            reason=reason,
        )
    )
    return corrected, corrections_of(unit, [delivery_id]).get(delivery_id, [])


def corrections_of(
    unit: UnitOfWork, delivery_ids: Iterable[UUID] | None = None
) -> dict[UUID, list[Correction]]:
    """The corrections of the records (all records: None), oldest first, by record."""
    column = corrections_table.c
    query = select(corrections_table).order_by(column.corrected_at, column.event_id)
    if delivery_ids is not None:
        query = query.where(column.delivery_id.in_([str(each) for each in delivery_ids]))
    found: dict[UUID, list[Correction]] = {}
    for row in unit.session.execute(query).mappings():
        correction = Correction(
            event_id=UUID(row["event_id"]),
            delivery_id=UUID(row["delivery_id"]),
            corrected_at=row["corrected_at"],
            corrected_by=row["corrected_by"],
            reason=row["reason"],
        )
        found.setdefault(correction.delivery_id, []).append(correction)
    return found


def _check_same_record(form: ServiceForm, kept: ServiceForm) -> None:
    for field, label in FIXED.items():
        sent, recorded = getattr(form, field), getattr(kept, field)
        if sent != recorded:
            shown = items_text([recorded]) if field == "item" else str(recorded)
            raise CommandRejected(
                f"更正不能改变{label}（此记录为 {shown}）：只能更正同一份记录的内容",
                field=field,
                code=f"delivery.correction.{field}_changed",
            )
