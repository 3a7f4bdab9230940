"""The resident ID number (GB 11643) and disability certificate number checks."""

from __future__ import annotations

from datetime import date

import pytest

from services.survey.identity import (
    IdentityError,
    age_on,
    check_certificate_matches,
    check_character,
    parse_certificate_number,
    parse_resident_id,
)
from tests.survey.people import make_id

KNOWN_VALID = "11010519491231002X"
"""The GB 11643 standard's own example: a woman born 1949-12-31 in Beijing's Chaoyang district."""


def test_the_standard_example_has_check_character_x() -> None:
    assert check_character("11010519491231002") == "X"


@pytest.mark.parametrize(
    ("body", "expected"),
    [("44052418800101001", "4"), ("50011219580412231", "3"), ("11010119900307803", "X")],
)
def test_check_character_is_iso_7064_mod_11_2(body: str, expected: str) -> None:
    total = sum(
        int(d) * w for d, w in zip(body, (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2), strict=True)
    )
    assert "10X98765432"[total % 11] == expected == check_character(body)


def test_a_valid_number_yields_birth_date_and_sex() -> None:
    resident = parse_resident_id(KNOWN_VALID)
    assert resident.birth_date == date(1949, 12, 31)
    assert resident.sex == "female"
    assert resident.address_code == "110105"


def test_an_odd_seventeenth_digit_means_male() -> None:
    assert parse_resident_id(make_id(date(1958, 4, 12), "231")).sex == "male"
    assert parse_resident_id(make_id(date(1958, 4, 12), "232")).sex == "female"


def test_a_lower_case_x_is_accepted_as_upper_case() -> None:
    assert parse_resident_id("11010519491231002x").number == KNOWN_VALID


def test_surrounding_spaces_are_ignored() -> None:
    assert parse_resident_id(f" {KNOWN_VALID} ").number == KNOWN_VALID


def test_a_wrong_check_character_says_a_digit_is_mistyped() -> None:
    with pytest.raises(IdentityError, match="可能有一位数字输错") as error:
        parse_resident_id("110105194912310021")
    assert (error.value.field, error.value.code) == ("id_number", "survey.id_number.checksum")


def test_swapping_two_digits_breaks_the_check() -> None:
    swapped = KNOWN_VALID[:15] + KNOWN_VALID[16] + KNOWN_VALID[15] + KNOWN_VALID[17:]
    assert swapped != KNOWN_VALID
    with pytest.raises(IdentityError, match="校验码"):
        parse_resident_id(swapped)


@pytest.mark.parametrize("number", ["1101051949123100", "11010519491231002X1", ""])
def test_a_number_that_is_not_18_characters_is_refused(number: str) -> None:
    with pytest.raises(IdentityError, match="应为 18 位"):
        parse_resident_id(number)


def test_full_width_digits_are_refused() -> None:
    full_width = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in KNOWN_VALID)
    assert full_width != KNOWN_VALID and len(full_width) == 18
    with pytest.raises(IdentityError, match="全角数字") as error:
        parse_resident_id(full_width)
    assert error.value.code == "survey.id_number.characters"


def test_other_unicode_digits_are_refused() -> None:
    arabic_indic = "١" + KNOWN_VALID[1:]
    with pytest.raises(IdentityError, match="半角数字"):
        parse_resident_id(arabic_indic)


def test_an_x_anywhere_but_last_is_refused() -> None:
    with pytest.raises(IdentityError, match="半角数字"):
        parse_resident_id("1101051949123100X2")


def test_an_impossible_date_of_birth_is_refused() -> None:
    body = "50011219570229231"  # 1957 was not a leap year
    with pytest.raises(IdentityError, match="不是真实的出生日期"):
        parse_resident_id(body + check_character(body))


def test_month_thirteen_is_refused() -> None:
    body = "50011219581312231"
    with pytest.raises(IdentityError, match="不是真实的出生日期"):
        parse_resident_id(body + check_character(body))


def test_a_leap_day_birth_is_accepted() -> None:
    assert parse_resident_id(make_id(date(1960, 2, 29))).birth_date == date(1960, 2, 29)


def test_an_unknown_province_code_is_refused() -> None:
    body = "00011219580412231"
    with pytest.raises(IdentityError, match="省级行政区代码"):
        parse_resident_id(body + check_character(body))


def test_the_field_name_can_be_chosen_for_a_guardian() -> None:
    with pytest.raises(IdentityError) as error:
        parse_resident_id("123", field="guardian.id_number")
    assert error.value.field == "guardian.id_number"
    assert error.value.code == "survey.guardian.id_number.length"


# -- certificate numbers -------------------------------------------------------------------------------
ID = make_id(date(1958, 4, 12))


def test_a_certificate_number_is_the_id_plus_category_and_grade() -> None:
    certificate = parse_certificate_number(ID + "12", ID)
    assert (certificate.category_digit, certificate.grade_digit) == ("1", "2")


def test_a_certificate_of_someone_else_is_refused() -> None:
    other = make_id(date(1960, 1, 1))
    with pytest.raises(IdentityError, match="与本人身份证号相同"):
        parse_certificate_number(other + "12", ID)


@pytest.mark.parametrize("suffix", ["1", "123", ""])
def test_a_certificate_number_of_the_wrong_length_is_refused(suffix: str) -> None:
    with pytest.raises(IdentityError, match="应为 20 位"):
        parse_certificate_number(ID + suffix, ID)


@pytest.mark.parametrize("category_digit", ["0", "8", "9"])
def test_an_unknown_category_digit_is_refused(category_digit: str) -> None:
    with pytest.raises(IdentityError, match="残疾类别"):
        parse_certificate_number(ID + category_digit + "2", ID)


@pytest.mark.parametrize("grade_digit", ["0", "5", "9"])
def test_an_unknown_grade_digit_is_refused(grade_digit: str) -> None:
    with pytest.raises(IdentityError, match="残疾等级 1-4"):
        parse_certificate_number(ID + "1" + grade_digit, ID)


def test_a_lower_case_x_inside_a_certificate_number_is_accepted() -> None:
    id_x = KNOWN_VALID
    certificate = parse_certificate_number(id_x[:17] + "x" + "43", id_x)
    assert certificate.number == id_x + "43"


@pytest.mark.parametrize(
    ("digit", "categories"),
    [
        ("1", ("vision",)),
        ("2", ("hearing",)),
        ("3", ("speech",)),
        ("4", ("physical",)),
        ("5", ("intellectual",)),
        ("6", ("mental",)),
        ("7", ("physical", "speech")),
    ],
)
def test_the_category_digit_matches_the_declared_categories(digit: str, categories: tuple[str, ...]) -> None:
    check_certificate_matches(parse_certificate_number(ID + digit + "3", ID), categories, "grade_3")


def test_a_single_category_certificate_contradicts_multiple_categories() -> None:
    with pytest.raises(IdentityError, match="多重"):
        check_certificate_matches(
            parse_certificate_number(ID + "1" + "3", ID), ("vision", "hearing"), "grade_3"
        )


def test_a_category_digit_contradicting_the_category_is_refused() -> None:
    with pytest.raises(IdentityError, match="类别位是 4"):
        check_certificate_matches(parse_certificate_number(ID + "43", ID), ("vision",), "grade_3")


def test_a_grade_digit_contradicting_the_grade_is_refused() -> None:
    with pytest.raises(IdentityError, match="等级位是 3"):
        check_certificate_matches(parse_certificate_number(ID + "13", ID), ("vision",), "grade_1")


def test_a_certified_person_cannot_be_ungraded() -> None:
    with pytest.raises(IdentityError, match="不能是“未定级”") as error:
        check_certificate_matches(parse_certificate_number(ID + "13", ID), ("vision",), "ungraded")
    assert error.value.field == "disability_grade"


@pytest.mark.parametrize(
    ("day", "age"),
    [(date(2024, 4, 11), 65), (date(2024, 4, 12), 66), (date(1958, 4, 12), 0)],
)
def test_age_counts_full_years(day: date, age: int) -> None:
    assert age_on(date(1958, 4, 12), day) == age
