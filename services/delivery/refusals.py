"""Service records a rule refused 被退回的服务记录, kept with the reason so the institution can correct and
resend them: a row of the delivery service's own table, written in the refused command's unit of work."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from uuid import UUID, uuid4

from sqlalchemy import RowMapping, insert, select, update

from kernel.domain.rejections import CommandRejected, NotFound, StateConflict
from kernel.store.store import UnitOfWork
from services.delivery import tables
from services.delivery.domain import ServiceForm

refused_table = tables.refused_records


@dataclass(frozen=True)
class RefusedRecord:
    """A service record as the institution sent it (JSON), why a rule refused it, when and who sent it."""

    refusal_id: UUID
    institution_id: str
    application_id: UUID
    item: str
    record: str
    status: int
    code: str
    field: str | None
    reason: str
    refused_at: datetime
    refused_by: str | None
    dismissed_at: datetime | None = None
    """When the institution dismissed 撤销 it (it will not resend it); None while it is listed."""
    dismissed_by: str | None = None
    dismissal_reason: str | None = None


def refused(form: ServiceForm, as_sent: str, refusal: CommandRejected, sender: str | None) -> RefusedRecord:
    """The refused record to keep: a new id, now, the refusal's status, code, field and Chinese reason."""
    return RefusedRecord(
        refusal_id=uuid4(),
        institution_id=form.institution_id,
        application_id=form.application_id,
        item=form.item,
        record=as_sent,
        status=refusal.status_code,
        code=refusal.code,
        field=refusal.field,
        reason=refusal.message,
        refused_at=datetime.now(UTC),
        refused_by=sender,
    )


def keep_refused(unit: UnitOfWork, record: RefusedRecord) -> RefusedRecord:
    """Keep the refused record in the command's unit: it commits with the refusal answer, or not at all."""
    unit.session.execute(
        insert(refused_table).values(
            {
                **vars(record),
                "refusal_id": str(record.refusal_id),
                "application_id": str(record.application_id),
            }
        )
    )
    return record


def refused_records(
    unit: UnitOfWork, institution_id: str | None = None, *, dismissed: bool = False
) -> list[RefusedRecord]:
    """Refused records not dismissed (``dismissed``: the dismissed ones), newest first; of one institution
    when given."""
    column = refused_table.c
    query = select(refused_table).order_by(column.refused_at.desc(), column.refusal_id)
    query = query.where(column.dismissed_at.is_not(None) if dismissed else column.dismissed_at.is_(None))
    if institution_id is not None:
        query = query.where(column.institution_id == institution_id)
    return [_refused(row) for row in unit.session.execute(query).mappings()]


def refused_record(unit: UnitOfWork, refusal_id: UUID) -> RefusedRecord:
    """One refused record, to correct and resend."""
    row = (
        unit.session.execute(select(refused_table).where(refused_table.c.refusal_id == str(refusal_id)))
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(
            f"没有编号为 {refusal_id} 的被退回服务记录", field="refusal_id", code="delivery.refused.not_found"
        )
    return _refused(row)


def dismiss(unit: UnitOfWork, refused: RefusedRecord, by: str | None, reason: str | None) -> RefusedRecord:
    """Dismiss 撤销 a refused record the institution will not resend: it leaves the list, kept for audit
    with when, who and why. Dismissing it again is refused (it was, by then, by someone)."""
    if refused.dismissed_at is not None:
        raise _already_dismissed(f"已由{refused.dismissed_by or '—'}撤销")
    dismissed = replace(refused, dismissed_at=datetime.now(UTC), dismissed_by=by, dismissal_reason=reason)
    changed = unit.session.execute(
        update(refused_table)
        .where(refused_table.c.refusal_id == str(refused.refusal_id), refused_table.c.dismissed_at.is_(None))
        .values(
            dismissed_at=dismissed.dismissed_at,
            dismissed_by=dismissed.dismissed_by,
            dismissal_reason=dismissed.dismissal_reason,
        )
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]  # a concurrent dismissal came first
        raise _already_dismissed("刚被撤销")
    return dismissed


def _already_dismissed(how: str) -> StateConflict:
    return StateConflict(
        f"这条被退回的服务记录{how}，不在列表中了",
        field="refusal_id",
        code="delivery.refused.already_dismissed",
    )


def _refused(row: RowMapping) -> RefusedRecord:
    return RefusedRecord(
        **{
            **row,
            "refusal_id": UUID(row["refusal_id"]),
            "application_id": UUID(row["application_id"]),
            "refused_at": _aware(row["refused_at"]),
            "dismissed_at": _aware(row["dismissed_at"]) if row["dismissed_at"] is not None else None,
        }
    )


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite
