"""查找人员: a street clerk finds the street's persons by part of the 姓名 or the ID number's last digits,
by POST (nothing typed in an address), within the clerk's street, each person found audited (the survey
app with access control on, real Redis)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import redis
from fastapi.testclient import TestClient

from services.survey.app import create_app
from tests.access.principals import Deployment, audit_entries, code_of, served
from tests.survey.people import make_id, person_body

LI_MING = make_id(date(1958, 4, 12))
LI_MING_OF_RENHE = make_id(date(1958, 4, 12), "271")
WANG = make_id(date(1958, 4, 12), "315")


@pytest.fixture
def registry(
    tmp_path: Path, redis_url: str, redis_client: redis.Redis
) -> Iterator[tuple[TestClient, Deployment]]:
    deployment = Deployment(tmp_path / "access")
    district = deployment.bearer("区干事", "survey", "district")
    with served(create_app, "survey", tmp_path, redis_url, deployment.folder) as client:
        for street, name, id_number in (
            ("鸳鸯", "李明", LI_MING),
            ("人和", "李明", LI_MING_OF_RENHE),
            ("鸳鸯", "王秀英", WANG),
        ):
            body = person_body(street=street, community=f"{street}社区", name=name, id_number=id_number)
            body["certificate_number"] = id_number + "12"
            response = client.post("/persons", json=body, headers=district)
            assert response.status_code == 201, response.text
        yield client, deployment


def search(client: TestClient, headers: dict[str, str], **body: Any) -> Any:
    response = client.post("/persons:search", json=body, headers={**headers, "X-Purpose": quote("查找人员")})
    assert response.status_code == 200, response.text
    return response.json()


def test_a_street_clerk_finds_by_part_of_the_name_only_the_persons_of_its_own_street(
    registry: tuple[TestClient, Deployment],
) -> None:
    client, deployment = registry
    clerk = deployment.bearer("鸳鸯街道调查员", "survey", "street:鸳鸯")

    found = search(client, clerk, name="李")

    assert [(item["name"], item["street"]) for item in found["items"]] == [("李明", "鸳鸯")]
    assert found["total"] == 1
    assert [item["name"] for item in search(client, clerk, name="秀英")["items"]] == ["王秀英"]


def test_the_last_six_digits_of_the_id_number_find_the_person_of_the_street(
    registry: tuple[TestClient, Deployment],
) -> None:
    client, deployment = registry
    clerk = deployment.bearer("鸳鸯街道调查员", "survey", "street:鸳鸯")

    assert [item["name"] for item in search(client, clerk, id_number=WANG[-6:])["items"]] == ["王秀英"]
    assert [item["name"] for item in search(client, clerk, id_number=WANG)["items"]] == ["王秀英"]
    assert search(client, clerk, id_number=LI_MING_OF_RENHE[-6:])["items"] == []


def test_each_person_found_is_audited_with_the_purpose_and_nothing_typed_is_in_the_audit(
    registry: tuple[TestClient, Deployment],
) -> None:
    client, deployment = registry
    clerk = deployment.bearer("鸳鸯街道调查员", "survey", "street:鸳鸯")

    found = search(client, clerk, name="秀英")

    entries = [entry for entry in audit_entries(client) if entry.user == "鸳鸯街道调查员"]
    assert [(entry.subject, entry.purpose, entry.action) for entry in entries] == [
        (found["items"][0]["person_id"], "查找人员", "POST /persons:search")
    ]


def test_another_street_is_refused_and_an_empty_or_short_search_says_why_in_chinese(
    registry: tuple[TestClient, Deployment],
) -> None:
    client, deployment = registry
    clerk = deployment.bearer("鸳鸯街道调查员", "survey", "street:鸳鸯")

    other = client.post("/persons:search", json={"name": "李", "street": "人和"}, headers=clerk)
    empty = client.post("/persons:search", json={"name": " "}, headers=clerk)
    short = client.post("/persons:search", json={"id_number": "318"}, headers=clerk)

    assert other.status_code == 403 and code_of(other) == "access.other_street"
    assert empty.status_code == 422 and code_of(empty) == "survey.search.empty"
    assert short.status_code == 422 and "至少填写后 4 位" in short.json()["detail"]


def test_an_auditor_may_search_and_a_forgotten_person_is_never_found(
    registry: tuple[TestClient, Deployment],
) -> None:
    client, deployment = registry
    auditor = deployment.auditor()
    manager = deployment.bearer("鸳鸯街道负责人", "survey", "street:鸳鸯", "responsible")
    wang = search(client, auditor, id_number=WANG[-6:])["items"][0]["person_id"]

    forgotten = client.post(f"/persons/{wang}/forget", json={}, headers=manager)

    assert forgotten.status_code < 300, forgotten.text
    assert search(client, auditor, name="已删除")["items"] == []
    assert search(client, auditor, id_number=WANG[-6:])["items"] == []
