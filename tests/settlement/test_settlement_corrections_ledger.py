"""A correction consumed by the running service: adjustments in the live ledger, replay, as-of and explain."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient
from rehab_contracts import EventEnvelope
from rehab_contracts.events import ServiceDelivered
from rehab_contracts.streams import DELIVERY_STREAM
from sqlalchemy import Engine, select, update

from kernel.domain.clock import business_date
from kernel.runtime import ServiceSettings
from kernel.store.store import inbox_table
from rehab.cli import main
from services.settlement.app import create_app
from services.settlement.ledger.as_of import replay_as_of
from services.settlement.ledger.replay import rebuild_ledger
from services.settlement.ledger.report import ledger_report, render
from services.settlement.ledger.tables import postings_table
from tests.settlement.settlement_builders import EYE_HOSPITAL, Journey, envelope_of, payload_of

INSTITUTION = f"service_institution:{EYE_HOSPITAL}"


@pytest.fixture
def client(tmp_path: Path, redis_url: str, redis_client: redis.Redis) -> Iterator[TestClient]:
    settings = ServiceSettings(
        service="settlement", database_url=f"sqlite:///{tmp_path}/settlement.db", redis_url=redis_url
    )
    with TestClient(create_app(settings)) as client:
        yield client


def engine(client: TestClient) -> Engine:
    return client.app.state.runtime.store.engine  # type: ignore[attr-defined]


def consume(client: TestClient, envelope: EventEnvelope, stream: str) -> None:
    client.app.state.runtime.consumer.apply(envelope, stream)  # type: ignore[attr-defined]


def corrected_delivery(journey: Journey, charge_fen: int, insurance_paid_fen: int) -> EventEnvelope:
    """The delivery service's second record of the same delivery, with corrected amounts."""
    payload = payload_of(
        ServiceDelivered,
        delivery_id=journey.delivery,
        application_id=journey.application,
        person_id=journey.person,
        institution_id=EYE_HOSPITAL,
        item="low_vision_training",
        charge_fen=charge_fen,
        insurance_paid_fen=insurance_paid_fen,
    )
    return envelope_of(payload, date(2024, 12, 20), f"delivery-{journey.delivery}", version=2)


def received_at(client: TestClient, envelopes: list[EventEnvelope], moment: datetime) -> None:
    ids = [str(envelope.event_id) for envelope in envelopes]
    with engine(client).begin() as connection:
        connection.execute(
            update(inbox_table).where(inbox_table.c.event_id.in_(ids)).values(received_at=moment)
        )


def stored_postings(client: TestClient) -> list[tuple[object, ...]]:
    with engine(client).connect() as connection:
        rows = connection.execute(select(postings_table).order_by(postings_table.c.key))
        return [tuple(row) for row in rows]


@pytest.fixture
def corrected(client: TestClient) -> tuple[Journey, EventEnvelope]:
    """A 600-yuan low-vision record under a 1,000-yuan fixed amount, corrected to 800 - 100 insurance."""
    journey = Journey(
        item_code="low_vision_training",
        institution=EYE_HOSPITAL,
        mode="fixed_amount",
        amount_fen=100000,
        charge_fen=60000,
    )
    for envelope, stream in journey.events():
        consume(client, envelope, stream)
    correction = corrected_delivery(journey, 80000, 10000)
    consume(client, correction, DELIVERY_STREAM)
    return journey, correction


def test_the_live_ledger_keeps_the_first_payment_and_adds_the_top_up_dated_the_day_the_correction_arrived(
    client, corrected
):
    _journey, correction = corrected
    items = client.get("/ledger/postings", params={"account": INSTITUTION}).json()["items"]
    assert [(item["rule"], item["amount_fen"]) for item in items] == [
        ("service_subsidy", 60000),
        ("service_subsidy_adjustment", 10000),
    ]
    assert items[1]["business_date"] == business_date(correction.recorded_at).isoformat()
    assert items[0]["business_date"] == "2024-12-20"


def test_a_replay_of_an_archive_with_corrections_equals_the_live_ledger_byte_for_byte(client, corrected):
    live_rows, live_text = stored_postings(client), render(ledger_report(engine(client)))
    assert len(live_rows) == 5
    report = rebuild_ledger(engine(client), live=client.app.state.ledger)
    assert render(report) == live_text
    assert stored_postings(client) == live_rows


def test_as_of_a_day_before_the_correction_shows_the_old_figure_and_after_it_old_plus_adjustment(
    client, corrected
):
    journey, correction = corrected
    received_at(client, [envelope for envelope, _ in journey.events()], datetime(2024, 12, 20, 2, tzinfo=UTC))
    received_at(client, [correction], datetime(2025, 1, 10, 2, tzinfo=UTC))

    def institution_credit(day: date) -> int:
        report = replay_as_of(engine(client), day).report
        return next(totals.credit_fen for totals in report.accounts if totals.account == INSTITUTION)

    assert institution_credit(date(2024, 12, 31)) == 60000
    assert institution_credit(date(2025, 1, 10)) == 60000 + 10000


def test_explain_of_an_adjustment_names_the_correcting_event_and_the_posting_it_adjusts(
    client, corrected, capsys
):
    _journey, correction = corrected
    items = client.get("/ledger/postings", params={"account": INSTITUTION}).json()["items"]
    original, adjustment = items[0]["posting_id"], items[1]["posting_id"]
    assert main(["explain", adjustment, "--database-url", str(engine(client).url)]) == 0
    printed = capsys.readouterr().out
    assert "康复服务项目补助（调整）" in printed
    assert "服务记录的更正到达后重新结算：更正后应付 700.00 元" in printed
    assert "被调整的记账已记 600.00 元" in printed
    ids = {
        line.split()[0]: line.split()[-1]
        for line in printed.splitlines()
        if "更正事件" in line or ("被调整的记账" in line and "已记" not in line)
    }
    assert ids == {
        "更正事件": str(correction.event_id),
        "被调整的记账": original,
    }  # the ids: inputs, for checking
    assert next(line for line in printed.splitlines() if "调整方向" in line).split()[-1] == "补付"
    assert f"delivery.service_delivered）  {correction.event_id}" in printed
