"""Every dated form of the street, the assessment institution and the service institution starts from a
date its work year accepts (today within the console's year, else that year's last day) and shows and
hints its dates the Chinese way, as every page does (the console's own client, the agencies stood in for:
the console's year is 2025 while today is later)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from console.agencies import Answer, Problem
from console.street.forms import default_date
from kernel.access.auth import Agency, Role, Scope
from rehab.journey import DISTRICT_ASSESSMENT
from rehab.users import User, UserDirectory
from tests.console.bare import PASSWORD, console_client, hidden
from tests.console.test_chinese_dates_on_street_forms import PERSON, shown_text

YEAR = 2025
PERSON_ID = PERSON["person_id"]
ASSESSMENT_ID = "1b4e28ba-2fa1-41d2-883f-0016d3cca427"
APPLICATION_ID = "6fa459ea-ee8a-4ca4-894e-db77e160355e"
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
ENTRY = {
    "person_id": PERSON_ID,
    "year": YEAR,
    "status": "awaiting_assessment",
    "street": "鸳鸯",
    "community": "金渝社区",
    "surveyed_on": "2025-03-05",
    "needed_items": ["orientation_mobility_training"],
    "home_visit_required": False,
}
RECORD = {
    "assessment_id": ASSESSMENT_ID,
    "person_id": PERSON_ID,
    "assessment_year": YEAR,
    "institution": {"id": DISTRICT_ASSESSMENT, "name": "区评估机构"},
    "assessor": "陈医生",
    "assessed_on": "2025-04-10",
    "mode": "at_institution",
    "assessed_needs": ["orientation_mobility_training"],
    "items_to_escalate": [],
    "referral_needed": True,
    "referrals": [],
    "form": [],
}
ENTITLEMENT = {
    "application_id": APPLICATION_ID,
    "person_id": PERSON_ID,
    "year": YEAR,
    "service_card_number": "YY2025001",
    "item": "orientation_mobility_training",
    "institution_id": "lj-rehab-centre",
    "current_institution_id": "lj-rehab-centre",
    "subsidy_mode": "service",
    "amount_fen": 100000,
    "approved_on": "2025-05-01",
}
REFUSED = {
    "refusal_id": "7c9e6679-7425-40de-944b-e07fc1f90ae7",
    "refused_at": "2025-06-01T02:00:00+00:00",
    "field": "signed_on",
    "reason": "签字日期不在服务周期之后",
    "record": {
        "application_id": APPLICATION_ID,
        "person_id": PERSON_ID,
        "item": "orientation_mobility_training",
        "frequency": "每周2次",
        "staff": "李治疗师",
        "period_start": "2025-05-06",
        "period_end": "2025-06-30",
        "signed_by": "person",
        "signed_on": "2025-06-01",
        "charge_fen": 50000,
        "insurance_paid_fen": 0,
    },
}


class Agencies:
    """Stands in for every service the forms read; records what they send."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def get(self, service: str, path: str, **_: Any) -> Any:
        if path == "/worklist":
            return {"items": [ENTRY], "total": 1}
        if path.startswith("/assessments/"):
            return RECORD
        if path == "/entitlements":
            return [ENTITLEMENT]
        if path.startswith("/deliveries/refused/"):
            return REFUSED
        return PERSON

    def read(self, service: str, path: str, body: dict[str, Any], **_: Any) -> Any:
        return {"cards": []}

    def post(self, service: str, path: str, body: dict[str, Any], **_: Any) -> Any:
        self.sent.append((path, body))
        return Answer(201, body={"person_id": PERSON_ID, "assessment_id": ASSESSMENT_ID})

    def close(self) -> None:
        pass


def client_of(tmp_path: Path, user: str, agency: str, scope: str) -> TestClient:
    """The console of the year 2025 with ``user`` signed in, the agencies stood in for."""
    client = console_client(tmp_path, console_year=YEAR)
    console = client.app.state.console  # type: ignore[attr-defined]
    directory = UserDirectory(tmp_path / "access")
    directory.add(User(user, Agency(agency), frozenset({Role("staff")}), Scope.parse(scope)))
    console.credentials.set_password(user, PASSWORD, must_change=False, now=datetime.now(UTC))
    console.agencies = Agencies()
    page = client.get("/login")
    form = {"username": user, "password": PASSWORD, "login_token": hidden(page.text, "login_token")}
    assert client.post("/login", data=form).status_code == 303
    return client


def test_the_default_date_is_today_within_the_year_else_the_years_last_or_first_day() -> None:
    assert default_date(2026, date(2026, 12, 8)) == "2026年12月8日"
    assert default_date(2025, date(2026, 12, 8)) == "2025年12月31日"
    assert default_date(2027, date(2026, 12, 8)) == "2027年1月1日"


def test_the_survey_forms_of_a_past_year_start_from_its_last_day(tmp_path: Path) -> None:
    client = client_of(tmp_path, "街道干事", "survey", "street:鸳鸯")
    for path in (f"/street/persons/{PERSON_ID}/survey", "/street/import"):
        page = client.get(path)
        assert page.status_code == 200, path
        assert hidden_value(page.text, "surveyed_on") == "2025年12月31日", path


def test_the_assessment_and_referral_forms_start_in_the_year_and_write_dates_the_chinese_way(
    tmp_path: Path,
) -> None:
    client = client_of(tmp_path, "评估医生", "assessment", f"institution:{DISTRICT_ASSESSMENT}")
    form = client.get(f"/assessment/persons/{PERSON_ID}/assess?year={YEAR}")
    assert form.status_code == 200
    assert hidden_value(form.text, "assessed_on") == "2025年12月31日"
    assert "如 2025年4月10日" in form.text
    record = client.get(f"/assessment/assessments/{ASSESSMENT_ID}")
    assert hidden_value(record.text, "issued_on") == "2025年12月31日"
    for page in (form, record):
        assert ISO_DATE.findall(shown_text(page.text)) == []


def test_the_service_record_forms_start_in_the_year_and_write_dates_the_chinese_way(tmp_path: Path) -> None:
    client = client_of(tmp_path, "康复中心治疗师", "delivery", "institution:lj-rehab-centre")
    path = f"/delivery/entitlements/{APPLICATION_ID}/orientation_mobility_training/record"
    blank = client.get(path)
    assert blank.status_code == 200
    assert hidden_value(blank.text, "signed_on") == "2025年12月31日"
    assert "如 2025年4月10日" in blank.text
    again = client.get(path, params={"refused": REFUSED["refusal_id"]})
    assert again.status_code == 200
    assert hidden_value(again.text, "period_start") == "2025年5月6日"
    assert hidden_value(again.text, "signed_on") == "2025年6月1日"
    for page in (blank, again):
        assert ISO_DATE.findall(shown_text(page.text)) == []


def hidden_value(html: str, name: str) -> str:
    """The value an input ``name`` is filled in with."""
    found = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*value="([^"]*)"', html) or re.search(
        rf'<input[^>]*value="([^"]*)"[^>]*name="{re.escape(name)}"', html
    )
    assert found, f"no {name} in the page"
    return found.group(1)


class Refusing(Agencies):
    """Every command refused as the services refuse a date they cannot read (their example is ISO)."""

    def post(self, service: str, path: str, body: dict[str, Any], **_: Any) -> Any:
        self.sent.append((path, body))
        said = tuple((name, "应为日期，如 2024-10-15") for name in body if body[name] == "2025年2月30日")
        return Answer(422, problem=Problem(422, "request.invalid", "请求有误", said))


def test_a_date_that_is_no_date_is_said_in_the_hints_format_on_every_form(tmp_path: Path) -> None:
    forms = (
        ("街道干事", "survey", "street:鸳鸯", f"/street/persons/{PERSON_ID}/survey", "surveyed_on"),
        (
            "评估医生",
            "assessment",
            f"institution:{DISTRICT_ASSESSMENT}",
            f"/assessment/persons/{PERSON_ID}/assess?year={YEAR}",
            "assessed_on",
        ),
        (
            "康复中心治疗师",
            "delivery",
            "institution:lj-rehab-centre",
            f"/delivery/entitlements/{APPLICATION_ID}/orientation_mobility_training/record",
            "signed_on",
        ),
    )
    for number, (user, agency, scope, path, field) in enumerate(forms):
        client = client_of(tmp_path / str(number), user, agency, scope)
        client.app.state.console.agencies = Refusing()  # type: ignore[attr-defined]
        csrf = hidden_value(client.get(path).text, "csrf_token")
        page = client.post(path, data={"csrf_token": csrf, "form_key": "k", field: "2025年2月30日"})
        assert page.status_code == 422, path
        assert "“2025年2月30日”不是有效的日期，应为日期，如 1968年4月2日" in page.text, path
        assert "2024-10-15" not in page.text, path
