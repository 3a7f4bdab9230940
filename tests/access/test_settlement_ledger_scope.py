"""Settlement's ledger queries with access control on: the district office and auditors read every
account; a street's user its street's postings, unsettled facts and report row; an institution's
user its own postings and unsettled services; the whole-ledger totals are the district's only."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient

from kernel.runtime import ServiceSettings
from services.settlement.app import create_app
from tests.access.principals import Deployment, audit_entries, code_of, served
from tests.apps import state_of
from tests.settlement.settlement_builders import DISTRICT_ASSESSOR, EYE_HOSPITAL, REHAB_CENTRE, Journey

YUANYANG = Journey(street="鸳鸯", institution=REHAB_CENTRE)
RENHE = Journey(street="人和", institution=EYE_HOSPITAL)
WAITING = Journey(street="人和", institution=EYE_HOSPITAL)  # its application is never approved
"""Three persons: two settled, one whose service waits for an approval (an unsettled fact)."""


def events() -> Iterator[tuple[Any, str]]:
    yield from YUANYANG.events()
    yield from RENHE.events()
    yield from (pair for pair in WAITING.events() if pair[0] is not WAITING.approved)


@pytest.fixture
def deployment(tmp_path: Path) -> Deployment:
    return Deployment(tmp_path / "access")


@pytest.fixture
def client(
    tmp_path: Path, redis_url: str, redis_client: redis.Redis, deployment: Deployment
) -> Iterator[TestClient]:
    with served(create_app, "settlement", tmp_path, redis_url, deployment.folder) as test_client:
        consumer = state_of(test_client).runtime.consumer
        for envelope, stream in events():
            consumer.apply(envelope, stream)
        yield test_client


def street(deployment: Deployment, name: str = "鸳鸯") -> dict[str, str]:
    return deployment.bearer(f"{name}街道会计", "settlement", f"street:{name}")


def institution(deployment: Deployment, name: str) -> dict[str, str]:
    return deployment.bearer(f"{name}会计", "settlement", f"institution:{name}")


def district(deployment: Deployment) -> dict[str, str]:
    return deployment.bearer("区财务", "settlement", "district")


def postings(client: TestClient, headers: dict[str, str], **params: str) -> list[dict[str, Any]]:
    response = client.get("/ledger/postings", params={"limit": 500, **params}, headers=headers)
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["total"] == len(page["items"])
    return list(page["items"])


def accounts_of(items: list[dict[str, Any]]) -> set[str]:
    return {account for item in items for account in (item["debit_account"], item["credit_account"])}


def refusal(response: Any) -> tuple[int, str, list[str]]:
    """Status, code and the fields named of a problem+json refusal, whose detail is Chinese."""
    body = response.json()
    assert any("\u4e00" <= char <= "\u9fff" for char in body["detail"]), body
    return response.status_code, code_of(response), [error["field"] for error in body["errors"]]


def test_a_street_user_lists_only_the_postings_of_their_own_street(
    client: TestClient, deployment: Deployment
) -> None:
    everything = postings(client, district(deployment))
    own = postings(client, street(deployment))
    assert {item["rule"] for item in own} == {"survey_fee", "management_fee"}
    assert all("street:鸳鸯" in (item["debit_account"], item["credit_account"]) for item in own)
    assert own == [item for item in everything if "street:鸳鸯" in accounts_of([item])]
    assert postings(client, street(deployment), account="street:鸳鸯") == own
    survey_fees = postings(client, street(deployment), rule="survey_fee")
    assert [(item["rule"], item["credit_account"]) for item in survey_fees] == [("survey_fee", "street:鸳鸯")]
    for account in ("street:人和", "fund:liangjiang-finance", f"service_institution:{REHAB_CENTRE}"):
        asked = client.get("/ledger/postings", params={"account": account}, headers=street(deployment))
        assert refusal(asked) == (403, "access.other_street", ["account"]), account


def test_a_street_user_reads_the_detail_of_their_streets_postings_only_and_only_those_reads_are_audited(
    client: TestClient, deployment: Deployment
) -> None:
    everything = postings(client, district(deployment))
    own = next(item for item in everything if item["credit_account"] == "street:鸳鸯")
    other = next(item for item in everything if item["credit_account"] == "street:人和")
    read = client.get(f"/ledger/postings/{own['posting_id']}", headers=street(deployment))
    assert read.status_code == 200
    assert read.json()["source_events"]
    refused = client.get(f"/ledger/postings/{other['posting_id']}", headers=street(deployment))
    assert refusal(refused) == (403, "access.other_street", ["posting_id"])
    assert [entry.action for entry in audit_entries(client)] == [f"GET /ledger/postings/{own['posting_id']}"]


def test_the_explanation_of_a_posting_is_read_by_those_who_may_read_the_posting(
    client: TestClient, deployment: Deployment
) -> None:
    everything = postings(client, district(deployment))
    own = next(item for item in everything if item["credit_account"] == "street:鸳鸯")
    other = next(item for item in everything if item["credit_account"] == "street:人和")
    explained = client.get(f"/ledger/postings/{own['posting_id']}/explanation", headers=street(deployment))
    assert explained.status_code == 200
    refused = client.get(f"/ledger/postings/{other['posting_id']}/explanation", headers=street(deployment))
    assert refusal(refused) == (403, "access.other_street", ["posting_id"])
    rehab_centre = institution(deployment, REHAB_CENTRE)
    refused = client.get(f"/ledger/postings/{own['posting_id']}/explanation", headers=rehab_centre)
    assert refusal(refused) == (403, "access.other_institution", ["posting_id"])
    explanation_of_other = f"/ledger/postings/{other['posting_id']}/explanation"
    assert client.get(explanation_of_other, headers=district(deployment)).status_code == 200


def test_an_institution_user_reads_only_the_postings_crediting_or_debiting_its_own_accounts(
    client: TestClient, deployment: Deployment
) -> None:
    centre = institution(deployment, REHAB_CENTRE)
    own = postings(client, centre)
    assert own and accounts_of(own) - {f"service_institution:{REHAB_CENTRE}"} == {"fund:liangjiang-finance"}
    assessor = postings(client, institution(deployment, DISTRICT_ASSESSOR))
    assert {item["rule"] for item in assessor} == {"assessment_fee"}
    assert len(assessor) == 3  # each of the three persons was assessed there
    eye_account = f"service_institution:{EYE_HOSPITAL}"
    eye = next(
        item for item in postings(client, district(deployment)) if item["credit_account"] == eye_account
    )
    refused = client.get(f"/ledger/postings/{eye['posting_id']}", headers=centre)
    assert refusal(refused) == (403, "access.other_institution", ["posting_id"])
    asked = client.get("/ledger/postings", params={"account": "street:鸳鸯"}, headers=centre)
    assert refusal(asked) == (403, "access.other_institution", ["account"])


def test_the_whole_ledgers_totals_are_the_districts_and_the_auditors_only(
    client: TestClient, deployment: Deployment
) -> None:
    for headers in (street(deployment), institution(deployment, REHAB_CENTRE)):
        assert refusal(client.get("/ledger", headers=headers)) == (403, "access.district_only", [])
        assert code_of(client.post("/ledger/rebuild", headers=headers)) == "access.command_scope"
    for headers in (district(deployment), deployment.auditor()):
        totals = client.get("/ledger", headers=headers)
        assert totals.status_code == 200
        assert totals.json()["posting_count"] == len(postings(client, headers))


def test_unsettled_facts_are_listed_to_the_street_of_the_person_and_the_institution_of_the_service(
    client: TestClient, deployment: Deployment
) -> None:
    def subjects(headers: dict[str, str]) -> list[str]:
        response = client.get("/ledger/unsettled", headers=headers)
        assert response.status_code == 200, response.text
        return [item["subject"] for item in response.json()]

    waiting = [str(WAITING.delivery)]
    assert subjects(district(deployment)) == waiting
    assert subjects(deployment.auditor()) == waiting
    assert subjects(street(deployment, "人和")) == waiting
    assert subjects(institution(deployment, EYE_HOSPITAL)) == waiting
    assert subjects(street(deployment, "鸳鸯")) == []
    assert subjects(institution(deployment, REHAB_CENTRE)) == []


def test_a_street_user_gets_their_streets_coverage_row_and_progress_and_an_institution_neither(
    client: TestClient, deployment: Deployment
) -> None:
    whole = client.get("/reports/coverage", params={"year": 2024}, headers=district(deployment)).json()
    renhe = client.get("/reports/coverage", params={"year": 2024}, headers=street(deployment, "人和")).json()
    [row] = renhe["streets"]
    assert row == next(row for row in whole["streets"] if row["street"] == "人和")
    assert (row["with_needs"], row["served"]) == (2, 2)  # served counts a signed record, settled or not
    assert renhe["overall"] == whole["overall"]
    progress = client.get("/reports/progress", params={"year": 2024}, headers=street(deployment, "人和"))
    december = progress.json()["months"][-1]
    assert (december["surveyed"], december["with_needs"], december["served"]) == (2, 2, 2)
    everyone = client.get("/reports/progress", params={"year": 2024}, headers=district(deployment)).json()
    assert everyone["months"][-1]["with_needs"] == 3
    centre = institution(deployment, REHAB_CENTRE)
    for path in ("/reports/coverage", "/reports/progress"):
        refused = client.get(path, params={"year": 2024}, headers=centre)
        assert refusal(refused) == (403, "access.scope_not_applicable", []), path


def test_without_access_control_every_ledger_query_answers_for_the_whole_district(
    tmp_path: Path, redis_url: str, redis_client: redis.Redis
) -> None:
    settings = ServiceSettings(
        service="settlement", database_url=f"sqlite:///{tmp_path}/open.db", redis_url=redis_url
    )
    with TestClient(create_app(settings)) as open_client:
        consumer = state_of(open_client).runtime.consumer
        for envelope, stream in events():
            consumer.apply(envelope, stream)
        everything = postings(open_client, {})
        payees = {"street:鸳鸯", "street:人和", f"service_institution:{EYE_HOSPITAL}"}
        assert accounts_of(everything) >= payees
        assert open_client.get("/ledger").json()["posting_count"] == len(everything)
        assert len(open_client.get("/ledger/unsettled").json()) == 1
        coverage = open_client.get("/reports/coverage", params={"year": 2024}).json()
        assert len(coverage["streets"]) == 8
        detail = open_client.get(f"/ledger/postings/{everything[0]['posting_id']}")
        assert detail.status_code == 200


def test_a_community_user_reads_the_postings_and_coverage_row_of_its_street_as_its_statement(
    client: TestClient, deployment: Deployment
) -> None:
    community = deployment.bearer("鸳鸯社区会计", "settlement", "community:鸳鸯/鸳鸯第一社区")
    assert postings(client, community) == postings(client, street(deployment))
    coverage = client.get("/reports/coverage", params={"year": 2024}, headers=community).json()
    assert [row["street"] for row in coverage["streets"]] == ["鸳鸯"]
    refused = client.get("/ledger/postings", params={"account": "street:人和"}, headers=community)
    assert refusal(refused) == (403, "access.other_street", ["account"])
