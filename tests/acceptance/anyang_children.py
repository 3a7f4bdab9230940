"""Anyang's children as the contract envelopes approval and delivery publish (seed 004), and a settlement
service fed them in-process: shared by the acceptance year and the what-if tests of `rehab replay`."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import uuid4

from fastapi.testclient import TestClient
from rehab_contracts import EventEnvelope
from rehab_contracts.events import ApplicationApproved, ApplicationSubmitted, ServiceDelivered
from rehab_contracts.streams import APPROVAL_STREAM, DELIVERY_STREAM

from tests.settlement.settlement_builders import envelope_of, payload_of

CENTRE = "ay-children-centre"
TRAINING = "children_rehab_training"


def child_events(county: str, start: date, end: date) -> list[tuple[EventEnvelope, str]]:
    """One hearing-impaired child of ``county``: the form, a 12,000-yuan fixed amount approved on
    2021-02-01, training at the centre over ``start``..``end`` charged 15,000 yuan, nothing paid first."""
    person, application, delivery = uuid4(), uuid4(), uuid4()
    form = payload_of(
        ApplicationSubmitted,
        application_id=application,
        person_id=person,
        application_year=2021,
        street=county,
        disability_categories=["hearing"],
    )
    approved = payload_of(
        ApplicationApproved,
        application_id=application,
        person_id=person,
        application_year=2021,
        street=county,
        approved_items=[
            {
                "item": TRAINING,
                "institution_id": CENTRE,
                "subsidy_mode": "fixed_amount",
                "amount_fen": 1_200_000,
            }
        ],
        rejected_items=[],
        approved_on=date(2021, 2, 1),
    )
    delivered = payload_of(
        ServiceDelivered,
        delivery_id=delivery,
        application_id=application,
        person_id=person,
        service_year=2021,
        institution_id=CENTRE,
        item=TRAINING,
        period_start=start,
        period_end=end,
        signed_on=end,
        charge_fen=1_500_000,
        insurance_paid_fen=0,
    )
    stream = f"application-{application}"
    return [
        (envelope_of(form, date(2021, 1, 20), stream), APPROVAL_STREAM),
        (envelope_of(approved, date(2021, 2, 1), stream, 2), APPROVAL_STREAM),
        (envelope_of(delivered, end, f"delivery-{delivery}"), DELIVERY_STREAM),
    ]


def consume(client: TestClient, events: list[tuple[EventEnvelope, str]]) -> None:
    consumer: Any = client.app.state.runtime.consumer  # type: ignore[attr-defined]
    for envelope, stream in events:
        consumer.apply(envelope, stream)


def balances(client: TestClient) -> dict[str, int]:
    return {row["account"]: row["balance_fen"] for row in client.get("/ledger").json()["accounts"]}
