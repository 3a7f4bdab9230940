"""One period of an approved item is recorded once even when institutions record it concurrently, on SQLite
and PostgreSQL; a store older than the records index builds it from its events (docs/adr/0010)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from rehab_contracts import ApplicationApproved, EventEnvelope
from sqlalchemy import delete

from kernel.reference import load_jurisdiction
from kernel.store.store import EventStore
from services.delivery import handlers, schemas, tables
from services.delivery.api import service_form
from services.delivery.domain import ServiceDelivered
from services.delivery.refusals import RefusedRecord
from services.delivery.tables import tables as delivery_tables
from tests.backends import BACKENDS, store_on
from tests.delivery.test_api import approved, service

LIANGJIANG = load_jurisdiction()


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EventStore]:
    with store_on(request, tmp_path, "delivery", delivery_tables) as event_store:
        # A first record builds the records index, so that no first record serialises the rest.
        earlier = service(approval_known(event_store))
        record_service(event_store, earlier)
        yield event_store


def record_service(store: EventStore, body: dict[str, Any]) -> ServiceDelivered | RefusedRecord:
    """The record command in a unit of work of its own, as the API runs it: kept, or refused and kept so."""
    sent = schemas.RecordService.model_validate(body)
    with store.transaction() as unit:
        return handlers.record_service(
            unit, LIANGJIANG, service_form(sent), as_sent=sent.model_dump_json(), sender="康复中心"
        )


def approval_known(store: EventStore) -> EventEnvelope:
    approval = approved()
    with store.transaction() as unit:
        handlers.on_application_approved(unit, approval, ApplicationApproved.model_validate(approval.payload))
    return approval


def week(number: int) -> dict[str, Any]:
    start = date(2024, 11, 4) + timedelta(weeks=number)
    end = start + timedelta(days=6)
    return {"period_start": str(start), "period_end": str(end), "signed_on": str(end)}


def record_all_at_once(store: EventStore, bodies: list[dict[str, Any]]) -> list[object]:
    """Each record kept on its own thread and transaction, all released together."""
    start = threading.Barrier(len(bodies))
    outcomes: list[object] = [None] * len(bodies)

    def record(index: int) -> None:
        start.wait()
        try:
            outcomes[index] = record_service(store, bodies[index])
        except Exception as error:  # the outcome is what the test looks at
            outcomes[index] = error

    threads = [threading.Thread(target=record, args=(index,)) for index in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_one_period_recorded_concurrently_is_kept_once_and_refused_as_overlapping_otherwise(
    store: EventStore,
) -> None:
    approval = approval_known(store)
    outcomes = record_all_at_once(store, [service(approval) for _ in range(6)])
    kept = [outcome for outcome in outcomes if isinstance(outcome, ServiceDelivered)]
    refused = [outcome for outcome in outcomes if not isinstance(outcome, ServiceDelivered)]
    assert len(kept) == 1, outcomes
    assert all(
        isinstance(outcome, RefusedRecord)
        and (outcome.status, outcome.code) == (409, "delivery.period_start.overlaps")
        for outcome in refused
    ), refused
    assert len(handlers.list_deliveries(store, application_id=UUID(approval.payload["application_id"]))) == 1
    assert len(handlers.list_refused(store, "cqmu-second")) == 5


def test_distinct_periods_recorded_concurrently_are_all_kept(store: EventStore) -> None:
    approval = approval_known(store)
    outcomes = record_all_at_once(store, [service(approval, **week(number)) for number in range(6)])
    assert all(isinstance(outcome, ServiceDelivered) for outcome in outcomes), outcomes
    assert len(handlers.list_deliveries(store, application_id=UUID(approval.payload["application_id"]))) == 6


def test_a_store_older_than_the_records_index_still_refuses_an_overlap(store: EventStore) -> None:
    approval = approval_known(store)
    [first] = record_all_at_once(store, [service(approval, **week(0))])
    with store.transaction() as unit:  # as a store written before the index existed
        unit.session.execute(delete(tables.records))
        unit.session.execute(delete(tables.projection_builds))
    refused = record_service(store, service(approval))
    assert isinstance(refused, RefusedRecord) and refused.code == "delivery.period_start.overlaps"
    assert isinstance(first, ServiceDelivered) and str(first.delivery_id) in refused.reason
    record_service(store, service(approval, **week(3)))
    with store.reading() as unit:
        assert unit.session.query(tables.records).count() == 3  # with the fixture's record
        assert unit.session.query(tables.projection_builds).count() == 1
