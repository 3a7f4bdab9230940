"""Rules of basic information and needs surveys: identity, certification, eligibility of catalogue items.

Pure functions the person aggregate calls from its command methods; each raises CommandRejected
naming the offending field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING

from services.eventing.rejections import CommandRejected
from services.survey.identity import (
    IdentityError,
    age_on,
    check_certificate_matches,
    normalise,
    normalise_certificate,
    parse_certificate_number,
    parse_resident_id,
)

if TYPE_CHECKING:
    from services.survey.domain import Guardian, NeedsSurveyRequest, PersonDetails

ADULT_AGE = 18
"""Persons under 18 may be registered without a certificate (未持证残疾儿童)."""

ITEM_CATEGORIES: Mapping[str, str] = {
    "orientation_mobility_training": "vision",
    "low_vision_training": "vision",
    "support_service_midlife_blind": "vision",
    "support_service_mental": "mental",
}
"""Catalogue items defined for one disability category (盲人定向行走, 低视力训练, 支持性服务)."""
CHILDREN_ITEMS = frozenset({"children_rehab_training"})
"""Catalogue items only for children under 18."""

_PHONE = re.compile(r"\+?[0-9][0-9 -]{4,19}")


def normalised(details: PersonDetails) -> PersonDetails:
    guardian = details.guardian
    if guardian is not None:
        id_number = normalise(guardian.id_number) if guardian.id_number else None
        guardian = replace(guardian, id_number=id_number or None, phone=guardian.phone.strip())
    certificate = _blank_to_none(details.certificate_number)
    return replace(
        details,
        id_number=normalise(details.id_number),
        certificate_number=normalise_certificate(certificate) if certificate else None,
        veteran_certificate_number=_blank_to_none(details.veteran_certificate_number),
        phone=details.phone.strip(),
        guardian=guardian,
    )


def _blank_to_none(text: str | None) -> str | None:
    stripped = (text or "").strip()
    return stripped or None


def check_details(details: PersonDetails, streets: tuple[str, ...], *, on_day: date, today: date) -> None:
    if details.street not in streets:
        raise CommandRejected(
            f"street {details.street!r} is not a street of this jurisdiction; one of: {'、'.join(streets)}",
            field="street",
        )
    if on_day > today:
        raise CommandRejected(f"{on_day} is in the future", field="registered_on")
    _check_lists(details)
    try:
        _check_identity(details)
    except IdentityError as error:
        raise CommandRejected(error.message, field=error.field) from None
    if details.birth_date > on_day:
        raise CommandRejected(f"birth_date {details.birth_date} is after {on_day}", field="birth_date")
    _check_phone(details.phone, "phone")
    _check_certified_or_child(details, on_day)
    if details.guardian is not None:
        _check_guardian(details.guardian)


def _check_identity(details: PersonDetails) -> None:
    resident = parse_resident_id(details.id_number)
    if resident.birth_date != details.birth_date:
        raise IdentityError(
            f"birth_date {details.birth_date} differs from the date of birth in the ID number "
            f"({resident.birth_date})",
            "birth_date",
        )
    if resident.sex != details.sex:
        raise IdentityError(
            f"sex {details.sex!r} contradicts the ID number, whose 17th digit says {resident.sex!r} "
            "(odd = male, even = female)",
            "sex",
        )
    if details.certificate_number is not None:
        certificate = parse_certificate_number(details.certificate_number, resident.number)
        check_certificate_matches(certificate, details.disability_categories, details.disability_grade)


def _check_lists(details: PersonDetails) -> None:
    if not details.disability_categories:
        raise CommandRejected("at least one disability category 残疾类别", field="disability_categories")
    _require_unique(details.disability_categories, "disability_categories")
    if not details.medical_insurance:
        raise CommandRejected("tick at least one medical insurance, or 'none'", field="medical_insurance")
    _require_unique(details.medical_insurance, "medical_insurance")
    if "none" in details.medical_insurance and len(details.medical_insurance) > 1:
        raise CommandRejected(
            "medical_insurance 'none' cannot be combined with an insurance", field="medical_insurance"
        )


def _check_certified_or_child(details: PersonDetails, on_day: date) -> None:
    age = age_on(details.birth_date, on_day)
    if age < ADULT_AGE:
        if details.guardian is None:
            raise CommandRejected(
                f"a child under {ADULT_AGE} (aged {age}) needs a guardian 监护人", field="guardian"
            )
        return
    if not details.certified:
        raise CommandRejected(
            f"an adult (aged {age}) needs a certificate_number 残疾人证号 or a veteran_certificate_number "
            f"残疾军人证号; only children under {ADULT_AGE} may be registered without a certificate",
            field="certificate_number",
        )


def _check_guardian(guardian: Guardian) -> None:
    _check_phone(guardian.phone, "guardian.phone")
    if not guardian.id_number:
        return
    try:
        resident = parse_resident_id(guardian.id_number, field="guardian.id_number")
    except IdentityError as error:
        raise CommandRejected(f"guardian: {error.message}", field=error.field) from None
    if resident.sex != guardian.sex:
        raise CommandRejected(
            f"guardian sex {guardian.sex!r} contradicts the guardian's ID number ({resident.sex!r})",
            field="guardian.sex",
        )


def _check_phone(phone: str, field_name: str) -> None:
    if not _PHONE.fullmatch(phone.strip()):
        raise CommandRejected(
            f"{phone!r} is not a phone number: ASCII digits such as 13800138000 or 023-67881234",
            field=field_name,
        )


def check_survey_dates(request: NeedsSurveyRequest, details: PersonDetails, today: date) -> None:
    if request.surveyed_on > today:
        raise CommandRejected(f"surveyed_on {request.surveyed_on} is in the future", field="surveyed_on")
    if request.surveyed_on.year != request.survey_year:
        raise CommandRejected(
            f"surveyed_on {request.surveyed_on} is not in survey_year {request.survey_year}",
            field="surveyed_on",
        )
    if request.surveyed_on < details.birth_date:
        raise CommandRejected("surveyed_on is before the person's birth_date", field="surveyed_on")


def check_needed_items(request: NeedsSurveyRequest, details: PersonDetails) -> None:
    if request.has_needs and not request.needed_items:
        raise CommandRejected(
            "has_needs is true: name at least one catalogue item needed", field="needed_items"
        )
    if not request.has_needs and request.needed_items:
        raise CommandRejected("has_needs is false, so needed_items must be empty", field="needed_items")
    _require_unique(request.needed_items, "needed_items")
    for item in request.needed_items:
        category = ITEM_CATEGORIES.get(item)
        if category is not None and category not in details.disability_categories:
            raise CommandRejected(
                f"{item} is for persons with {category} disability; this person's categories are "
                f"{', '.join(details.disability_categories)}",
                field="needed_items",
            )
        if item in CHILDREN_ITEMS and age_on(details.birth_date, request.surveyed_on) >= ADULT_AGE:
            raise CommandRejected(f"{item} is for children under {ADULT_AGE}", field="needed_items")


def _require_unique(values: tuple[str, ...], field_name: str) -> None:
    repeated = sorted({value for value in values if values.count(value) > 1})
    if repeated:
        raise CommandRejected(f"{field_name} repeats {', '.join(repeated)}", field=field_name)
