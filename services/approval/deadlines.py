"""The review deadline: a complete application is decided within the jurisdiction's working days (its
pack's ``review_deadline``: Anyang 2021 「5个工作日内」; a place whose seed states none has none).

Working days follow the State Council's yearly holiday notice (国务院办公厅关于部分节假日安排的通知) as the
chinesecalendar package records it: public holidays (法定节假日) are not working days, 调休 make-up
Saturdays and Sundays are. For a year the installed package does not cover yet (its 1.11 release:
2004-2026; each new year's notice comes in a release in November or December), working days are Monday
to Friday until the package is upgraded; since a deadline is worked out whenever it is read, never
stored, an upgrade corrects it from then on.
"""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar


def is_working_day(day: date) -> bool:
    """A working day in mainland China: the official calendar where known, else Monday to Friday."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:  # a year the installed calendar does not cover
        return day.weekday() < 5


def calendar_covers(year: int) -> bool:
    """Does the installed calendar know the holidays and 调休 days of ``year``?"""
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


def add_working_days(day: date, working_days: int) -> date:
    """The day ``working_days`` working days after ``day``."""
    found = day
    remaining = working_days
    while remaining > 0:
        found += timedelta(days=1)
        if is_working_day(found):
            remaining -= 1
    return found


def working_days_between(start: date, end: date) -> int:
    """Working days after ``start`` up to and including ``end`` (0 when ``end`` is not after ``start``)."""
    return sum(
        1 for offset in range(1, (end - start).days + 1) if is_working_day(start + timedelta(days=offset))
    )
