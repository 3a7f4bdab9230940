"""A service record corrected 更正 in the delivery service reaches settlement as the adjustment ADR 0006
designs: the delivery service publishes the record and its corrections over a real Redis, a settlement
service consumes them, which claws back what a lower charge no longer covers and tops up what a
higher one does, each posting explained as the correction's."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient
from rehab_contracts.streams import APPROVAL_STREAM

from kernel.runtime import ServiceRuntime, ServiceSettings
from services.delivery.app import create_app as delivery_app
from tests.delivery.test_api import eventually
from tests.settlement.settlement_builders import EYE_HOSPITAL, FUND, Journey
from tests.settlement.test_settlement_service import consume, settlement_app

INSTITUTION = f"service_institution:{EYE_HOSPITAL}"


@pytest.fixture
def services(
    tmp_path: Path, redis_url: str, redis_client: redis.Redis
) -> Iterator[tuple[TestClient, TestClient]]:
    settings = ServiceSettings(
        service="delivery", database_url=f"sqlite:///{tmp_path}/delivery.db", redis_url=redis_url
    )
    with TestClient(delivery_app(settings)) as delivery, settlement_app(tmp_path, redis_url) as settlement:
        yield delivery, settlement


def runtime(client: TestClient) -> ServiceRuntime:
    found: ServiceRuntime = client.app.state.runtime  # type: ignore[attr-defined]
    return found


def record_body(journey: Journey, charge_fen: int, insurance_paid_fen: int) -> dict[str, Any]:
    return {
        "application_id": str(journey.application),
        "person_id": str(journey.person),
        "institution_id": EYE_HOSPITAL,
        "item": "low_vision_training",
        "frequency": "每周2次，每次45分钟",
        "period_start": "2024-11-04",
        "period_end": "2024-12-20",
        "staff": "刘康复师",
        "signed_by": "person",
        "signed_on": "2024-12-20",
        "charge_fen": charge_fen,
        "insurance_paid_fen": insurance_paid_fen,
    }


def settled(settlement: TestClient, count: int) -> list[dict[str, Any]]:
    """The institution's postings once settlement has consumed the delivery service's published events
    over Redis and posted ``count`` of them."""
    found = eventually(lambda: len(subsidy_postings(settlement)) >= count)
    assert found, subsidy_postings(settlement)
    return subsidy_postings(settlement)


def inputs_of(explanation: dict[str, Any]) -> dict[str, str]:
    return {each["name"]: each["value"] for each in explanation["inputs"]}


def subsidy_postings(settlement: TestClient) -> list[dict[str, Any]]:
    found = settlement.get("/ledger/postings", params={"account": INSTITUTION}).json()["items"]
    return sorted(found, key=lambda posting: posting["key"])


def test_a_lower_charge_is_clawed_back_and_a_higher_one_topped_up_each_explained_as_the_correction(
    services: tuple[TestClient, TestClient],
) -> None:
    delivery, settlement = services
    # 低视力训练 at a fixed amount of 1,000 yuan: the subsidy covers the self-paid part up to it.
    journey = Journey(
        item_code="low_vision_training", institution=EYE_HOSPITAL, mode="fixed_amount", amount_fen=100000
    )
    for envelope, stream in journey.events()[:-1]:  # everything but the builder's own service record
        assert consume(settlement, envelope, stream)
    assert runtime(delivery).consumer.apply(journey.approved, APPROVAL_STREAM)  # type: ignore[union-attr]

    # Recorded: 800 yuan charged, 100 by insurance: 700 yuan paid to the institution.
    recorded = delivery.post("/deliveries", json=record_body(journey, 80000, 10000))
    assert recorded.status_code == 201, recorded.text
    delivery_id = recorded.json()["delivery_id"]
    [paid] = settled(settlement, 1)
    assert (paid["rule"], paid["amount_fen"]) == ("service_subsidy", 70000)

    # Corrected: the invoice was 500 yuan: 400 is due, 300 yuan clawed back 追回 from the institution.
    lower = delivery.post(
        f"/deliveries/{delivery_id}/corrections",
        json={**record_body(journey, 50000, 10000), "reason": "发票总额录入有误，应为500.00元"},
    )
    assert lower.status_code == 200, lower.text
    settled(settlement, 2)
    # Corrected again: 900 yuan, nothing by insurance: 900 due, 500 yuan topped up.
    higher = delivery.post(
        f"/deliveries/{delivery_id}/corrections",
        json={**record_body(journey, 90000, 0), "reason": "医保未支付，更正医保部分"},
    )
    assert higher.status_code == 200, higher.text

    first, second = (correction["event_id"] for correction in higher.json()["corrections"])
    postings = {posting["posting_id"]: posting for posting in settled(settlement, 3)}
    adjustments = [
        settlement.get(f"/ledger/postings/{posting_id}/explanation").json()
        for posting_id, posting in postings.items()
        if posting["rule"] == "service_subsidy_adjustment"
    ]
    by_event = {
        next(i["value"] for i in each["inputs"] if i["name"] == "correcting_event_id"): each
        for each in adjustments
    }
    claw_back, top_up = by_event[first], by_event[second]
    assert (claw_back["debit_account"], claw_back["credit_account"], claw_back["amount_fen"]) == (
        INSTITUTION,
        FUND,
        30000,
    )
    assert (top_up["debit_account"], top_up["credit_account"], top_up["amount_fen"]) == (
        FUND,
        INSTITUTION,
        50000,
    )
    for explanation, event_id in ((claw_back, first), (top_up, second)):
        assert explanation["source_events"][0]["event_id"] == event_id
        assert explanation["source_events"][0]["event_type"] == "delivery.service_delivered"
        assert event_id in explanation["text"] and "调整" in explanation["text"]
        assert paid["posting_id"] in inputs_of(explanation)["adjusts_posting_ids"]
    assert "追回" in claw_back["text"] and "补付" in top_up["text"]
    assert (inputs_of(claw_back)["posted_before_fen"], inputs_of(claw_back)["due_now_fen"]) == (
        "700.00 元",
        "400.00 元",
    )
    assert (inputs_of(top_up)["posted_before_fen"], inputs_of(top_up)["due_now_fen"]) == (
        "400.00 元",
        "900.00 元",
    )
    balance = {a["account"]: a["balance_fen"] for a in settlement.get("/ledger").json()["accounts"]}
    assert balance[INSTITUTION] == -90000  # owed 700 - 300 + 500 = 900 yuan in the end (a credit)
