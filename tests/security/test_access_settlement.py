"""The settlement service with access control on: every read of a document naming persons (附件3, a
statement, a posting's archived events) is audited with who and why; auditors read but change nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from fastapi.testclient import TestClient

from services.settlement.app import create_app
from tests.access.principals import Deployment, audit_entries, code_of, served
from tests.apps import state_of
from tests.settlement.settlement_builders import Journey

ANNUAL_SUMMARY = "/reports/annual-summary"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def deployment(tmp_path: Path) -> Deployment:
    return Deployment(tmp_path / "access")


@pytest.fixture
def client(
    tmp_path: Path, redis_url: str, redis_client: redis.Redis, deployment: Deployment
) -> Iterator[TestClient]:
    with served(create_app, "settlement", tmp_path, redis_url, deployment.folder) as test_client:
        consumer = state_of(test_client).runtime.consumer
        for envelope, stream in Journey().events():
            consumer.apply(envelope, stream)
        yield test_client


def finance(deployment: Deployment) -> dict[str, str]:
    return deployment.bearer("区财务", "settlement", "district")


def test_reading_the_annual_summary_writes_an_audit_entry_with_who_and_why(
    client: TestClient, deployment: Deployment
) -> None:
    headers = {**finance(deployment), "X-Purpose": quote("年度汇总报送")}
    response = client.get(ANNUAL_SUMMARY, params={"year": 2024, "street": "鸳鸯"}, headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == XLSX
    [entry] = audit_entries(client, subject=ANNUAL_SUMMARY)
    assert (entry.user, entry.agency, entry.purpose, entry.status) == (
        "区财务",
        "settlement",
        "年度汇总报送",
        200,
    )
    assert entry.action.startswith(f"GET {ANNUAL_SUMMARY}?year=2024&street=")


def test_an_auditor_reads_the_annual_summary_and_the_read_is_audited_too(
    client: TestClient, deployment: Deployment
) -> None:
    response = client.get(
        ANNUAL_SUMMARY, params={"year": 2024, "street": "鸳鸯"}, headers=deployment.auditor()
    )
    assert response.status_code == 200
    assert [(entry.user, entry.agency) for entry in audit_entries(client, subject=ANNUAL_SUMMARY)] == [
        ("审计员", "audit")
    ]
    assert code_of(client.post("/ledger/rebuild", headers=deployment.auditor())) == "access.read_only"


def test_a_refused_or_unauthenticated_read_of_the_annual_summary_is_not_audited(
    client: TestClient, deployment: Deployment
) -> None:
    unknown = client.get(
        ANNUAL_SUMMARY, params={"year": 2024, "street": "解放碑"}, headers=finance(deployment)
    )
    assert code_of(unknown) == "settlement.street.unknown"
    anonymous = client.get(ANNUAL_SUMMARY, params={"year": 2024, "street": "鸳鸯"})
    assert code_of(anonymous) == "access.unauthenticated"
    surveyor = deployment.bearer("鸳鸯干事", "survey", "street:鸳鸯")
    other = client.get(ANNUAL_SUMMARY, params={"year": 2024, "street": "鸳鸯"}, headers=surveyor)
    assert code_of(other) == "access.wrong_agency"
    assert audit_entries(client, subject=ANNUAL_SUMMARY) == []


def test_statements_and_a_postings_archived_events_are_audited_but_ledger_totals_are_not(
    client: TestClient, deployment: Deployment
) -> None:
    headers = finance(deployment)
    person = f"person:{Journey().person}"
    assert client.get(f"/statements/{person}", params={"period": "2024"}, headers=headers).status_code == 200
    posting = client.get("/ledger/postings", headers=headers).json()["items"][0]["posting_id"]
    assert client.get(f"/ledger/postings/{posting}", headers=headers).status_code == 200
    assert client.get("/ledger", headers=headers).status_code == 200
    actions = [entry.action.split("?")[0] for entry in audit_entries(client)]
    assert actions == [f"GET /statements/{person}", f"GET /ledger/postings/{posting}"]


def test_a_street_user_reads_their_own_streets_annual_summary_and_statement_only(
    client: TestClient, deployment: Deployment
) -> None:
    street = deployment.bearer("鸳鸯街道会计", "settlement", "street:鸳鸯")
    own = client.get(ANNUAL_SUMMARY, params={"year": 2024, "street": "鸳鸯"}, headers=street)
    assert own.status_code == 200
    other = client.get(ANNUAL_SUMMARY, params={"year": 2024, "street": "人和"}, headers=street)
    assert (other.status_code, code_of(other)) == (403, "access.other_street")
    assert client.get("/statements/street:鸳鸯", params={"period": "2024"}, headers=street).status_code == 200
    for account in ("street:人和", "service_institution:lj-rehab-centre", "fund:liangjiang-finance"):
        refused = client.get(f"/statements/{account}", params={"period": "2024"}, headers=street)
        assert (refused.status_code, code_of(refused)) == (403, "access.other_street"), account


def test_an_institution_user_reads_its_own_statement_only(client: TestClient, deployment: Deployment) -> None:
    centre = deployment.bearer("康复中心会计", "settlement", "institution:lj-rehab-centre")
    own = client.get(
        "/statements/service_institution:lj-rehab-centre", params={"period": "2024"}, headers=centre
    )
    assert own.status_code == 200
    for account in ("service_institution:cq-aier-eye", "street:鸳鸯"):
        refused = client.get(f"/statements/{account}", params={"period": "2024"}, headers=centre)
        assert (refused.status_code, code_of(refused)) == (403, "access.other_institution"), account
