"""The review deadline counts working days as the State Council's holiday notice sets them: public
holidays are skipped, 调休 make-up weekend days count; a year the calendar does not know counts Monday to
Friday."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from services.approval.deadlines import (
    add_working_days,
    calendar_covers,
    is_working_day,
    working_days_between,
)
from services.approval.domain import Application
from tests.approval.test_domain import form
from tests.approval.test_domain import submitted as submitted_history


def test_the_national_day_holiday_is_skipped_and_its_make_up_sunday_counts() -> None:
    friday_before = date(2024, 9, 27)
    # 9-29 (a Sunday worked, 调休) and 9-30, then 10-1..10-7 off, then 10-8, 10-9, 10-10.
    assert add_working_days(friday_before, 5) == date(2024, 10, 10)
    assert is_working_day(date(2024, 9, 29)) and not is_working_day(date(2024, 10, 3))
    assert working_days_between(friday_before, date(2024, 10, 10)) == 5


def test_a_make_up_saturday_is_a_working_day() -> None:
    assert add_working_days(date(2024, 10, 11), 1) == date(2024, 10, 12)


def test_the_spring_festival_is_skipped() -> None:
    assert add_working_days(date(2025, 1, 24), 5) == date(2025, 2, 7)


def test_an_application_completed_before_the_holiday_is_due_after_it() -> None:
    application = Application(submitted_history(replace(form(), submitted_on=date(2024, 9, 27))))
    assert application.decision_due_on(5) == date(2024, 10, 10)
    assert not application.overdue_on(date(2024, 10, 10), 5)
    assert application.overdue_on(date(2024, 10, 11), 5)


def test_a_year_the_calendar_does_not_cover_counts_monday_to_friday() -> None:
    assert calendar_covers(2025) and not calendar_covers(2099)
    start = date(2099, 9, 30)
    weekdays = [start + timedelta(days=offset) for offset in range(1, 15)]
    expected = [day for day in weekdays if day.weekday() < 5][4]
    assert add_working_days(start, 5) == expected  # 10-1 is no holiday here: nothing is known of 2099
