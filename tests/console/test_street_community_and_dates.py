"""Registering a person: the 社区 field suggests the communities the registry holds persons of in the
street (a <datalist>), and a 社区 no one of the street is registered in is confirmed before it is sent (a
typo would otherwise make a community of its own); an unreadable 出生日期 is said in the hint's format
together with every mistake the survey service finds in the rest, at once. The console's own client, the
survey service stood in for."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from console.agencies import Answer, Problem
from console.street.forms import UNBORN
from tests.console.bare import console_client, hidden, sign_in
from tests.console.test_chinese_dates_on_street_forms import PERSON, PERSON_ID

NEIGHBOUR = {**PERSON, "person_id": "9b2e1d8a-3c4f-4e5a-8b6c-7d8e9f0a1b2c", "community": "鸳鸯第一社区"}
FORM = {
    "street": "鸳鸯",
    "name": "刘建华",
    "sex": "male",
    "ethnicity": "汉族",
    "phone": "1380013800",
    "address": "鸳鸯街道金渝路1号",
    "household_registration": "重庆市渝北区",
    "residence": "重庆市渝北区",
    "id_number": "500112198002281234",
    "disability_categories": "vision",
    "disability_grade": "grade_2",
    "economic_status": "low_income",
    "medical_insurance": "urban_employee",
    "registered_on": "2026年12月1日",
}


class Survey:
    """The survey service: two persons of 鸳鸯 (金渝社区, 鸳鸯第一社区); a registration answered as given."""

    def __init__(self, answer: Answer | None = None) -> None:
        self.sent: list[dict[str, Any]] = []
        self.answer = answer or Answer(201, body={"person_id": PERSON_ID})

    def get(self, service: str, path: str, **_: Any) -> Any:
        if path == "/communities":  # the registry's names and counts (GET /communities)
            known = [{"community": person["community"], "persons": 1} for person in (PERSON, NEIGHBOUR)]
            return {"street": "鸳鸯", "communities": sorted(known, key=lambda entry: entry["community"])}
        return {"items": [PERSON, NEIGHBOUR], "total": 2} if path == "/persons" else PERSON

    def post(self, service: str, path: str, body: dict[str, Any], **_: Any) -> Any:
        self.sent.append(body)
        return self.answer

    def close(self) -> None:
        pass


def clerk(tmp_path: Path, survey: Survey) -> TestClient:
    client = console_client(tmp_path)
    client.app.state.console.agencies = survey  # type: ignore[attr-defined]
    sign_in(client)
    return client


def register(client: TestClient, **typed: str) -> Any:
    page = client.get("/street/persons/new")
    form = {**FORM, "csrf_token": hidden(page.text, "csrf_token"), "form_key": "k", **typed}
    return client.post("/street/persons/new", data=form)


def main_text(html: str) -> str:
    main = html.split("<main", 1)[1].split("</main>", 1)[0]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main))


def test_the_community_field_suggests_the_streets_known_communities(tmp_path: Path) -> None:
    page = clerk(tmp_path, Survey()).get("/street/persons/new")
    assert 'list="known-communities"' in page.text
    datalist = page.text.split('<datalist id="known-communities">', 1)[1].split("</datalist>", 1)[0]
    assert re.findall(r'value="([^"]+)"', datalist) == ["金渝社区", "鸳鸯第一社区"]


def test_a_community_new_to_the_street_is_confirmed_before_it_is_registered(tmp_path: Path) -> None:
    survey = Survey()
    client = clerk(tmp_path, survey)
    typo = register(client, community="鸳鸯一社区", birth_date="1980年2月28日")
    assert typo.status_code == 422 and survey.sent == []
    assert "本街道还没有登记过“鸳鸯一社区”的人员。是否应为“鸳鸯第一社区”？" in main_text(typo.text)
    assert 'name="new_community" value="鸳鸯一社区"' in typo.text

    survey.answer = Answer(
        422, problem=Problem(422, "rules.rejected", "联系电话有误", (("phone", "联系电话有误"),))
    )
    refused = register(client, community="鸳鸯一社区", new_community="鸳鸯一社区", birth_date="1980年2月28日")
    assert 'name="new_community" value="鸳鸯一社区" checked' in refused.text  # stays confirmed
    survey.answer = Answer(201, body={"person_id": PERSON_ID})

    known = register(client, community="鸳鸯第一社区", birth_date="1980年2月28日")
    assert known.status_code == 303 and survey.sent[-1]["community"] == "鸳鸯第一社区"
    confirmed = register(client, community="鸳鸯一社区", new_community="鸳鸯一社区", birth_date="1980-02-28")
    assert confirmed.status_code == 303 and survey.sent[-1]["community"] == "鸳鸯一社区"


def test_an_unreadable_birth_date_is_said_with_every_other_mistake_at_once(tmp_path: Path) -> None:
    said = (
        ("birth_date", f"出生日期 {UNBORN} 晚于 2026年12月1日"),
        ("phone", "联系电话应为11位手机号码或带区号的固定电话"),
    )
    refused = Problem(422, "rules.rejected", "基本信息有 2 处需要更正", said)
    survey = Survey(Answer(422, problem=refused))
    page = register(clerk(tmp_path, survey), community="金渝社区", birth_date="1980年2月30日")
    assert survey.sent[-1]["birth_date"] == UNBORN  # always refused, so the rest is checked too
    assert page.status_code == 422
    text = main_text(page.text)
    assert "“1980年2月30日”不是有效的日期，应为日期，如 1968年4月2日" in text
    assert "联系电话应为11位手机号码" in text
    assert "2999" not in text and "2024-10-15" not in text
