"""Release of many persons' data keys at once (附件3 names hundreds): which keys leave, and their audit."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from uuid import UUID

from fastapi import Request
from rehab_contracts.sealed import DataKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from kernel.access.access import Forbidden, audit_entry, audit_trail_of
from kernel.access.auth import Principal
from kernel.access.scopes import require_area
from services.survey import keys
from services.survey.projection import FORGOTTEN_ID_PREFIX, persons_table

MAX_PERSONS_PER_RELEASE = 500
"""Persons one request may ask for: 附件3 of a district takes a few requests, a request stays small."""


@dataclass(frozen=True)
class BatchRelease:
    """The answer for each person asked about: their key, or why there is none."""

    keys: dict[UUID, DataKey]
    forgotten: list[UUID]
    without_key: list[UUID]
    unknown: list[UUID]


def release_keys(session: Session, person_ids: Sequence[UUID]) -> BatchRelease:
    """The keys of ``person_ids`` that exist; the others sorted into forgotten, without a key, unknown."""
    live = _live_keys(session, person_ids)
    keys = {person_id: live[person_id] for person_id in person_ids if person_id in live}  # as asked
    rest = [person_id for person_id in person_ids if person_id not in live]
    id_numbers = _registered_id_numbers(session, rest)
    forgotten = [p for p in rest if id_numbers.get(p, "").startswith(FORGOTTEN_ID_PREFIX)]
    # Registered before sealing (schema v1): their details travel in clear, so no key exists.
    without_key = [p for p in rest if p in id_numbers and not id_numbers[p].startswith(FORGOTTEN_ID_PREFIX)]
    unknown = [p for p in rest if p not in id_numbers]
    return BatchRelease(keys, forgotten, without_key, unknown)


def _live_keys(session: Session, person_ids: Sequence[UUID]) -> dict[UUID, DataKey]:
    return keys.keys_of(session, person_ids)


def _registered_id_numbers(session: Session, person_ids: Sequence[UUID]) -> dict[UUID, str]:
    if not person_ids:
        return {}
    table = persons_table.c
    rows = session.execute(
        select(table.person_id, table.id_number).where(table.person_id.in_([str(p) for p in person_ids]))
    )
    return {UUID(row.person_id): row.id_number for row in rows}


def areas_of(session: Session, person_ids: Sequence[UUID]) -> dict[UUID, tuple[str, str]]:
    """(street, community) of each registered person among ``person_ids`` (forgotten ones included)."""
    if not person_ids:
        return {}
    table = persons_table.c
    rows = session.execute(
        select(table.person_id, table.street, table.community).where(
            table.person_id.in_([str(person_id) for person_id in person_ids])
        )
    )
    return {UUID(row.person_id): (row.street, row.community) for row in rows}


def require_scope_covers(principal: Principal, areas: Mapping[UUID, tuple[str, str]]) -> None:
    """Refuse (403) keys of persons outside the caller's scope (issue 14, defect 4).

    A district user gets any key; a street's (community's) user the keys of its persons only. An
    institution's user gets none: the survey names no institution, so the registry cannot know whom an
    institution serves, and it refuses rather than guesses.
    """
    if principal.scope.kind == "institution":
        raise Forbidden(
            f"机构范围（{principal.scope}）的用户不能获取个人信息密钥：登记处不知道机构为哪些人服务；"
            "请由区级（district）或街道范围的用户获取",
            code="access.scope_not_applicable",
        )
    for street, community in areas.values():
        require_area(principal, street, community)


def audit_release(request: Request, principal: Principal, released: Sequence[UUID]) -> None:
    """One audit entry per person whose key leaves, with the caller's ``X-Purpose``, in one transaction.

    The access middleware audits reads by GET and HEAD only, so this POST records its own entries, as the
    single-person route's would read: who, which person, why, status 200.
    """
    entries = [audit_entry(request, principal, 200, subject=str(person_id)) for person_id in released]
    audit_trail_of(request).record_all(entries)
