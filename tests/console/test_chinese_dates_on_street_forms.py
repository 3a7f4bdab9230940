"""The street's forms show their dates the Chinese way, as every page does (a new person's 登记日期, a
survey's 调查日期, a correction's 出生日期, the import's 调查日期, the hints), and still send the survey API
ISO dates (the console's own client, the agencies stood in for)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from console.agencies import Answer
from console.labels import cn_date
from kernel.domain.clock import today
from tests.console.bare import console_client, hidden, sign_in

PERSON_ID = "0f8fad5b-d9cb-469f-a165-70867728950e"
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
PERSON = {
    "person_id": PERSON_ID,
    "name": "王秀英",
    "sex": "female",
    "ethnicity": "汉族",
    "street": "鸳鸯",
    "community": "金渝社区",
    "birth_date": "1958-04-12",
    "id_number": "500112195804122328",
    "certified": True,
    "registered_on": "2024-10-15",
    "disability_categories": ["vision"],
    "disability_grade": "grade_2",
    "medical_insurance": [],
    "surveys": [],
}


class Agencies:
    """Stands in for the survey service: one person; records what the forms send."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def get(self, service: str, path: str, **_: Any) -> Any:
        if path == "/communities":
            known = [{"community": PERSON["community"], "persons": 1}]
            return {"street": PERSON["street"], "communities": known}
        return {"items": [PERSON], "total": 1} if path == "/persons" else PERSON

    def post(self, service: str, path: str, body: dict[str, Any], **_: Any) -> Any:
        self.sent.append((path, body))
        return Answer(201, body={"person_id": PERSON_ID, "survey_id": PERSON_ID, "corrected": []})

    def close(self) -> None:
        pass


def shown_text(html: str) -> str:
    """What the clerk reads: the page without its scripts, styles and link addresses."""
    html = re.sub(r"<(script|style)\b.*?</\1>", "", html, flags=re.S)
    return re.sub(r'\s(href|src|action)="[^"]*"', "", html)


def test_the_street_forms_show_no_iso_date(tmp_path: Path) -> None:
    with console_client(tmp_path) as client:
        client.app.state.console.agencies = Agencies()  # type: ignore[attr-defined]
        sign_in(client)
        for path in (
            "/street/persons/new",
            f"/street/persons/{PERSON_ID}/survey",
            f"/street/persons/{PERSON_ID}/correct",
            "/street/import",
        ):
            page = client.get(path)
            assert page.status_code == 200, path
            assert ISO_DATE.findall(shown_text(page.text)) == [], path

        assert f'value="{cn_date(today())}"' in client.get("/street/persons/new").text
        assert 'value="1958年4月12日"' in client.get(f"/street/persons/{PERSON_ID}/correct").text


def test_a_survey_dated_the_chinese_way_is_sent_as_an_iso_date(tmp_path: Path) -> None:
    with console_client(tmp_path) as client:
        agencies = Agencies()
        client.app.state.console.agencies = agencies  # type: ignore[attr-defined]
        sign_in(client)
        form = client.get(f"/street/persons/{PERSON_ID}/survey").text
        fields = {name: hidden(form, name) for name in ("csrf_token", "form_key")}
        client.post(
            f"/street/persons/{PERSON_ID}/survey",
            data={**fields, "survey_year": "2024", "surveyed_on": "2024年10月15日", "has_needs": "no"},
        )

        assert agencies.sent[-1][1]["surveyed_on"] == "2024-10-15"
