"""Registering and correcting basic information: given events, when a command, then events or an error."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from uuid import uuid4

import pytest

from kernel.domain.rejections import CommandRejected, StateConflict
from services.survey.domain import Person, PersonDetailsCorrected, PersonRegistered
from tests.survey.people import STREETS, TODAY, adult, child, make_id, mother


def register(details, registered_on: date = TODAY, registered_as=None) -> list[PersonRegistered]:
    return Person().register(
        details, registered_on=registered_on, today=TODAY, streets=STREETS, registered_as=registered_as
    )


def rejected_field(details, **kwargs) -> str | None:
    with pytest.raises(CommandRejected) as error:
        register(details, **kwargs)
    return error.value.field


def registered(details=None) -> Person:
    return Person.from_history(register(details or adult()))


def test_a_certified_adult_is_registered_with_a_new_random_id() -> None:
    first, second = register(adult())[0], register(adult())[0]
    assert first.details == adult()
    assert first.person_id != second.person_id
    assert first.person_id.version == 4


def test_the_registration_date_is_kept() -> None:
    assert register(adult(), registered_on=date(2024, 10, 1))[0].registered_on == date(2024, 10, 1)


def test_a_street_outside_the_jurisdiction_is_refused_naming_the_street_field() -> None:
    with pytest.raises(CommandRejected, match="“解放碑”不是本辖区的街道") as error:
        register(adult(street="解放碑"))
    assert (error.value.field, error.value.code) == ("street", "survey.street.outside_jurisdiction")
    assert "鸳鸯" in error.value.message


@pytest.mark.parametrize("dot", ["\u2022", "\u30fb", "\uff65", "\u2027", "\u22c5", "\u0387", "\uff0e"])
def test_a_look_alike_of_the_middle_dot_in_a_name_is_refused_naming_the_right_one(dot: str) -> None:
    with pytest.raises(CommandRejected, match="U\\+00B7") as error:
        register(adult(name=f"阿依古丽{dot}买买提"))
    assert (error.value.field, error.value.code) == ("name", "survey.name.lookalike_middle_dot")


def test_a_minority_name_with_the_middle_dot_a_50_character_name_and_a_non_bmp_name_are_accepted() -> None:
    for name in ("阿依古丽·买买提", "𠮷田", "𠮷" * 50):
        assert register(adult(name=name))[0].details.name == name


def test_a_mistyped_id_number_is_refused() -> None:
    good = adult().id_number
    assert (
        rejected_field(
            adult(
                id_number=good[:-1] + ("0" if good[-1] != "0" else "1"),
                certificate_number=None,
                veteran_certificate_number="渝军残字第1号",
            )
        )
        == "id_number"
    )


def test_full_width_digits_in_the_id_number_are_refused() -> None:
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in adult().id_number if c.isdigit())
    assert (
        rejected_field(
            adult(id_number=full_width, certificate_number=None, veteran_certificate_number="渝军残字第1号")
        )
        == "id_number"
    )


def test_a_birth_date_differing_from_the_id_number_is_refused() -> None:
    details = adult()
    with pytest.raises(CommandRejected, match="与身份证号中的出生日期") as error:
        register(replace(details, birth_date=date(1958, 4, 21)))
    assert error.value.field == "birth_date"
    assert "出生日期 1958年4月21日 与身份证号中的出生日期 1958年4月12日 不一致" in error.value.message


def test_a_sex_contradicting_the_id_number_is_refused() -> None:
    with pytest.raises(CommandRejected, match="第 17 位") as error:
        register(adult(sex="female"))
    assert error.value.field == "sex"


def test_a_lower_case_x_in_the_id_number_is_stored_upper_case() -> None:
    born = date(1990, 3, 7)
    id_number = "11010119900307803X"
    assert make_id(born, "803", "110101") == id_number
    details = adult(
        birth_date=born,
        id_number=id_number.lower(),
        certificate_number=id_number.lower() + "13",
        disability_grade="grade_3",
    )
    event = register(details)[0]
    assert event.details.id_number == id_number
    assert event.details.certificate_number == id_number + "13"


def test_an_adult_without_any_certificate_is_refused() -> None:
    with pytest.raises(CommandRejected, match="只有未满 18 周岁的儿童") as error:
        register(adult(certificate_number=None))
    assert error.value.field == "certificate_number"


def test_a_veteran_certificate_counts_as_certified() -> None:
    event = register(adult(certificate_number=None, veteran_certificate_number="渝军残字第012345号"))[0]
    assert event.details.certified


def test_a_blank_certificate_number_counts_as_none() -> None:
    assert rejected_field(adult(certificate_number="  ")) == "certificate_number"


def test_a_certificate_number_of_another_id_is_refused() -> None:
    other = make_id(date(1970, 1, 1))
    assert rejected_field(adult(certificate_number=other + "12")) == "certificate_number"


def test_a_certificate_category_contradicting_the_declared_category_is_refused() -> None:
    details = adult()
    with pytest.raises(CommandRejected, match="类别位是 4"):
        register(replace(details, certificate_number=details.id_number + "42"))


def test_multiple_disabilities_need_category_digit_seven() -> None:
    details = adult(disability_categories=("vision", "hearing"))
    assert rejected_field(details) == "certificate_number"
    assert register(replace(details, certificate_number=details.id_number + "72"))[0].details.certified


def test_a_certificate_grade_contradicting_the_declared_grade_is_refused() -> None:
    assert rejected_field(adult(disability_grade="grade_4")) == "certificate_number"


def test_an_uncertified_child_with_a_guardian_is_registered() -> None:
    event = register(child())[0]
    assert not event.details.certified
    assert event.details.guardian == mother()


def test_a_child_needs_a_guardian() -> None:
    assert rejected_field(child(guardian=None)) == "guardian"


def test_the_eighteenth_birthday_ends_registration_without_a_certificate() -> None:
    born = date(2006, 11, 1)
    youth = child(birth_date=born, id_number=make_id(born, "124"))
    assert rejected_field(youth, registered_on=date(2024, 11, 1)) == "certificate_number"
    assert register(youth, registered_on=date(2024, 10, 31))[0].details.guardian is not None


def test_a_guardian_with_a_mistyped_id_number_is_refused() -> None:
    guardian = replace(mother(), id_number="500112198503152421")
    assert rejected_field(child(guardian=guardian)) == "guardian.id_number"


def test_a_guardian_whose_sex_contradicts_their_id_number_is_refused() -> None:
    assert rejected_field(child(guardian=replace(mother(), sex="male"))) == "guardian.sex"


def test_a_phone_with_letters_is_refused() -> None:
    assert rejected_field(adult(phone="138-abc")) == "phone"


@pytest.mark.parametrize(
    "phone",
    [
        "13800138000",
        "+86 138 0013 8000",
        "86-13800138000",
        "138-0013-8000",
        "0371-1234567",
        "023 67881234转123",
    ],
)
def test_mainland_mobile_and_landline_formats_are_accepted(phone: str) -> None:
    assert register(adult(phone=phone))[0].details.phone == phone


@pytest.mark.parametrize(
    "phone", ["12345", "23800138000", "1380013800", "138-0013-800", "67881234", "１３８００１３８０００"]
)
def test_a_phone_not_in_a_mainland_format_is_refused_with_its_code(phone: str) -> None:
    with pytest.raises(CommandRejected, match="不是有效的电话号码") as error:
        register(adult(phone=phone))
    assert (error.value.field, error.value.code) == ("phone", "survey.phone.format")


def test_a_landline_with_area_code_is_accepted() -> None:
    assert register(adult(phone="023-67881234"))[0].details.phone == "023-67881234"


def test_medical_insurance_none_cannot_be_combined() -> None:
    assert rejected_field(adult(medical_insurance=("none", "medical_aid"))) == "medical_insurance"


def test_a_repeated_category_is_refused() -> None:
    assert rejected_field(adult(disability_categories=("vision", "vision"))) == "disability_categories"


def test_a_registration_dated_in_the_future_is_refused() -> None:
    assert rejected_field(adult(), registered_on=date(2024, 11, 2)) == "registered_on"


def test_a_person_born_after_the_registration_date_is_refused() -> None:
    born = date(2024, 10, 20)
    baby = child(birth_date=born, id_number=make_id(born, "124"))
    assert rejected_field(baby, registered_on=date(2024, 10, 1)) == "birth_date"


def test_an_id_number_already_registered_is_a_conflict() -> None:
    holder = uuid4()
    with pytest.raises(StateConflict, match=str(holder)) as error:
        register(adult(), registered_as=holder)
    assert error.value.field == "id_number"


def test_a_registered_person_cannot_be_registered_again() -> None:
    with pytest.raises(StateConflict):
        registered().register(adult(), registered_on=TODAY, today=TODAY, streets=STREETS)


# -- corrections ---------------------------------------------------------------------------------------
def correct(person: Person, holder=None, **changes) -> list[PersonDetailsCorrected]:
    return person.correct(
        changes, reason="录入错误", corrected_on=TODAY, today=TODAY, streets=STREETS, id_number_holder=holder
    )


def test_a_correction_records_only_what_changed() -> None:
    person = registered()
    event = correct(person, phone="13800138001", name="李明")[0]
    assert event.changes == {"phone": "13800138001"}
    details = Person.from_history([*register(adult()), event]).details
    assert details is not None
    assert details.phone == "13800138001"


def test_a_correction_that_changes_nothing_is_refused() -> None:
    with pytest.raises(CommandRejected, match="没有改变任何信息"):
        correct(registered(), name="李明")


def test_a_corrected_street_must_be_in_the_jurisdiction() -> None:
    with pytest.raises(CommandRejected) as error:
        correct(registered(), street="江北城")
    assert error.value.field == "street"


def test_correcting_the_id_number_needs_a_consistent_certificate() -> None:
    born = date(1958, 4, 21)
    new_id = make_id(born)
    with pytest.raises(CommandRejected) as error:
        correct(registered(), id_number=new_id, birth_date=born)
    assert error.value.field == "certificate_number"
    event = correct(registered(), id_number=new_id, birth_date=born, certificate_number=new_id + "12")[0]
    assert set(event.changes) == {"id_number", "birth_date", "certificate_number"}


def test_correcting_to_an_id_number_held_by_another_person_is_a_conflict() -> None:
    born = date(1958, 4, 21)
    new_id = make_id(born)
    with pytest.raises(StateConflict):
        correct(
            registered(), holder=uuid4(), id_number=new_id, birth_date=born, certificate_number=new_id + "12"
        )


def test_an_unregistered_person_cannot_be_corrected() -> None:
    with pytest.raises(StateConflict):
        correct(Person(), phone="13800138001")


@pytest.mark.parametrize("community", ["1", "a", "金", "No.3"])
def test_where_the_pack_lists_no_communities_a_community_must_still_read_as_a_name(community: str) -> None:
    with pytest.raises(CommandRejected) as error:
        register(adult(community=community))

    assert (error.value.field, error.value.code) == ("community", "survey.community.not_a_name")
    assert "请填写社区或村的中文名称" in error.value.message


def test_a_community_of_two_chinese_characters_or_more_is_accepted_where_none_are_listed() -> None:
    assert register(adult(community="金渝"))
    assert register(adult(community="金渝社区（二组）"))
