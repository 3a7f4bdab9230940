"""The yearly needs survey 康复需求调查: given events, when surveyed, then events or an error."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from uuid import UUID, uuid4

import pytest

from kernel.domain.rejections import CommandRejected, StateConflict
from services.survey.domain import NeedSurveyed, Person, PersonDetailsCorrected
from tests.survey.people import STREETS, TODAY, adult, child, survey_request


def history(details=None):
    return Person().register(details or adult(), registered_on=TODAY, today=TODAY, streets=STREETS)


def stored(event: NeedSurveyed) -> NeedSurveyed:
    """The event as it comes back from the store, with its event id."""
    return replace(event, event_id=uuid4())


def survey(events, **changes) -> NeedSurveyed:
    return Person.from_history(events).survey(survey_request(**changes), today=TODAY)[0]


def rejected_field(events, **changes) -> str | None:
    with pytest.raises(CommandRejected) as error:
        survey(events, **changes)
    return error.value.field


def test_a_survey_carries_the_non_identifying_eligibility_facts() -> None:
    registered = history()
    event = survey(registered)
    assert event.person_id == registered[0].person_id
    assert (event.street, event.community) == ("鸳鸯", "金渝社区")
    assert event.certified
    assert event.disability_categories == ("vision",)
    assert event.disability_grade == "grade_2"
    assert event.birth_month == "1958-04"
    assert event.economic_status == "subsistence_allowance"
    assert event.supersedes is None


def test_a_survey_uses_the_details_as_corrected() -> None:
    registered = history()
    moved = PersonDetailsCorrected(
        registered[0].person_id, "搬家", {"street": "人和", "community": "人和社区"}, TODAY
    )
    event = survey([*registered, moved])
    assert (event.street, event.community) == ("人和", "人和社区")


def test_a_survey_without_needs_has_no_items() -> None:
    event = survey(history(), has_needs=False, needed_items=())
    assert not event.has_needs and event.needed_items == ()


def test_needs_without_items_are_refused() -> None:
    assert rejected_field(history(), has_needs=True, needed_items=()) == "needed_items"


def test_items_without_needs_are_refused() -> None:
    assert rejected_field(history(), has_needs=False) == "needed_items"


def test_a_repeated_item_is_refused() -> None:
    assert rejected_field(history(), needed_items=("cataract_surgery", "cataract_surgery")) == "needed_items"


def test_a_vision_item_for_a_person_without_vision_disability_is_refused() -> None:
    with pytest.raises(CommandRejected, match="只适用于视力残疾人"):
        survey(history(child()), needed_items=("orientation_mobility_training",))


def test_cataract_surgery_is_open_to_any_category() -> None:
    assert survey(history(child()), needed_items=("cataract_surgery",)).needed_items == ("cataract_surgery",)


def test_the_mental_support_service_needs_mental_disability() -> None:
    assert rejected_field(history(), needed_items=("support_service_mental",)) == "needed_items"


def test_children_rehab_training_is_for_children_only() -> None:
    assert rejected_field(history(), needed_items=("children_rehab_training",)) == "needed_items"
    assert survey(history(child()), needed_items=("children_rehab_training",)).needed_items


def test_an_uncertified_child_is_surveyed_as_uncertified() -> None:
    assert not survey(history(child()), needed_items=("assistive_device_fitting",)).certified


def test_a_survey_dated_in_the_future_is_refused() -> None:
    assert rejected_field(history(), surveyed_on=date(2024, 11, 2)) == "surveyed_on"


def test_a_survey_dated_outside_its_year_is_refused() -> None:
    assert rejected_field(history(), survey_year=2023) == "surveyed_on"


def test_a_second_survey_in_a_year_without_supersedes_is_a_conflict() -> None:
    first = stored(survey(history()))
    with pytest.raises(StateConflict, match=f"supersedes={first.event_id}"):
        survey([*history(), first])


def test_a_survey_in_another_year_needs_no_supersedes() -> None:
    registered = history()
    first = stored(survey(registered, survey_year=2023, surveyed_on=date(2023, 9, 1)))
    assert survey([*registered, first]).survey_year == 2024


def test_a_correcting_survey_supersedes_the_current_one() -> None:
    registered = history()
    first = stored(survey(registered))
    second = survey([*registered, first], supersedes=first.event_id, needed_items=("cataract_surgery",))
    assert second.supersedes == first.event_id
    person = Person.from_history([*registered, first, stored(second)])
    assert person.current_survey(2024) not in (None, first.event_id)


def test_superseding_an_already_superseded_survey_is_a_conflict() -> None:
    registered = history()
    first = stored(survey(registered))
    second = stored(survey([*registered, first], supersedes=first.event_id))
    with pytest.raises(StateConflict, match=str(second.event_id)):
        survey([*registered, first, second], supersedes=first.event_id)


def test_superseding_an_unknown_survey_is_refused() -> None:
    registered = history()
    first = stored(survey(registered))
    assert rejected_field([*registered, first], supersedes=uuid4()) == "supersedes"


def test_superseding_a_survey_of_another_year_is_refused() -> None:
    registered = history()
    old = stored(survey(registered, survey_year=2023, surveyed_on=date(2023, 9, 1)))
    with pytest.raises(CommandRejected, match="2023 年的调查"):
        survey([*registered, old], supersedes=old.event_id)


def test_a_first_survey_cannot_supersede_anything() -> None:
    assert rejected_field(history(), supersedes=UUID(int=1)) == "supersedes"


def test_an_unregistered_person_cannot_be_surveyed() -> None:
    with pytest.raises(StateConflict):
        Person().survey(survey_request(), today=TODAY)


def test_a_refused_surveys_date_reads_the_chinese_way_as_every_page_shows_dates() -> None:
    with pytest.raises(CommandRejected) as future:
        survey(history(), surveyed_on=date(2024, 11, 2))
    with pytest.raises(CommandRejected) as outside:
        survey(history(), survey_year=2023)

    assert future.value.message == "调查日期 2024年11月2日 晚于今天"
    assert outside.value.message.startswith("调查日期 2024年")
