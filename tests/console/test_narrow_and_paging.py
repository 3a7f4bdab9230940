"""A street of 60 persons not yet surveyed (礼嘉, registered over the API in one go): 查看全部 pages through
them with 下一页, and the street's, the person's and the dashboards' pages fit a phone's 390 px without
scrolling sideways (a wide table scrolls in its own box)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from kernel.access.auth import Agency, Role, Scope
from rehab.users import User, set_console_password
from tests.console.conftest import JOURNEY_YEAR, PASSWORD, Stack, login, screenshot
from tests.console.phone import phone_page, too_wide
from tests.e2e.people import certified_adult

pytestmark = pytest.mark.e2e

CLERK = "礼嘉调查员"
STREET = "礼嘉"
PERSONS = 60
"""More than one page of 查看全部 (50)."""


def name_of(index: int) -> str:
    return "周" + "甲乙丙丁戊己"[index // 10] + "子丑寅卯辰巳午未申酉"[index % 10]


@pytest.fixture(scope="module")
def lijia(stack: Stack) -> Iterator[list[str]]:
    """The 礼嘉 clerk and the street's 60 persons (none surveyed this year): their ids."""
    stack.directory.add(
        User(CLERK, Agency("survey"), frozenset({Role("staff")}), Scope.parse(f"street:{STREET}"))
    )
    set_console_password(
        stack.directory, f"sqlite:///{stack.var_dir / 'console.db'}", CLERK, PASSWORD, must_change=False
    )
    registered: list[str] = []
    with stack.survey_api(CLERK) as survey:
        for index in range(PERSONS):
            person = certified_adult(1200 + index, street=STREET) | {  # IDs no other console test uses
                "name": name_of(index),
                "registered_on": f"{JOURNEY_YEAR}-03-01",
            }
            answer = survey.post("/persons", json=person)
            assert answer.status_code == 201, answer.text
            registered.append(answer.json()["person_id"])
        surveyed = {
            "survey_year": JOURNEY_YEAR,
            "surveyed_on": f"{JOURNEY_YEAR}-03-15",
            "has_needs": True,
            "needed_items": ["orientation_mobility_training"],
            "home_visit_required": False,
            "surveyor": "张丽",
        }
        answer = survey.post(f"/persons/{registered[0]}/surveys", json=surveyed)
        assert answer.status_code == 201, answer.text
    yield registered


def names_listed(page: Any) -> set[str]:
    return {
        cell.strip()
        for cell in page.locator("main table tbody tr td:first-child a:first-child").all_inner_texts()
    }


def test_the_next_page_of_a_whole_list_shows_the_persons_the_first_page_did_not(
    page: Any, lijia: list[str]
) -> None:
    login(page, CLERK)
    page.wait_for_url(lambda url: "/login" not in url)
    page.goto(f"/street/worklist/unsurveyed?year={date.today().year}")
    first = names_listed(page)

    page.get_by_role("link", name="下一页").click()
    page.wait_for_url("**offset=50**")
    second = names_listed(page)

    ours = {name_of(index) for index in range(PERSONS)}  # the street may hold other tests' persons too
    assert len(first) == 50 and not first & second
    assert ours - first and ours - first <= second
    assert page.get_by_role("link", name="上一页").is_visible()
    screenshot(page, "narrow-00-second-page")


def test_the_street_and_person_pages_fit_a_390_px_phone(browser: Any, stack: Stack, lijia: list[str]) -> None:
    page = phone_page(browser, stack, CLERK)
    person = lijia[0]
    paths = [
        "/street",
        "/street/persons",
        f"/street/worklist/unsurveyed?year={date.today().year}",
        "/street/persons/new",
        f"/street/persons/{person}",
        f"/street/persons/{person}/correct",
        f"/street/persons/{person}/survey",
        f"/street/persons/{person}/handbook",
        "/street/import",
        f"/persons/{person}",
    ]
    wide = too_wide(page, paths)
    page.goto("/street/persons")
    screenshot(page, "narrow-01-persons")
    page.goto(f"/persons/{person}")
    screenshot(page, "narrow-02-journey")
    page.context.close()
    assert not wide, wide
