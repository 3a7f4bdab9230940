"""The service institution's worklist is searched by 姓名 or 服务卡号 by POST (nothing typed in the
address), over the page's own items and records; the counts stay the whole list's. The console's own
client, the delivery and survey services stood in for."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.console.test_form_dates_in_year import ENTITLEMENT, Agencies, client_of, hidden_value

OTHER_PERSON = "2c1a5e0e-8b1f-4b53-9d7e-5f3f6b1b2c3d"
ENTITLEMENTS = [
    ENTITLEMENT,
    {
        **ENTITLEMENT,
        "application_id": "5d0c7b1e-1f6e-4b2a-9c3d-8e7f6a5b4c3d",
        "person_id": OTHER_PERSON,
        "service_card_number": "YY2025042",
    },
]
RECORDS = [
    {
        "delivery_id": "0e7a4b2c-3d1f-4a5b-8c6d-7e8f9a0b1c2d",
        "application_id": ENTITLEMENTS[1]["application_id"],
        "person_id": OTHER_PERSON,
        "item": "orientation_mobility_training",
        "period_start": "2025-05-06",
        "period_end": "2025-06-30",
        "frequency": "每周2次",
        "staff": "李治疗师",
        "signed_by": "person",
        "signed_on": "2025-07-01",
        "charge_fen": 50000,
        "remaining_fen": 50000,
        "corrections": [],
    }
]


class Delivery(Agencies):
    """Two approved items of two persons (王秀英 YY2025001, 欧阳服务 YY2025042), one record of the second."""

    def every(self, service: str, path: str, **_: Any) -> Any:
        return ENTITLEMENTS if path == "/entitlements" else RECORDS

    def get(self, service: str, path: str, **params: Any) -> Any:
        return [] if path == "/deliveries/refused" else super().get(service, path, **params)

    def read(self, service: str, path: str, body: dict[str, Any], **_: Any) -> Any:
        names = {ENTITLEMENT["person_id"]: "王秀英", OTHER_PERSON: "欧阳服务"}
        return {"cards": [{"person_id": pid, "name": names[pid]} for pid in body["person_ids"]]}


def rows(html: str, section: str) -> list[str]:
    part = html.split(f'aria-labelledby="{section}"', 1)[1].split("</section>", 1)[0]
    part = part.split("<tbody>", 1)[-1]
    return [re.sub(r"<[^>]+>|\s+", "", row) for row in re.findall(r"<tr>(.*?)</tr>", part, flags=re.S)]


def test_the_worklist_is_searched_by_name_or_card_number_by_post(tmp_path: Path) -> None:
    client = client_of(tmp_path, "康复中心治疗师", "delivery", "institution:lj-rehab-centre")
    client.app.state.console.agencies = Delivery()  # type: ignore[attr-defined]
    whole = client.get("/delivery")
    assert len(rows(whole.text, "to-serve")) == 2
    csrf = hidden_value(whole.text, "csrf_token")

    by_name = client.post("/delivery", data={"csrf_token": csrf, "q": "欧阳"})
    assert by_name.status_code == 200
    assert [row[:4] for row in rows(by_name.text, "to-serve")] == ["欧阳服务"]
    assert [row[:4] for row in rows(by_name.text, "records")] == ["欧阳服务"]
    assert "批准项目 1 项（共 2 项），服务记录 1 份（共 1 份）" in by_name.text
    assert 'value="欧阳"' in by_name.text

    by_card = client.post("/delivery", data={"csrf_token": csrf, "q": "yy2025001"})
    assert [row[:3] for row in rows(by_card.text, "to-serve")] == ["王秀英"]
    assert "没有姓名或服务卡号含“yy2025001”的服务记录" in by_card.text
    assert '<span class="count">2</span><span class="what">本机构的批准项目' in by_card.text
