"""Person details <-> schema v2 person events: identifying fields sealed with the data key, the rest in clear.

Without the key (the person was forgotten) or with a seal that does not open, the identifying
fields read as ``（已删除）`` / ``（不可用）``; the attributes in clear are always there.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import fields
from datetime import date
from enum import Enum
from typing import Any, TypeVar
from uuid import UUID

from rehab_contracts import Guardian as GuardianContract
from rehab_contracts import (
    PersonalDetails,
    PersonalDetailsCorrection,
    PersonDetailsCorrectedV2,
    PersonRegisteredV2,
)
from rehab_contracts.sealed import (
    REDACTED,
    UNAVAILABLE,
    DataKey,
    SealBroken,
    SealedPersonalData,
    open_sealed,
    seal,
)

from services.survey.domain import Guardian, PersonDetails, PersonDetailsCorrected, PersonRegistered

Opened = TypeVar("Opened", PersonalDetails, PersonalDetailsCorrection)

log = logging.getLogger(__name__)

CLEAR_FIELDS = (
    "street",
    "community",
    "sex",
    "disability_categories",
    "disability_grade",
    "economic_status",
    "medical_insurance",
)
"""Details that travel in clear: the attributes eligibility and payment rules read."""
SEALED_FIELDS = tuple(name for name in PersonalDetails.model_fields)
"""Details that identify a person: only ever sealed."""
assert set(CLEAR_FIELDS) | set(SEALED_FIELDS) == {f.name for f in fields(PersonDetails)}


def registration_payload(event: PersonRegistered, key: DataKey) -> PersonRegisteredV2:
    details = event.details
    personal = PersonalDetails(**contract_values({name: getattr(details, name) for name in SEALED_FIELDS}))
    return PersonRegisteredV2(
        person_id=event.person_id,
        **contract_values({name: getattr(details, name) for name in CLEAR_FIELDS}),
        birth_month=details.birth_date.strftime("%Y-%m"),
        certified=details.certified,
        personal_data=seal(
            personal, key, person_id=event.person_id, event_type=PersonRegisteredV2.event_type
        ),
    )


def correction_payload(event: PersonDetailsCorrected, key: DataKey) -> PersonDetailsCorrectedV2:
    clear = contract_values({name: value for name, value in event.changes.items() if name in CLEAR_FIELDS})
    personal = {name: value for name, value in event.changes.items() if name in SEALED_FIELDS}
    if "birth_date" in personal:
        clear["birth_month"] = personal["birth_date"].strftime("%Y-%m")
    if personal.get("certificate_number") or personal.get("veteran_certificate_number"):
        clear["certified"] = True
    if personal:
        correction = PersonalDetailsCorrection(**contract_values(personal))
        event_type = PersonDetailsCorrectedV2.event_type
        clear["personal_data"] = seal(correction, key, person_id=event.person_id, event_type=event_type)
    return PersonDetailsCorrectedV2(person_id=event.person_id, reason=event.reason, **clear)


def opened_details(payload: PersonRegisteredV2, key: DataKey | None) -> PersonDetails:
    """The registered details; identifying fields redacted when the key is gone or the seal is broken."""
    clear = {name: plain(getattr(payload, name)) for name in CLEAR_FIELDS}
    opened = _open(payload.personal_data, key, payload.person_id, payload.event_type, PersonalDetails)
    if isinstance(opened, PersonalDetails):
        personal = {name: plain(getattr(opened, name)) for name in SEALED_FIELDS}
    else:
        personal = _placeholders(opened, payload.birth_month, payload.certified)
    return PersonDetails(**clear, **personal)


def opened_changes(payload: PersonDetailsCorrectedV2, key: DataKey | None) -> dict[str, Any]:
    """The corrected identifying fields; none when they cannot be opened (the person was forgotten)."""
    if payload.personal_data is None:
        return {}
    event_type = payload.event_type
    opened = _open(payload.personal_data, key, payload.person_id, event_type, PersonalDetailsCorrection)
    if not isinstance(opened, PersonalDetailsCorrection):
        return {}
    return {name: plain(getattr(opened, name)) for name in SEALED_FIELDS if getattr(opened, name) is not None}


def _open(
    sealed: SealedPersonalData,
    key: DataKey | None,
    person_id: UUID,
    event_type: str,
    as_model: type[Opened],
) -> Opened | str:
    """The opened details, or the marker the unreadable fields show."""
    if key is None:
        return REDACTED
    try:
        return open_sealed(sealed, key, person_id=person_id, event_type=event_type, as_model=as_model)
    except SealBroken as broken:
        log.warning("personal data of person %s unreadable: %s", person_id, broken)
        return UNAVAILABLE


def _placeholders(marker: str, birth_month: str, certified: bool) -> dict[str, Any]:
    year, month = (int(part) for part in birth_month.split("-"))
    values: dict[str, Any] = {name: marker for name in SEALED_FIELDS}
    # The domain keeps a date: the month is in clear, the day is not (views show no date then).
    values.update(birth_date=date(year, month, 1), guardian=None, veteran_certificate_number=None)
    values["certificate_number"] = marker if certified else None
    return values


def is_redacted(value: object) -> bool:
    return value in (REDACTED, UNAVAILABLE)


def contract_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """Domain values as the contracts take them: guardians as models, tuples as lists."""
    contract: dict[str, Any] = {}
    for name, value in values.items():
        if isinstance(value, Guardian):
            contract[name] = GuardianContract(**vars(value))
        elif isinstance(value, tuple):
            contract[name] = list(value)
        else:
            contract[name] = value
    return contract


def plain(value: Any) -> Any:
    """Contract values as the domain holds them: plain strings, tuples, dataclasses."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list | tuple):
        return tuple(plain(item) for item in value)
    if isinstance(value, GuardianContract):
        return Guardian(**{name: plain(getattr(value, name)) for name in Guardian.__dataclass_fields__})
    return value
