"""The 社区 the registry holds persons of, in the caller's street: what the registration form suggests, so a
typo does not start a community of its own (console audit). Names and counts only, so no audit entry."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient

from services.survey.app import create_app
from tests.access.principals import Deployment, audit_entries, code_of, served
from tests.survey.people import make_id, person_body


@pytest.fixture
def registry(
    tmp_path: Path, redis_url: str, redis_client: redis.Redis
) -> Iterator[tuple[TestClient, Deployment]]:
    deployment = Deployment(tmp_path / "access")
    district = deployment.bearer("区干事", "survey", "district")
    with served(create_app, "survey", tmp_path, redis_url, deployment.folder) as client:
        for street, community, serial in (
            ("鸳鸯", "鸳鸯第一社区", "101"),
            ("鸳鸯", "鸳鸯第一社区", "103"),
            ("鸳鸯", "鸳鸯第二社区", "105"),
            ("人和", "人和第一社区", "107"),
        ):
            id_number = make_id(date(1958, 4, 12), serial)
            body = person_body(street=street, community=community, id_number=id_number)
            body["certificate_number"] = id_number + "12"
            response = client.post("/persons", json=body, headers=district)
            assert response.status_code == 201, response.text
        yield client, deployment


def test_a_street_clerk_gets_the_communities_of_its_street_with_their_counts_and_no_audit_entry(
    registry: tuple[TestClient, Deployment], tmp_path: Path
) -> None:
    client, deployment = registry
    clerk = deployment.bearer("鸳鸯街道调查员", "survey", "street:鸳鸯")
    audited = len(audit_entries(client))

    answer = client.get("/communities", headers=clerk)

    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "street": "鸳鸯",
        "communities": [
            {"community": "鸳鸯第一社区", "persons": 2},
            {"community": "鸳鸯第二社区", "persons": 1},
        ],
    }
    assert len(audit_entries(client)) == audited


def test_another_streets_communities_are_refused_and_a_district_clerk_names_the_street(
    registry: tuple[TestClient, Deployment],
) -> None:
    client, deployment = registry
    clerk = deployment.bearer("鸳鸯街道调查员", "survey", "street:鸳鸯")
    district = deployment.bearer("区干事", "survey", "district")

    refused = client.get("/communities", params={"street": "人和"}, headers=clerk)
    renhe = client.get("/communities", params={"street": "人和"}, headers=district).json()

    assert refused.status_code == 403, code_of(refused)
    assert renhe["communities"] == [{"community": "人和第一社区", "persons": 1}]
