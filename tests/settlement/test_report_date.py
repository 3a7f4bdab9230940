"""The 月报's 统计截至: the month's last day, or today in a month not over yet (Beijing's day)."""

from __future__ import annotations

from datetime import date

import pytest

from services.settlement.documents import chain
from services.settlement.documents.chain import ChainReport, Counts, Unit, report_date


def a_report_of(year: int, month: int) -> ChainReport:
    """鸳鸯街道's 月报 of a month."""
    return ChainReport("progress", year, month, Unit("street", "鸳鸯", Counts()))


def test_a_month_over_stands_at_its_last_day(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chain, "today", lambda: date(2026, 12, 8))
    assert report_date(a_report_of(2026, 11)) == date(2026, 11, 30)
    assert report_date(a_report_of(2024, 2)) == date(2024, 2, 29)
    assert report_date(a_report_of(2025, 12)) == date(2025, 12, 31)


def test_the_current_month_stands_at_today_not_at_its_last_day(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chain, "today", lambda: date(2026, 12, 8))
    assert report_date(a_report_of(2026, 12)) == date(2026, 12, 8)
