"""Checks of the resident ID number 身份证号 (GB 11643-1999) and the disability certificate number 残疾人证号.

Pure functions with no I/O: the survey domain calls them and turns an ``IdentityError`` into a
rejected command naming the field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from services.survey.labels import CATEGORY_LABELS, GRADE_LABELS

ID_LENGTH = 18
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
"""Weights of the first 17 characters in ISO 7064 MOD 11-2, as GB 11643 prescribes."""
CHECK_CHARACTERS = "10X98765432"
"""Check character by (weighted sum mod 11)."""

PROVINCE_CODES = frozenset(
    {
        "11",
        "12",
        "13",
        "14",
        "15",
        "21",
        "22",
        "23",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "37",
        "41",
        "42",
        "43",
        "44",
        "45",
        "46",
        "50",
        "51",
        "52",
        "53",
        "54",
        "61",
        "62",
        "63",
        "64",
        "65",
        "71",
        "81",
        "82",
        "83",
        "91",
    }
)
"""First two digits of an address code: provinces, plus 81-83 (Hong Kong, Macao, Taiwan residence
permits) and 91 (foreigners' permanent residence ID cards of 2023)."""

CATEGORY_DIGITS = {
    "vision": "1",
    "hearing": "2",
    "speech": "3",
    "physical": "4",
    "intellectual": "5",
    "mental": "6",
}
"""Digit 19 of a certificate number for a single category 残疾类别."""
MULTIPLE_DISABILITY_DIGIT = "7"
"""Digit 19 for several categories 多重残疾."""
GRADE_DIGITS = {"grade_1": "1", "grade_2": "2", "grade_3": "3", "grade_4": "4"}
"""Digit 20 of a certificate number: the grade 残疾等级 一级..四级."""

_ASCII_DIGITS = re.compile(r"[0-9]+")


class IdentityError(ValueError):
    """An ID or certificate number is malformed or contradicts the other details."""

    def __init__(self, message: str, field: str, reason: str) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = f"survey.{field}.{reason}"
        """Stable error code, e.g. ``survey.id_number.checksum``."""


@dataclass(frozen=True)
class ResidentId:
    """What an 18-character resident ID number says about its holder."""

    number: str
    address_code: str
    birth_date: date
    sex: str
    """"male" when the 17th digit (sequence code) is odd, else "female"."""


@dataclass(frozen=True)
class DisabilityCertificate:
    """What a 20-character disability certificate number 残疾人证号 says."""

    number: str
    id_number: str
    category_digit: str
    grade_digit: str


def check_character(first_seventeen: str) -> str:
    """The GB 11643 check character of 17 ASCII digits."""
    total = sum(int(digit) * weight for digit, weight in zip(first_seventeen, WEIGHTS, strict=True))
    return CHECK_CHARACTERS[total % 11]


def normalise(text: str) -> str:
    """Trim spaces and accept a lower-case check character ``x`` as ``X``."""
    stripped = text.strip()
    return stripped[:-1] + "X" if stripped.endswith("x") else stripped


def parse_resident_id(text: str, field: str = "id_number") -> ResidentId:
    """Validate a resident ID number; raises IdentityError explaining the first problem found."""
    number = normalise(text)
    if len(number) != ID_LENGTH:
        raise IdentityError(f"身份证号应为 18 位，“{number}”是 {len(number)} 位", field, "length")
    body, check = number[:17], number[17]
    if not _is_ascii_digits(body) or not (_is_ascii_digits(check) or check == "X"):
        raise IdentityError(
            "身份证号应为 17 位半角数字 0-9 加一位数字或 X；全角数字（如 ０-９）和其他字符不能使用，"
            "请用半角重新输入",
            field,
            "characters",
        )
    if body[:2] not in PROVINCE_CODES:
        raise IdentityError(f"身份证号前两位“{body[:2]}”不是省级行政区代码：请核对号码", field, "province")
    birth_date = _birth_date(body[6:14], field)
    expected = check_character(body)
    if check != expected:
        raise IdentityError(
            f"身份证号校验码应为 {expected}，这里是 {check}：可能有一位数字输错，请核对",
            field,
            "checksum",
        )
    sex = "male" if int(body[16]) % 2 == 1 else "female"
    return ResidentId(number=number, address_code=body[:6], birth_date=birth_date, sex=sex)


def _is_ascii_digits(text: str) -> bool:
    return _ASCII_DIGITS.fullmatch(text) is not None


def _birth_date(digits: str, field: str) -> date:
    try:
        born = date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        raise IdentityError(
            f"身份证号第 7-14 位（{digits}）不是真实的出生日期（年月日）", field, "birth_date"
        ) from None
    if born.year < 1900:
        raise IdentityError(f"身份证号中的出生年份 {born.year} 早于 1900 年", field, "birth_date")
    return born


def parse_certificate_number(
    text: str, id_number: str, field: str = "certificate_number"
) -> DisabilityCertificate:
    """Validate a certificate number against the holder's (already valid) ID number."""
    number = normalise_certificate(text)
    if len(number) != ID_LENGTH + 2:
        raise IdentityError(
            f"残疾人证号应为 20 位：18 位身份证号加残疾类别一位、残疾等级一位；“{number}”是 {len(number)} 位",
            field,
            "length",
        )
    if number[:ID_LENGTH] != id_number:
        raise IdentityError("残疾人证号前 18 位应与本人身份证号相同", field, "id_mismatch")
    category_digit, grade_digit = number[18], number[19]
    if category_digit not in {*CATEGORY_DIGITS.values(), MULTIPLE_DISABILITY_DIGIT}:
        raise IdentityError(
            f"残疾人证号第 19 位是残疾类别（1 视力、2 听力、3 言语、4 肢体、5 智力、6 精神、7 多重），"
            f"不能是“{category_digit}”",
            field,
            "category_digit",
        )
    if grade_digit not in GRADE_DIGITS.values():
        raise IdentityError(f"残疾人证号第 20 位是残疾等级 1-4，不能是“{grade_digit}”", field, "grade_digit")
    return DisabilityCertificate(number, id_number, category_digit, grade_digit)


def normalise_certificate(text: str) -> str:
    """Trim spaces and upper-case a lower-case ``x`` in position 18."""
    number = text.strip()
    if len(number) == ID_LENGTH + 2 and number[17] == "x":
        number = number[:17] + "X" + number[18:]
    return number


def check_certificate_matches(
    certificate: DisabilityCertificate,
    categories: tuple[str, ...],
    grade: str,
    field: str = "certificate_number",
) -> None:
    """The category and grade digits must agree with the declared categories and grade."""
    expected_category = (
        MULTIPLE_DISABILITY_DIGIT if len(categories) > 1 else CATEGORY_DIGITS.get(categories[0], "?")
    )
    if certificate.category_digit != expected_category:
        declared = (
            "多重（7）"
            if len(categories) > 1
            else f"{CATEGORY_LABELS.get(categories[0])}（{expected_category}）"
        )
        raise IdentityError(
            f"残疾人证号的类别位是 {certificate.category_digit}，与填报的残疾类别 {declared} 不一致",
            field,
            "category_mismatch",
        )
    expected_grade = GRADE_DIGITS.get(grade)
    if expected_grade is None:
        raise IdentityError(
            f"持证人的残疾等级应为一至四级，不能是“{GRADE_LABELS.get(grade, grade)}”；"
            f"残疾人证号上是 {certificate.grade_digit} 级",
            "disability_grade",
            "ungraded_with_certificate",
        )
    if certificate.grade_digit != expected_grade:
        raise IdentityError(
            f"残疾人证号的等级位是 {certificate.grade_digit}，"
            f"与填报的残疾等级{GRADE_LABELS.get(grade, grade)}不一致",
            field,
            "grade_mismatch",
        )


def age_on(birth_date: date, day: date) -> int:
    """Full years of age on a day."""
    had_birthday = (day.month, day.day) >= (birth_date.month, birth_date.day)
    return day.year - birth_date.year - (0 if had_birthday else 1)
