"""The persons' names (and 附件1 basic facts) a clerk of any agency may see, from the survey registry.

Only the survey service holds names; every other agency's page asks it here with the clerk's own token
and a purpose, and the registry decides whom the clerk's scope covers (docs/adr/0016). A person the
registry does not release to this clerk is simply absent from the answer: the page then shows
``UNSEEN_NAME`` instead of a name, never a UUID.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from fastapi import Request

from console.web import Clerk

__all__ = ["UNSEEN_NAME", "PersonCard", "display_name", "person_cards"]

UNSEEN_NAME = "（姓名不可见）"


@dataclass(frozen=True)
class PersonCard:
    """What the registry released about one person; fields the clerk's agency may not see are None."""

    person_id: UUID
    name: str
    street: str | None = None
    community: str | None = None
    sex: str | None = None
    birth_date: date | None = None
    id_number: str | None = None
    disability_certificate_number: str | None = None
    disability_category: str | None = None
    disability_grade: str | None = None
    phone: str | None = None
    address: str | None = None
    guardian_name: str | None = None
    guardian_relation: str | None = None
    guardian_phone: str | None = None


def person_cards(
    request: Request, clerk: Clerk, person_ids: Iterable[UUID], *, purpose: str
) -> Mapping[UUID, PersonCard]:
    """The cards of ``person_ids`` the registry releases to ``clerk`` (audited with ``purpose``).

    Persons outside the clerk's scope, forgotten or unknown are absent. Raises ``ServiceUnavailable``
    only when the survey service cannot be reached.
    """
    return {}  # filled in by the names work (issue 12); pages already call it


def display_name(cards: Mapping[UUID, PersonCard], person_id: UUID | str) -> str:
    """The person's 姓名 if released, else ``UNSEEN_NAME``."""
    card = cards.get(person_id if isinstance(person_id, UUID) else UUID(str(person_id)))
    return card.name if card is not None else UNSEEN_NAME
