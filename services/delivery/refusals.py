"""Service records a rule refused 被退回的服务记录, kept with the reason so the institution can correct and
resend them: a row of the delivery service's own table, written in the refused command's unit of work."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID, uuid4

from sqlalchemy import RowMapping, insert, select

from kernel.domain.rejections import CommandRejected, NotFound
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


def refused_records(unit: UnitOfWork, institution_id: str | None = None) -> list[RefusedRecord]:
    """Refused records, newest first; of one institution when given."""
    column = refused_table.c
    query = select(refused_table).order_by(column.refused_at.desc(), column.refusal_id)
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


def _refused(row: RowMapping) -> RefusedRecord:
    refused_at: datetime = row["refused_at"]
    return RefusedRecord(
        **{
            **row,
            "refusal_id": UUID(row["refusal_id"]),
            "application_id": UUID(row["application_id"]),
            "refused_at": refused_at if refused_at.tzinfo else refused_at.replace(tzinfo=UTC),  # SQLite
        }
    )
