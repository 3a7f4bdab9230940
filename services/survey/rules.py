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

from kernel.domain.clock import cn_date
from kernel.domain.rejections import CommandRejected, check_all
from services.survey.identity import (
    IdentityError,
    age_on,
    check_certificate_matches,
    normalise,
    normalise_certificate,
    parse_certificate_number,
    parse_resident_id,
)
from services.survey.labels import CATEGORY_LABELS, ITEM_LABELS, SEX_LABELS, SUBTYPE_LABELS

if TYPE_CHECKING:
    from services.survey.domain import Guardian, NeedsSurveyRequest, PersonDetails

ADULT_AGE = 18
"""Persons under 18 may be registered without a certificate (未持证残疾儿童)."""

ITEM_CATEGORIES: Mapping[str, str] = {
    "orientation_mobility_training": "vision",
    "low_vision_training": "vision",
    "support_service_midlife_blind": "vision",
    "support_service_mental": "mental",
    "mental_medication_aid": "mental",
    "mental_inpatient_aid": "mental",
}
"""Catalogue items defined for one disability category (盲人定向行走, 低视力训练, 支持性服务, Shapingba's
精神残疾人服药救助 and 住院补贴)."""
CHILDREN_ITEMS = frozenset(
    {"children_rehab_training", "children_transport_living_allowance", "suspected_disability_diagnosis"}
)
"""Catalogue items only for children under 18 (each policy's own age bands are settlement's to apply)."""
VISION_SUBTYPES = frozenset({"low_vision", "blind"})
"""低视力 and 盲: sub-types of 视力残疾, one at a time."""

LOOKALIKE_DOTS = frozenset("\u2022\u2027\u2219\u22c5\u30fb\uff65\u0387\u16eb\u2e31\u318d\u00b8\uff0e\u2024")
"""Characters typed for the middle dot of minority names (•‧∙⋅・･· ᛫ ⸱ ㆍ ¸ ． ․); only U+00B7 is accepted."""
_PHONE = re.compile(
    r"(?:\+?86[ -]?)?1[3-9][0-9][ -]?[0-9]{4}[ -]?[0-9]{4}"  # mobile 手机: 11 digits from 13x to 19x
    r"|0[0-9]{2,3}[ -]?[0-9]{7,8}(?:[ -]?(?:转|-)[0-9]{1,6})?"  # landline 固话 with area code, extension
)
"""Mainland phone formats, ASCII digits only: full-width digits are refused, not normalised."""


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


CHINESE_CHARACTER = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
MIN_COMMUNITY_LENGTH = 2
"""The shortest community (village) name: 「1」 or 「a」 is a slip, not a 社区."""


def check_community(details: PersonDetails, communities: Mapping[str, frozenset[str]]) -> None:
    """Where the pack lists the communities of the person's street (communities.toml), one of them;
    where it lists none, at least a name: two characters or more, some Chinese."""
    listed = communities.get(details.street)
    community = details.community
    if listed is None and (len(community) < MIN_COMMUNITY_LENGTH or not CHINESE_CHARACTER.search(community)):
        raise CommandRejected(
            f"社区“{community}”不像社区（村）的名称：请填写社区或村的中文名称，例如“金渝社区”",
            field="community",
            code="survey.community.not_a_name",
        )
    if listed is not None and details.community not in listed:
        raise CommandRejected(
            f"“{details.community}”不是“{details.street}”的社区（按本辖区的社区名录）；"
            f"可选：{'、'.join(sorted(listed))}",
            field="community",
            code="survey.community.unknown",
        )


def check_details(details: PersonDetails, streets: tuple[str, ...], *, on_day: date, today: date) -> None:
    """Every rule of the basic information; all that refuse are named at once (one 422, each field)."""
    check_all(
        lambda: _check_street(details.street, streets),
        lambda: _check_not_future(on_day, today),
        lambda: _check_name(details.name),
        lambda: _check_lists(details),
        lambda: _check_identity_of(details),
        lambda: _check_born_by(details.birth_date, on_day),
        lambda: _check_phone(details.phone, "phone"),
        # An unborn person's age says nothing: the birth date's own error is enough.
        lambda: None if details.birth_date > on_day else _check_certified_or_child(details, on_day),
        lambda: None if details.guardian is None else _check_guardian(details.guardian),
    )


def _check_street(street: str, streets: tuple[str, ...]) -> None:
    if street not in streets:
        raise CommandRejected(
            f"“{street}”不是本辖区的街道，不属于服务对象；可选：{'、'.join(streets)}",
            field="street",
            code="survey.street.outside_jurisdiction",
        )


def _check_not_future(on_day: date, today: date) -> None:
    if on_day > today:
        raise CommandRejected(
            f"登记日期 {cn_date(on_day)} 晚于今天", field="registered_on", code="survey.registered_on.future"
        )


def _check_identity_of(details: PersonDetails) -> None:
    try:
        _check_identity(details)
    except IdentityError as error:
        raise CommandRejected(error.message, field=error.field, code=error.code) from None


def _check_born_by(birth_date: date, on_day: date) -> None:
    if birth_date > on_day:
        raise CommandRejected(
            f"出生日期 {cn_date(birth_date)} 晚于 {cn_date(on_day)}",
            field="birth_date",
            code="survey.birth_date.future",
        )


def _check_identity(details: PersonDetails) -> None:
    resident = parse_resident_id(details.id_number)
    if resident.birth_date != details.birth_date:
        raise IdentityError(
            f"出生日期 {cn_date(details.birth_date)} 与身份证号中的出生日期 "
            f"{cn_date(resident.birth_date)} 不一致",
            "birth_date",
            "id_number_mismatch",
        )
    if resident.sex != details.sex:
        raise IdentityError(
            f"性别“{SEX_LABELS.get(details.sex, details.sex)}”与身份证号不一致：第 17 位为"
            f"{'奇数（男）' if resident.sex == 'male' else '偶数（女）'}",
            "sex",
            "id_number_mismatch",
        )
    if details.certificate_number is not None:
        certificate = parse_certificate_number(details.certificate_number, resident.number)
        check_certificate_matches(certificate, details.disability_categories, details.disability_grade)


def _check_name(name: str) -> None:
    """Minority names use the middle dot U+00B7; a look-alike would make a second spelling of one person."""
    if found := sorted({character for character in name if character in LOOKALIKE_DOTS}):
        shown = "、".join(f"“{c}”（U+{ord(c):04X}）" for c in found)
        raise CommandRejected(
            f"姓名中的 {shown} 不是间隔号：少数民族姓名请使用间隔号“·”（U+00B7）",
            field="name",
            code="survey.name.lookalike_middle_dot",
        )


def _check_lists(details: PersonDetails) -> None:
    if not details.disability_categories:
        raise CommandRejected(
            "请至少选择一个残疾类别",
            field="disability_categories",
            code="survey.disability_categories.required",
        )
    _require_unique(details.disability_categories, "disability_categories")
    if not details.medical_insurance:
        raise CommandRejected(
            "请至少选择一种医疗保险，没有则选“无”",
            field="medical_insurance",
            code="survey.medical_insurance.required",
        )
    _require_unique(details.medical_insurance, "medical_insurance")
    if "none" in details.medical_insurance and len(details.medical_insurance) > 1:
        raise CommandRejected(
            "医疗保险选了“无”就不能再选其他保险",
            field="medical_insurance",
            code="survey.medical_insurance.none_combined",
        )


def _check_certified_or_child(details: PersonDetails, on_day: date) -> None:
    age = age_on(details.birth_date, on_day)
    if age < ADULT_AGE:
        if details.guardian is None:
            raise CommandRejected(
                f"未满 {ADULT_AGE} 周岁的儿童（{age} 岁）须填写监护人",
                field="guardian",
                code="survey.guardian.required_for_child",
            )
        return
    if not details.certified:
        raise CommandRejected(
            f"成年人（{age} 岁）须填写残疾人证号或残疾军人证号；"
            f"只有未满 {ADULT_AGE} 周岁的儿童可以未持证登记",
            field="certificate_number",
            code="survey.certificate_number.required_for_adult",
        )


def _check_guardian(guardian: Guardian) -> None:
    _check_phone(guardian.phone, "guardian.phone")
    if not guardian.id_number:
        return
    try:
        resident = parse_resident_id(guardian.id_number, field="guardian.id_number")
    except IdentityError as error:
        raise CommandRejected(f"监护人{error.message}", field=error.field, code=error.code) from None
    if resident.sex != guardian.sex:
        raise CommandRejected(
            f"监护人性别“{SEX_LABELS.get(guardian.sex, guardian.sex)}”与监护人身份证号不一致",
            field="guardian.sex",
            code="survey.guardian.sex.id_number_mismatch",
        )


def _check_phone(phone: str, field_name: str) -> None:
    if not _PHONE.fullmatch(phone.strip()):
        raise CommandRejected(
            f"“{phone}”不是有效的电话号码：请用半角数字填写手机号（如 13800138000）或固话（如 023-67881234）",
            field=field_name,
            code=f"survey.{field_name}.format",
        )


def check_survey_dates(request: NeedsSurveyRequest, details: PersonDetails, today: date) -> None:
    if request.surveyed_on > today:
        raise CommandRejected(
            f"调查日期 {cn_date(request.surveyed_on)} 晚于今天",
            field="surveyed_on",
            code="survey.surveyed_on.future",
        )
    if request.surveyed_on.year != request.survey_year:
        raise CommandRejected(
            f"调查日期 {cn_date(request.surveyed_on)} 不在调查年度 {request.survey_year} 内",
            field="surveyed_on",
            code="survey.surveyed_on.outside_year",
        )
    if request.surveyed_on < details.birth_date:
        raise CommandRejected(
            "调查日期早于此人的出生日期", field="surveyed_on", code="survey.surveyed_on.before_birth"
        )


def check_needed_items(request: NeedsSurveyRequest, details: PersonDetails) -> None:
    if request.has_needs and not request.needed_items:
        raise CommandRejected(
            "有康复需求时请至少选择一个需求项目", field="needed_items", code="survey.needed_items.required"
        )
    if not request.has_needs and request.needed_items:
        raise CommandRejected(
            "无康复需求时不能选择需求项目", field="needed_items", code="survey.needed_items.without_needs"
        )
    _require_unique(request.needed_items, "needed_items")
    for item in request.needed_items:
        category = ITEM_CATEGORIES.get(item)
        if category is not None and category not in details.disability_categories:
            raise CommandRejected(
                f"“{ITEM_LABELS.get(item, item)}”只适用于{CATEGORY_LABELS[category]}残疾人；此人的残疾类别是"
                f"{'、'.join(CATEGORY_LABELS.get(c, c) for c in details.disability_categories)}",
                field="needed_items",
                code="survey.needed_items.category_mismatch",
            )
        if item in CHILDREN_ITEMS and age_on(details.birth_date, request.surveyed_on) >= ADULT_AGE:
            raise CommandRejected(
                f"“{ITEM_LABELS.get(item, item)}”只适用于未满 {ADULT_AGE} 周岁的儿童",
                field="needed_items",
                code="survey.needed_items.children_only",
            )


def check_person_facts(request: NeedsSurveyRequest, details: PersonDetails) -> None:
    """低视力/盲 only for a 视力残疾, never both; no sub-type or hardship status twice."""
    _require_unique(request.disability_subtypes, "disability_subtypes")
    _require_unique(request.hardship_statuses, "hardship_statuses")
    vision = sorted(VISION_SUBTYPES & set(request.disability_subtypes))
    if len(vision) > 1:
        raise CommandRejected(
            "低视力与盲只能选择其一",
            field="disability_subtypes",
            code="survey.disability_subtypes.both_vision",
        )
    if vision and "vision" not in details.disability_categories:
        raise CommandRejected(
            f"“{SUBTYPE_LABELS[vision[0]]}”只适用于视力残疾人；此人的残疾类别是"
            f"{'、'.join(CATEGORY_LABELS.get(c, c) for c in details.disability_categories)}",
            field="disability_subtypes",
            code="survey.disability_subtypes.not_vision",
        )


def _require_unique(values: tuple[str, ...], field_name: str) -> None:
    repeated = sorted({value for value in values if values.count(value) > 1})
    if repeated:
        raise CommandRejected(
            f"重复选择了：{'、'.join(repeated)}", field=field_name, code=f"survey.{field_name}.repeated"
        )
