"""The approval forms start from a date the console's work year accepts: today within it, else that
year's last day (not today when the working year is an earlier one), written the Chinese way."""

from __future__ import annotations

from types import SimpleNamespace

from console.approval.pages import _default_day
from console.settings import ConsoleSettings
from console.web import Console
from kernel.domain.clock import cn_date, today


def request_of(year: int | None) -> object:
    console = Console.__new__(Console)
    console.settings = ConsoleSettings(console_year=year)
    return SimpleNamespace(app=SimpleNamespace(state=SimpleNamespace(console=console)))


def test_an_approval_form_of_an_earlier_work_year_starts_from_its_last_day() -> None:
    earlier = today().year - 1
    assert _default_day(request_of(earlier)) == f"{earlier}年12月31日"  # type: ignore[arg-type]


def test_an_approval_form_of_this_year_starts_from_today() -> None:
    assert _default_day(request_of(None)) == cn_date(today())  # type: ignore[arg-type]
    assert _default_day(request_of(today().year)) == cn_date(today())  # type: ignore[arg-type]
