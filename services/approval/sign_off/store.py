"""Where sign-off steps live: approval's own append-only table, never published (ADR 0008)."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, datetime
from uuid import UUID

from sqlalchemy import RowMapping, insert, select
from sqlalchemy.exc import IntegrityError

from kernel.domain.rejections import StateConflict
from kernel.store.store import UnitOfWork
from services.approval import tables
from services.approval.events import Signatories
from services.approval.sign_off.domain import (
    SignOffConfirmed,
    SignOffDeclined,
    SignOffProposed,
    SignOffs,
    SignOffStep,
    SignOffWithdrawn,
)

steps_table = tables.sign_off_steps


def load_sign_offs(unit: UnitOfWork, application_id: UUID, now: datetime) -> SignOffs:
    """The application's sign-offs as they stand at ``now`` (proposals left unconfirmed too long lapse)."""
    query = (
        select(steps_table)
        .where(steps_table.c.application_id == str(application_id))
        .order_by(steps_table.c.position)
    )
    return SignOffs((_step(row) for row in unit.session.execute(query).mappings()), now)


def sign_offs_by_application(unit: UnitOfWork, now: datetime) -> dict[UUID, SignOffs]:
    """Every application's sign-offs as they stand at ``now`` (for lists)."""
    found: dict[UUID, list[SignOffStep]] = defaultdict(list)
    for row in unit.session.execute(select(steps_table).order_by(steps_table.c.position)).mappings():
        found[UUID(row["application_id"])].append(_step(row))
    return {application_id: SignOffs(steps, now) for application_id, steps in found.items()}


def save_steps(unit: UnitOfWork, application_id: UUID, steps: list[SignOffStep]) -> None:
    """Append the steps; another step recorded meanwhile in the same slot makes this one conflict."""
    try:
        with unit.session.begin_nested():
            for step in steps:
                unit.session.execute(insert(steps_table).values(_row(application_id, step)))
    except IntegrityError as error:
        raise StateConflict(
            "另一签字人刚刚对同一签字栏作了操作，请刷新后重试",
            field="proposal_id",
            code="approval.sign_off.concurrent",
        ) from error


def _row(application_id: UUID, step: SignOffStep) -> dict[str, object]:
    row: dict[str, object] = {
        "application_id": str(application_id),
        "proposal_id": str(step.proposal_id),
        "signer": step.signer,
        "role": step.role,
        "at": step.at,
    }
    if isinstance(step, SignOffProposed):
        return {
            **row,
            "kind": "proposed",
            "block": step.block,
            "slot": f"{application_id}/{step.block}/{step.round}",
            "signatories": json.dumps(vars(step.signatories), ensure_ascii=False),
            "command": step.command,
        }
    if isinstance(step, SignOffConfirmed):
        kind = "confirmed"
    else:
        kind = "withdrawn" if isinstance(step, SignOffWithdrawn) else "declined"
    reason = step.reason if isinstance(step, SignOffDeclined) else None
    return {**row, "kind": kind, "block": "", "slot": f"{step.proposal_id}/{step.step}", "reason": reason}


def _step(row: RowMapping) -> SignOffStep:
    proposal_id = UUID(str(row["proposal_id"]))
    at = row["at"]
    assert isinstance(at, datetime)
    when = at if at.tzinfo is not None else at.replace(tzinfo=UTC)  # SQLite forgets the zone
    signer, role = str(row["signer"]), str(row["role"])
    if row["kind"] == "proposed":
        slot_round = int(str(row["slot"]).rsplit("/", 1)[1])
        return SignOffProposed(
            proposal_id,
            str(row["block"]),
            slot_round,
            Signatories(**json.loads(str(row["signatories"]))),
            str(row["command"]),
            signer,
            role,
            when,
        )
    step = int(str(row["slot"]).rsplit("/", 1)[1])
    if row["kind"] == "confirmed":
        return SignOffConfirmed(proposal_id, step, signer, role, when)
    if row["kind"] == "withdrawn":
        return SignOffWithdrawn(proposal_id, step, signer, role, str(row["reason"]), when)
    return SignOffDeclined(proposal_id, step, signer, role, str(row["reason"]), when)
