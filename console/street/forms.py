"""The street office's forms as the survey API's bodies, and a person's record back as a form."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date
from typing import Any

from console.agencies import Problem
from console.labels import cn_date
from console.web import FormValues
from kernel.domain.clock import today

DATE = re.compile(r"^(\d{4})\s*(?:[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?|(\d{2})(\d{2}))$")
"""A date as clerks write it: 1968-04-02, 1968/4/2, 1968.4.2, 1968年4月2日 or 19680402."""
DATE_FIELDS = frozenset({"birth_date", "registered_on", "surveyed_on"})


def iso_date(text: str) -> str:
    """A written date as the API reads it (1968-04-02); anything else as typed, for the service to refuse."""
    found = DATE.match(text.strip())
    if found is None:
        return text.strip()
    year, month, day = found.group(1), found.group(2) or found.group(4), found.group(3) or found.group(5)
    return f"{year}-{int(month):02d}-{int(day):02d}"


def default_date(year: int, on: date | None = None) -> str:
    """The date a form of the work ``year`` starts from, as the clerk writes it: today (``on``) when it
    falls in that year; else the year's last day (a year gone by) or first (a year to come), never a date
    the year's own rule refuses (调查日期 2026年12月8日不在调查年度 2025 内)."""
    day = on or today()
    if day.year != year:
        day = date(year, 12, 31) if year < day.year else date(year, 1, 1)
    return cn_date(day)


DATE_EXAMPLE = "应为日期，如 1968年4月2日"
"""The console's own word on a date it cannot read, in the format the forms hint."""
UNBORN = "2999-12-31"
"""The 出生日期 a registration with an unreadable one is sent with, so the survey service names every
other mistake of the form at once: a birth date after the registration day, it always refuses."""


def date_errors(form: FormValues, names: Sequence[str]) -> dict[str, list[str]]:
    """The dates typed that are no date (1980年2月30日, 1980-13-01, 昨天), by field, in the hint's format."""
    errors: dict[str, list[str]] = {}
    for name in names:
        typed = form.get(name).strip()
        if typed and not _is_date(iso_date(typed)):
            errors[name] = [f"“{typed}”不是有效的日期，{DATE_EXAMPLE}"]
    return errors


def with_date_errors(
    problem: Problem | None, form: FormValues, names: Sequence[str]
) -> tuple[Problem | None, dict[str, list[str]]]:
    """A refusal and its errors by field, the console's own word on each date typed that is no date put
    over the service's (whose example, 2024-10-15, is not the way the form hints a date)."""
    errors = problem.by_field() if problem is not None else {}
    wrong = date_errors(form, names)
    if problem is None or problem.status != 422 or not wrong:
        return problem, errors
    errors.update(wrong)
    return replace(problem, detail=next(iter(wrong.values()))[0]), errors


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return re.fullmatch(r"\d{4}-\d{2}-\d{2}", text) is not None


PERSON_TEXT = (
    "street",
    "community",
    "name",
    "sex",
    "ethnicity",
    "birth_date",
    "phone",
    "address",
    "household_registration",
    "residence",
    "id_number",
    "certificate_number",
    "veteran_certificate_number",
    "disability_grade",
    "economic_status",
)
PERSON_LISTS = ("disability_categories", "medical_insurance")
GUARDIAN = ("name", "sex", "phone", "relation", "id_number")


def person_body(form: FormValues) -> dict[str, Any]:
    """附件1 basic information for POST /persons: blanks left out, so the service names what is missing."""
    body: dict[str, Any] = {}
    for name in PERSON_TEXT:
        if value := form.get(name).strip():
            body[name] = iso_date(value) if name in DATE_FIELDS else value
    for name in PERSON_LISTS:
        body[name] = form.all(name)
    guardian = {part: value for part in GUARDIAN if (value := form.get(f"guardian.{part}").strip())}
    if guardian:
        body["guardian"] = guardian
    if registered_on := form.get("registered_on").strip():
        body["registered_on"] = iso_date(registered_on)
    return body


def person_form(person: dict[str, Any]) -> FormValues:
    """A registered person's details as the form shows them (for a correction)."""
    values: dict[str, Any] = {name: person.get(name) or "" for name in PERSON_TEXT}
    values["birth_date"] = cn_date(values["birth_date"])  # as every page shows a date: 1968年4月2日
    for name in PERSON_LISTS:
        values[name] = list(person.get(name) or [])
    for part in GUARDIAN:
        values[f"guardian.{part}"] = (person.get("guardian") or {}).get(part) or ""
    return FormValues.of(values)


def corrections(current: FormValues, form: FormValues) -> dict[str, Any]:
    """POST /persons/{id}/corrections: the reason and only what the clerk changed (a guardian in full)."""
    wanted = person_body(form)
    before = person_body(current)
    changes: dict[str, Any] = {"reason": form.get("reason").strip()} if form.get("reason").strip() else {}
    for name in (*PERSON_TEXT, *PERSON_LISTS):
        if name in wanted and wanted[name] != before.get(name):
            changes[name] = wanted[name]  # a blanked detail is not sent: the API cannot clear one
    if wanted.get("guardian") != before.get("guardian") and "guardian" in wanted:
        changes["guardian"] = wanted["guardian"]
    return changes


def survey_form_of(survey: dict[str, Any]) -> dict[str, Any]:
    """A recorded survey as its form shows it, for the correction that supersedes it."""
    return {
        "has_needs": "yes" if survey["has_needs"] else "no",
        "needed_items": list(survey["needed_items"]),
        "home_visit_required": "yes" if survey["home_visit_required"] else "",
        "disability_subtypes": list(survey.get("disability_subtypes") or []),
        "hardship_statuses": list(survey.get("hardship_statuses") or []),
        "residence_permit": "yes" if survey.get("residence_permit") else "",
    }


def survey_body(form: FormValues) -> dict[str, Any]:
    """POST /persons/{id}/surveys: one visit of the community survey team."""
    body: dict[str, Any] = {
        "needed_items": form.all("needed_items"),
        "home_visit_required": form.get("home_visit_required") == "yes",
        "disability_subtypes": form.all("disability_subtypes"),
        "hardship_statuses": form.all("hardship_statuses"),
        "residence_permit": form.get("residence_permit") == "yes",
    }
    for name in ("survey_year", "surveyed_on", "surveyor", "supersedes"):
        if value := form.get(name).strip():
            body[name] = iso_date(value) if name in DATE_FIELDS else value
    if form.get("has_needs") in ("yes", "no"):
        body["has_needs"] = form.get("has_needs") == "yes"
    return body


def community_choices(
    listed: Mapping[str, frozenset[str]], streets: Sequence[str], street: str | None, current: str = ""
) -> dict[str, list[str]] | None:
    """The 社区 a person form offers, street -> its communities, where the pack lists them
    (communities.toml): the clerk's own street's, or for a district clerk every street's when all are
    listed. None: typed as free text (the registry checks that it reads as a name). A person's current
    community stays offered, even when the list no longer names it, so a correction never loses it."""
    wanted = [street] if street else list(streets)
    if not wanted or any(area not in listed for area in wanted):
        return None
    choices = {area: sorted(listed[area]) for area in wanted}
    if current and not any(current in names for names in choices.values()):
        choices[street or wanted[0]] = [current, *choices[street or wanted[0]]]
    return choices
