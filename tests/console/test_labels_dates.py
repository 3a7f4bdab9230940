"""Dates as a clerk reads them: 2024年3月5日, and a moment on Beijing's calendar, not UTC's (a record refused
at 01:30 Beijing time on 8 December read 12月7日)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from console.labels import cn_date


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("2024-03-05", "2024年3月5日"),
        (date(2024, 3, 5), "2024年3月5日"),
        ("2026-12-07T17:30:00+00:00", "2026年12月8日"),
        ("2026-12-07T15:59:59+00:00", "2026年12月7日"),
        (datetime(2026, 12, 7, 16, 0, tzinfo=UTC), "2026年12月8日"),
        ("2026-12-08T01:30:00+08:00", "2026年12月8日"),
        ("", ""),
        (None, ""),
        ("不是日期", "不是日期"),
    ],
)
def test_a_day_or_a_moment_is_shown_on_beijings_calendar(value: object, shown: str) -> None:
    assert cn_date(value) == shown
