"""Settlement follows the deployment's reference data (``REHAB_REFERENCE``) like the other services:
its streets, its institutions and its policies; Liangjiang when unset."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient

from kernel.runtime import ServiceSettings
from rehab.cli import main
from services.settlement.app import create_app
from services.settlement.book.policy import load_policies
from services.settlement.deployment import deployment_jurisdiction, settled_jurisdiction
from services.settlement.ledger.archive import facts_of
from services.settlement.ledger.books import feed_facts
from tests.problem_json import field_error_of
from tests.settlement.settlement_builders import Journey

ANYANG_COUNTIES = ["文峰区", "北关区", "殷都区", "龙安区", "林州市", "安阳县", "汤阴县", "内黄县", "滑县"]


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/settlement.db"


@pytest.fixture
def anyang(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REHAB_REFERENCE", "anyang")


@pytest.fixture
def client(database_url: str, redis_url: str, redis_client: redis.Redis) -> Iterator[TestClient]:
    settings = ServiceSettings(service="settlement", database_url=database_url, redis_url=redis_url)
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def test_without_rehab_reference_settlement_settles_liangjiang(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REHAB_REFERENCE", raising=False)
    assert (settled_jurisdiction(), deployment_jurisdiction().name) == ("liangjiang", "重庆两江新区")


def test_rehab_reference_names_the_jurisdiction_settlement_settles(anyang: None) -> None:
    assert (settled_jurisdiction(), list(deployment_jurisdiction().streets)) == ("anyang", ANYANG_COUNTIES)


def test_the_api_reports_on_the_streets_and_policies_of_the_deployment_reference(
    anyang: None, client: TestClient
) -> None:
    coverage = client.get("/reports/coverage", params={"year": 2021}).json()
    assert [row["street"] for row in coverage["streets"]] == ANYANG_COUNTIES
    assert coverage["policy_id"] == "anyang-2021"
    quota_use = client.get("/reports/quota-use", params={"year": 2021}).json()
    assert (quota_use["policy_id"], quota_use["total"]["quota"]) == ("anyang-2021", 1015)
    summary = client.get("/reports/annual-summary", params={"year": 2021, "street": "滑县"})
    assert summary.status_code == 200
    liangjiang_street = client.get("/reports/annual-summary", params={"year": 2021, "street": "鸳鸯"})
    error = field_error_of(liangjiang_street, 422)
    assert error["code"] == "settlement.street.unknown" and "滑县" in error["message"]


def test_the_cli_reports_on_the_deployment_reference_too(
    anyang: None, client: TestClient, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["quota-use", "--year", "2021", "--database-url", database_url]) == 0
    assert capsys.readouterr().out.splitlines()[-1].split()[:2] == ["合计", "1015"]
    assert main(["coverage", "--year", "2021", "--database-url", database_url]) == 0
    assert "滑县" in capsys.readouterr().out


def test_the_ledger_prices_by_the_policies_of_the_deployment_reference(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    facts = list(facts_of(envelope for envelope, _ in Journey().events()))
    monkeypatch.delenv("REHAB_REFERENCE", raising=False)
    _, in_liangjiang = feed_facts(facts, load_policies())
    assert {posting.policy_id for posting in in_liangjiang} == {"liangjiang-2024"}
    monkeypatch.setenv("REHAB_REFERENCE", "anyang")
    book, in_anyang = feed_facts(facts, load_policies())
    assert in_anyang == [] and book.unsettled()  # Anyang's policies price none of Liangjiang's 2024 facts
