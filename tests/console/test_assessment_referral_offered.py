"""The referral form offers only what no referral covers yet: with every item referred it is not shown at
all (the page says to whom and when each went); the one item left is ticked; a refusal is said in the
form's words (the dropdown the 转介去向 names, an item referred before by its institution's name, not by
ids). The console's own client, the assessment service stood in for."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from console.agencies import Answer, Problem
from rehab.journey import DISTRICT_ASSESSMENT
from tests.console.test_form_dates_in_year import RECORD, Agencies, client_of, hidden_value

WALKING = "orientation_mobility_training"
OTHER = "visual_function_training"
REFERRAL = {
    "referral_id": "3adbeb04-6f0e-4a44-9c6b-3c1c9f4c2a11",
    "to_kind": "service_institution",
    "to_institution": {"id": "lj-first-hospital", "name": "区第一人民医院"},
    "items": [WALKING],
    "issued_on": "2025-04-12",
}
UUID_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-")


class Assessment(Agencies):
    """The assessment service with one record as given; a referral answered as given."""

    def __init__(self, record: dict[str, Any], answer: Answer | None = None) -> None:
        super().__init__()
        self.record = record
        self.answer = answer

    def get(self, service: str, path: str, **params: Any) -> Any:
        return self.record if path.startswith("/assessments/") else super().get(service, path, **params)

    def post(self, service: str, path: str, body: dict[str, Any], **params: Any) -> Any:
        self.sent.append((path, body))
        return self.answer or super().post(service, path, body, **params)


def doctor(tmp_path: Path, agencies: Assessment) -> Any:
    client = client_of(tmp_path, "评估医生", "assessment", f"institution:{DISTRICT_ASSESSMENT}")
    client.app.state.console.agencies = agencies  # type: ignore[attr-defined]
    return client


def main_text(html: str) -> str:
    main = html.split("<main", 1)[1].split("</main>", 1)[0]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main))


def test_with_every_item_referred_the_form_is_not_offered_and_the_page_says_where_each_went(
    tmp_path: Path,
) -> None:
    client = doctor(tmp_path, Assessment({**RECORD, "referrals": [REFERRAL]}))
    page = client.get(f"/assessment/assessments/{RECORD['assessment_id']}")
    assert page.status_code == 200
    assert 'name="items"' not in page.text and "出具转介" not in page.text
    assert "评估的康复需求均已转介：盲人定向行走及适应训练于2025年4月12日转介至区第一人民医院" in main_text(
        page.text
    )


def test_only_the_items_left_are_offered_and_the_one_left_is_ticked(tmp_path: Path) -> None:
    record = {**RECORD, "assessed_needs": [WALKING, OTHER], "referrals": [REFERRAL]}
    client = doctor(tmp_path, Assessment(record))
    page = client.get(f"/assessment/assessments/{RECORD['assessment_id']}")
    offered = re.findall(r'name="items" value="([^"]+)"( checked)?', page.text)
    assert offered == [(OTHER, " checked")]
    assert "已转介的不再列出：盲人定向行走及适应训练（已转介至区第一人民医院）" in main_text(page.text)
    dropdown = page.text.split('name="to_institution_id"', 1)[1].split("</select>", 1)[0]
    assert "盲人定向行走" not in dropdown  # institutions only for the item left


def test_a_missing_institution_is_asked_for_by_the_dropdowns_name(tmp_path: Path) -> None:
    missing = Problem(422, "request.invalid", "请求内容有误", (("to_institution_id", "缺少必填字段"),))
    client = doctor(tmp_path, Assessment(RECORD, Answer(422, problem=missing)))
    path = f"/assessment/assessments/{RECORD['assessment_id']}"
    csrf = hidden_value(client.get(path).text, "csrf_token")
    form = {"csrf_token": csrf, "form_key": "k1", "to_kind": "assessment_institution", "items": WALKING}
    page = client.post(f"{path}/referrals", data=form)
    assert page.status_code == 422
    text = main_text(page.text)
    assert "市级评估机构 ：请选择市级评估机构" in text
    assert "转介机构" not in text and "缺少必填字段" not in text


def test_an_item_referred_before_is_said_by_whom_and_when_not_by_ids(tmp_path: Path) -> None:
    record = {**RECORD, "assessed_needs": [WALKING, OTHER], "referrals": [REFERRAL]}
    said = f"盲人定向行走及适应训练已由转介 {REFERRAL['referral_id']} 转介至 lj-first-hospital"
    refused = Problem(409, "assessment.items.already_referred", said, (("items", said),))
    client = doctor(tmp_path, Assessment(record, Answer(409, problem=refused)))
    path = f"/assessment/assessments/{RECORD['assessment_id']}"
    csrf = hidden_value(client.get(path).text, "csrf_token")
    form = {"csrf_token": csrf, "form_key": "k2", "to_kind": "service_institution", "items": WALKING}
    page = client.post(f"{path}/referrals", data=form)
    text = main_text(page.text)
    assert "盲人定向行走及适应训练已于2025年4月12日转介至区第一人民医院，无需再次转介" in text
    assert not UUID_TEXT.search(text) and "lj-first-hospital" not in text
