"""The review deadline: a complete application is decided within 5 working days (Anyang 2021, 5个工作日内).

Working days are Monday to Friday; public holidays and 调休 make-up days are not modelled yet.
"""

from __future__ import annotations

from datetime import date, timedelta

REVIEW_WORKING_DAYS = 5


def add_working_days(day: date, working_days: int) -> date:
    """The day ``working_days`` working days after ``day``."""
    found = day
    remaining = working_days
    while remaining > 0:
        found += timedelta(days=1)
        if found.weekday() < 5:
            remaining -= 1
    return found


def working_days_between(start: date, end: date) -> int:
    """Working days after ``start`` up to and including ``end`` (0 when ``end`` is not after ``start``)."""
    return sum(
        1 for offset in range(1, (end - start).days + 1) if (start + timedelta(days=offset)).weekday() < 5
    )
