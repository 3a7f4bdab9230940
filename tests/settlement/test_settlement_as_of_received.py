"""The ledger as of a date takes exactly the events settlement received before its end, whatever the order
they were archived in: the fact log bounded by the inbox's received_at index gives the totals of the
archive's own replay, when clocks or writers put a later receipt before an earlier one too."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient

from services.settlement.book.policy import load_policies
from services.settlement.ledger.as_of import end_of_day, replay_as_of, totals_as_of
from services.settlement.ledger.person_order import fold_log
from tests.settlement.test_settlement_replay_api import (
    CATARACT,
    SUPPORT,
    consume,
    engine,
    received_on,
    settlement_client,
)


@pytest.fixture
def client(tmp_path: Path, redis_url: str, redis_client: redis.Redis) -> Iterator[TestClient]:
    with settlement_client(tmp_path, redis_url) as client:
        yield client


@pytest.fixture
def out_of_order(client: TestClient) -> TestClient:
    """SUPPORT archived first, its fees received on 31 October (CST) and the rest on 5 November; CATARACT
    archived after it all but received on 31 October: receipts that do not rise with the archive's order."""
    consume(client, SUPPORT, CATARACT)
    received_on(
        client,
        [SUPPORT.registered, SUPPORT.surveyed, SUPPORT.assessed],
        datetime(2024, 10, 31, 2, tzinfo=UTC),
    )
    received_on(client, [SUPPORT.approved, SUPPORT.delivered], datetime(2024, 11, 5, 2, tzinfo=UTC))
    received_on(
        client, [envelope for envelope, _ in CATARACT.events()], datetime(2024, 10, 31, 3, tzinfo=UTC)
    )
    return client


@pytest.mark.parametrize(
    "day", [date(2024, 10, 30), date(2024, 10, 31), date(2024, 11, 4), date(2024, 11, 5)]
)
def test_the_fact_log_bounded_by_receipt_gives_the_totals_of_the_archives_replay(out_of_order, day):
    store = engine(out_of_order)
    logged = fold_log(store, load_policies(), end_of_day(day))
    assert logged is not None  # the fact log covers the archive: this is the path rehab replay --as-of takes
    events, _settled, report = logged
    archive = replay_as_of(store, day)
    assert (events, report) == (archive.events, archive.report)
    assert totals_as_of(store, day).report == archive.report


def test_an_event_archived_after_one_received_later_still_counts_on_the_day_it_was_received(out_of_order):
    as_of = totals_as_of(engine(out_of_order), date(2024, 10, 31))
    assert as_of.events == 3 + 5
    assert as_of.report.total_credit_fen == 9000 + 9000 + 150000  # both persons' fees, the operation


def test_before_any_receipt_nothing_and_after_the_last_one_everything(out_of_order):
    store = engine(out_of_order)
    assert totals_as_of(store, date(2024, 10, 30)).events == 0
    assert totals_as_of(store, date(2024, 11, 5)).events == 10
    assert totals_as_of(store, date(2024, 11, 5)).report.total_credit_fen == 29000 + 9000 + 150000
