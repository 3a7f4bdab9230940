"""The persons' names (and 附件1 basic facts) a clerk of any agency may see, from the survey registry.

Only the survey service holds names; every other agency's page asks it here with the clerk's own token
and a purpose, and the registry decides whom the clerk's scope covers (docs/adr/0016). A person the
registry does not release to this clerk is simply absent from the answer: the page then shows
``UNSEEN_NAME`` instead of a name, never a UUID.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from fastapi import Request

from console.agencies import ServiceRefused, ServiceUnavailable
from console.labels import CATEGORY_LABELS, GRADE_LABELS, INSURANCE_LABELS, SEX_LABELS, labels_of
from console.web import Clerk, console_of

log = logging.getLogger(__name__)

__all__ = ["UNSEEN_NAME", "PersonCard", "display_name", "person_cards"]

UNSEEN_NAME = "（姓名不可见）"

CARDS_PATH = "/persons/cards:batch"
MAX_PER_REQUEST = 500
"""The registry answers at most 500 persons a request; a longer list is asked in parts."""


@dataclass(frozen=True)
class PersonCard:
    """What the registry released about one person; fields the clerk's agency may not see are None.

    ``sex``, ``disability_category``, ``disability_grade``, ``medical_insurance`` and ``guardian_sex`` read
    as the forms print them (男, 视力、肢体, 二级, 城乡居民基本医疗保险); ``disability_categories`` keeps the
    codes, for a form that ticks a box per category.
    """

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
    disability_categories: tuple[str, ...] = ()
    ethnicity: str | None = None
    household_registration: str | None = None
    """户籍所在地."""
    residence: str | None = None
    """现居住地."""
    medical_insurance: tuple[str, ...] = ()
    """享受医疗保险情况, as 附件2 words them (城镇职工基本医疗保险, 无医疗保险 …)."""
    guardian_sex: str | None = None
    guardian_id_number: str | None = None


def person_cards(
    request: Request, clerk: Clerk, person_ids: Iterable[UUID], *, purpose: str
) -> Mapping[UUID, PersonCard]:
    """The cards of ``person_ids`` the registry releases to ``clerk`` (audited with ``purpose``).

    Persons outside the clerk's scope, forgotten or unknown are absent. A name is never worth a failed
    page: when the survey service is down or refuses the clerk's agency, every person is absent and the
    page shows ``UNSEEN_NAME`` (docs/adr/0016-names-across-agencies.md).
    """
    wanted = [str(person_id) for person_id in dict.fromkeys(_as_uuid(person_id) for person_id in person_ids)]
    agencies = console_of(request).agencies
    cards: dict[UUID, PersonCard] = {}
    for start in range(0, len(wanted), MAX_PER_REQUEST):
        body = {"person_ids": wanted[start : start + MAX_PER_REQUEST]}
        try:
            answer = agencies.read("survey", CARDS_PATH, body, user=clerk.name, purpose=purpose)
        except ServiceUnavailable:
            log.warning("names not shown to %s: the survey service is unreachable", clerk.name)
            return cards
        except ServiceRefused as refused:
            log.warning(
                "names not shown to %s: %s (%s)", clerk.name, refused.problem.detail, refused.problem.code
            )
            return cards
        for entry in answer.get("cards") or []:
            card = _card(entry)
            cards[card.person_id] = card
    return cards


def _as_uuid(person_id: UUID | str) -> UUID:
    return person_id if isinstance(person_id, UUID) else UUID(str(person_id))


def _card(entry: Mapping[str, Any]) -> PersonCard:
    """A card from the registry's answer, codes read as the forms print them."""
    categories = tuple(entry.get("disability_categories") or ())
    birth_date = entry.get("birth_date")
    sex, grade = entry.get("sex"), entry.get("disability_grade")
    guardian_sex = entry.get("guardian_sex")
    return PersonCard(
        person_id=UUID(str(entry["person_id"])),
        name=str(entry["name"]),
        street=entry.get("street"),
        community=entry.get("community"),
        sex=SEX_LABELS.get(sex, sex) if sex else None,
        birth_date=date.fromisoformat(birth_date) if birth_date else None,
        id_number=entry.get("id_number"),
        disability_certificate_number=entry.get("disability_certificate_number"),
        disability_category=labels_of(categories, CATEGORY_LABELS) if categories else None,
        disability_grade=GRADE_LABELS.get(grade, grade) if grade else None,
        phone=entry.get("phone"),
        address=entry.get("address"),
        guardian_name=entry.get("guardian_name"),
        guardian_relation=entry.get("guardian_relation"),
        guardian_phone=entry.get("guardian_phone"),
        disability_categories=categories,
        ethnicity=entry.get("ethnicity"),
        household_registration=entry.get("household_registration"),
        residence=entry.get("residence"),
        medical_insurance=tuple(
            INSURANCE_LABELS.get(code, code) for code in entry.get("medical_insurance") or ()
        ),
        guardian_sex=SEX_LABELS.get(guardian_sex, guardian_sex) if guardian_sex else None,
        guardian_id_number=entry.get("guardian_id_number"),
    )


def display_name(cards: Mapping[UUID, PersonCard], person_id: UUID | str) -> str:
    """The person's 姓名 if released, else ``UNSEEN_NAME``."""
    card = cards.get(_as_uuid(person_id))
    return card.name if card is not None else UNSEEN_NAME
