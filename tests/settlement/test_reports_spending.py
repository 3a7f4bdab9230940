"""GET /reports/spending: the year's money by rule, fund and level of government, net of claw-backs, equal
to the sums of the ledger's own postings."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient
from rehab_contracts import EventEnvelope
from rehab_contracts.events import ServiceDelivered
from rehab_contracts.streams import DELIVERY_STREAM

from kernel.runtime import ServiceSettings
from services.settlement.app import create_app
from services.settlement.documents.spending import year_spending
from tests.settlement.settlement_builders import EYE_HOSPITAL, FUND, Journey, envelope_of, payload_of

EYES = f"service_institution:{EYE_HOSPITAL}"


@pytest.fixture
def client(tmp_path: Path, redis_url: str, redis_client: redis.Redis) -> Iterator[TestClient]:
    settings = ServiceSettings(
        service="settlement", database_url=f"sqlite:///{tmp_path}/settlement.db", redis_url=redis_url
    )
    with TestClient(create_app(settings)) as client:
        yield client


def consume(client: TestClient, envelope: EventEnvelope, stream: str) -> None:
    client.app.state.runtime.consumer.apply(envelope, stream)  # type: ignore[attr-defined]


def lowered(journey: Journey, charge_fen: int, arrived: datetime) -> EventEnvelope:
    """The delivery's second record, at a lower charge: the institution pays the difference back."""
    payload = payload_of(
        ServiceDelivered,
        delivery_id=journey.delivery,
        application_id=journey.application,
        person_id=journey.person,
        institution_id=EYE_HOSPITAL,
        item="low_vision_training",
        charge_fen=charge_fen,
        insurance_paid_fen=0,
    )
    envelope = envelope_of(payload, date(2024, 12, 20), f"delivery-{journey.delivery}", version=2)
    return envelope.model_copy(update={"recorded_at": arrived})


@pytest.fixture
def year(client: TestClient) -> int:
    """Two support services (鸳鸯, 人和) and a low-vision training of 600 yuan lowered to 400 in 2024,
    then lowered again to 300 in 2025: a claw-back of 200 in the year, one of 100 in the next."""
    eyes = Journey(
        item_code="low_vision_training",
        institution=EYE_HOSPITAL,
        mode="fixed_amount",
        amount_fen=100000,
        charge_fen=60000,
    )
    for journey in (Journey(), Journey(street="人和"), eyes):
        for envelope, stream in journey.events():
            consume(client, envelope, stream)
    consume(client, lowered(eyes, 40000, datetime(2024, 12, 28, 3, tzinfo=UTC)), DELIVERY_STREAM)
    later = lowered(eyes, 30000, datetime(2025, 1, 6, 3, tzinfo=UTC))
    consume(client, later.model_copy(update={"version": 3}), DELIVERY_STREAM)
    return 2024


def postings(client: TestClient) -> list[dict[str, Any]]:
    page = client.get("/ledger/postings", params={"limit": 500}).json()
    assert page["total"] == len(page["items"])
    return list(page["items"])


def net_by_hand(items: list[dict[str, Any]], year: int) -> dict[tuple[str, str], int]:
    """Each posting of the year: a fund's debit paid out, a fund's credit paid back."""
    net: dict[tuple[str, str], int] = {}
    for posting in items:
        if not posting["business_date"].startswith(f"{year}-"):
            continue
        rule = posting["rule"].removesuffix("_adjustment")
        if posting["debit_account"].startswith("fund:"):
            key, fen = (rule, posting["debit_account"]), posting["amount_fen"]
        else:
            key, fen = (rule, posting["credit_account"]), -posting["amount_fen"]
        net[key] = net.get(key, 0) + fen
    return net


def test_the_years_spending_equals_the_sums_of_the_ledgers_postings_net_of_claw_backs(client, year):
    body = client.get("/reports/spending", params={"year": year}).json()
    by_hand = net_by_hand(postings(client), year)
    assert {(row["rule"], row["fund"]): row["fen"] for row in body["by_rule_and_fund"]} == by_hand
    rules = {row["rule"]: (row["name"], row["fen"]) for row in body["by_rule"]}
    assert rules == {
        "survey_fee": ("需求调查工作经费", 3 * 3000),
        "management_fee": ("康复管理经费", 3 * 3000),
        "assessment_fee": ("评估、转介经费", 3 * 3000),
        "support_service": ("支持性服务补贴", 2 * 20000),
        "service_subsidy": ("康复服务项目补助", 60000 - 20000),
    }
    assert body["total_fen"] == sum(by_hand.values()) == 3 * 9000 + 40000 + 40000
    assert body["by_fund"] == [
        {"account": FUND, "name": "两江新区财政", "level": "district", "fen": body["total_fen"]}
    ]
    assert body["by_level"] == [{"level": "district", "funds": [FUND], "fen": body["total_fen"]}]


def test_a_claw_back_in_the_next_year_counts_in_that_year(client, year):
    body = client.get("/reports/spending", params={"year": year + 1}).json()
    assert body["by_rule_and_fund"] == [{"rule": "service_subsidy", "fund": FUND, "fen": -10000}]
    assert body["total_fen"] == -10000
    assert client.get("/reports/spending", params={"year": 1999}).status_code == 422


def test_a_payees_spending_is_what_its_own_postings_sum_to(client, year):
    engine = client.app.state.runtime.store.engine
    policies = client.app.state.ledger.policies
    street = year_spending(engine, year, policies, within=("street:人和",))
    assert street.by_rule() == {"survey_fee": 3000, "management_fee": 3000}
    eyes = year_spending(engine, year, policies, within=(EYES,))
    assert eyes.by_rule() == {"service_subsidy": 40000} and eyes.by_level() == {"district": 40000}
