"""The printed 月报 (and 年终汇总) says 「统计截至」 the earlier of its month's last day and today in Beijing:
a month not yet over is counted up to today, never up to a day still to come."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from console.dashboards import reports
from printing.chain_report import chain_report_html

ROW = {
    "depth": 0,
    "level_name": "区",
    "name": "两江新区",
    "surveyed": 10,
    "with_needs": 8,
    "served": 6,
    "coverage_percent": "75.0",
    "target_met": False,
}


def body(as_of: str) -> dict[str, Any]:
    return {"title": "月报", "as_of": as_of, "rows": [ROW], "target_percent": "100"}


def test_a_month_not_yet_over_is_counted_up_to_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reports, "today", lambda: date(2026, 12, 7))

    report = reports.printed_report(body("2026-12-31"))

    assert report.as_of == date(2026, 12, 7)
    assert "统计截至：2026年12月7日" in chain_report_html(report)


def test_a_month_past_is_counted_up_to_its_last_day(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reports, "today", lambda: date(2026, 12, 7))

    assert reports.printed_report(body("2026-11-30")).as_of == date(2026, 11, 30)
