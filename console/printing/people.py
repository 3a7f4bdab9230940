"""The person a form prints, from what the registry released: a card (any agency) or the whole record
(the street office's own person)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from console.labels import CATEGORY_LABELS, GRADE_LABELS, SEX_LABELS
from console.names import PersonCard
from printing import Guardian, Person


def person_of_card(card: PersonCard | None) -> Person:
    """附件2/附件4's person from a card; what the card does not carry (an agency that reads the name
    alone) prints blank, for the pen."""
    if card is None:
        return Person()
    guardian = None
    if card.guardian_name:
        guardian = Guardian(
            name=card.guardian_name,
            sex=card.guardian_sex or "",
            phone=card.guardian_phone or "",
            id_number=card.guardian_id_number or "",
            relation=card.guardian_relation or "",
        )
    return Person(
        name=card.name,
        sex=card.sex or "",
        ethnicity=card.ethnicity or "",
        birth_date=card.birth_date,
        id_number=card.id_number or "",
        certificate_number=card.disability_certificate_number or "",
        phone=card.phone or "",
        address=card.address or "",
        household_registration=card.household_registration or "",
        residence=card.residence or "",
        categories=tuple(CATEGORY_LABELS.get(code, code) for code in card.disability_categories),
        grade=card.disability_grade or "",
        street=card.street or "",
        community=card.community or "",
        guardian=guardian,
    )


def person_of_record(record: Mapping[str, Any]) -> Person:
    """附件1's person from the survey registry's whole record (GET /persons/{id})."""
    guardian = record.get("guardian")
    birth_date = record.get("birth_date")
    certificates = [record.get("certificate_number"), record.get("veteran_certificate_number")]
    return Person(
        name=str(record.get("name") or ""),
        sex=SEX_LABELS.get(record.get("sex") or "", ""),
        ethnicity=str(record.get("ethnicity") or ""),
        birth_date=date.fromisoformat(birth_date) if birth_date else None,
        id_number=str(record.get("id_number") or ""),
        certificate_number=" / ".join(str(number) for number in certificates if number),
        phone=str(record.get("phone") or ""),
        address=str(record.get("address") or ""),
        household_registration=str(record.get("household_registration") or ""),
        residence=str(record.get("residence") or ""),
        categories=tuple(
            CATEGORY_LABELS.get(code, code) for code in record.get("disability_categories") or ()
        ),
        grade=GRADE_LABELS.get(record.get("disability_grade") or "", ""),
        street=str(record.get("street") or ""),
        community=str(record.get("community") or ""),
        guardian=_guardian(guardian) if guardian else None,
    )


def _guardian(guardian: Mapping[str, Any]) -> Guardian:
    return Guardian(
        name=str(guardian.get("name") or ""),
        sex=SEX_LABELS.get(guardian.get("sex") or "", ""),
        phone=str(guardian.get("phone") or ""),
        id_number=str(guardian.get("id_number") or ""),
        relation=str(guardian.get("relation") or ""),
    )
