"""The settlement service: consumed events post to the ledger, which balances and rebuilds identically."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient
from rehab_contracts import EventEnvelope
from rehab_contracts.streams import APPROVAL_STREAM, DELIVERY_STREAM
from sqlalchemy import Engine, func, select, text

from kernel.runtime import ServiceRuntime, ServiceSettings
from services.settlement.app import create_app
from services.settlement.fact_types import fact_of
from services.settlement.ledger import replay
from services.settlement.ledger.posting_rows import write_postings
from services.settlement.ledger.queries import find_postings
from services.settlement.ledger.replay import rebuild_ledger
from services.settlement.ledger.report import ledger_report, render
from services.settlement.ledger.tables import journal_lines_table, metadata, postings_table
from tests.problem_json import field_error_of
from tests.settlement.settlement_builders import DISTRICT_ASSESSOR, EYE_HOSPITAL, FUND, REHAB_CENTRE, Journey


def settlement_app(tmp_path: Path, redis_url: str) -> TestClient:
    settings = ServiceSettings(
        service="settlement", database_url=f"sqlite:///{tmp_path}/settlement.db", redis_url=redis_url
    )
    return TestClient(create_app(settings))


@pytest.fixture
def client(tmp_path: Path, redis_url: str, redis_client: redis.Redis) -> Iterator[TestClient]:
    with settlement_app(tmp_path, redis_url) as client:
        yield client


def runtime(client: TestClient) -> ServiceRuntime:
    return client.app.state.runtime  # type: ignore[attr-defined]


def engine(client: TestClient) -> Engine:
    return runtime(client).store.engine


def consume(client: TestClient, envelope: EventEnvelope, stream: str) -> bool:
    consumer = runtime(client).consumer
    assert consumer is not None
    return consumer.apply(envelope, stream)


def consume_journey(client: TestClient, journey: Journey) -> None:
    for envelope, stream in journey.events():
        assert consume(client, envelope, stream)


def ledger_rows(database: Engine) -> tuple[list[Any], list[Any]]:
    with database.connect() as connection:
        postings = connection.execute(select(postings_table).order_by(postings_table.c.key)).all()
        lines = connection.execute(
            select(journal_lines_table).order_by(journal_lines_table.c.posting_id, journal_lines_table.c.side)
        ).all()
    return [tuple(row) for row in postings], [tuple(row) for row in lines]


def balances(client: TestClient) -> dict[str, int]:
    ledger = client.get("/ledger").json()
    return {account["account"]: account["balance_fen"] for account in ledger["accounts"]}


# -- posting from consumed events -------------------------------------------------------------------
def test_one_persons_journey_pays_the_street_the_district_assessor_and_the_service_institution(client):
    journey = Journey()
    consume_journey(client, journey)

    assert client.app.state.ledger.kept_persons() == [str(journey.person)]  # committed: the book stays
    assert client.app.state.ledger.loaded == 1  # built once, for the person's first fact
    ledger = client.get("/ledger").json()
    assert ledger["posting_count"] == 4
    assert ledger["balanced"] is True
    assert ledger["total_debit_fen"] == ledger["total_credit_fen"] == 3000 + 3000 + 3000 + 20000
    assert balances(client) == {
        FUND: 29000,
        "street:鸳鸯": -6000,
        f"assessment_institution:{DISTRICT_ASSESSOR}": -3000,
        f"service_institution:{REHAB_CENTRE}": -20000,
    }


def test_a_journey_with_a_fixed_amount_pays_the_amount_after_insurance_to_the_service_institution(client):
    journey = Journey(
        item_code="low_vision_training",
        institution=EYE_HOSPITAL,
        mode="fixed_amount",
        amount_fen=100000,
        charge_fen=150000,
        insurance_paid_fen=30000,
    )
    consume_journey(client, journey)
    assert balances(client)[f"service_institution:{EYE_HOSPITAL}"] == -100000
    assert balances(client)[FUND] == 9000 + 100000


def test_every_consumed_event_is_archived_including_those_that_post_nothing(client):
    consume_journey(client, Journey())
    assert client.get("/health").json()["events"]["received"] == 5


def test_the_same_event_delivered_twice_posts_once(client):
    journey = Journey()
    consume_journey(client, journey)
    before = ledger_rows(engine(client))
    for envelope, stream in journey.events():
        assert consume(client, envelope, stream) is False
    assert ledger_rows(engine(client)) == before
    assert client.get("/ledger").json()["posting_count"] == 4


def test_the_unique_key_stops_a_posting_written_twice_even_past_the_inbox(client):
    consume_journey(client, Journey())
    _total, postings = find_postings(engine(client), rule="survey_fee")
    with runtime(client).store.transaction() as unit:
        assert write_postings(unit.session, postings) == 0
    assert client.get("/ledger").json()["posting_count"] == 4


def test_a_service_consumed_before_its_approval_waits_and_is_paid_when_the_approval_arrives(client):
    journey = Journey()
    assert consume(client, journey.delivered, DELIVERY_STREAM)
    [waiting] = client.get("/ledger/unsettled").json()
    assert waiting["subject"] == str(journey.delivery)
    assert (waiting["code"], waiting["person_id"]) == ("awaiting_approval", str(journey.person))
    assert "等待其补助申请的审批结果" in waiting["reason"]
    assert client.get("/ledger").json()["posting_count"] == 0

    assert consume(client, journey.approved, APPROVAL_STREAM)
    assert client.get("/ledger/unsettled").json() == []
    assert balances(client)[f"service_institution:{REHAB_CENTRE}"] == -20000


def test_a_service_under_a_rejected_application_is_never_paid(client):
    journey = Journey()
    assert consume(client, journey.delivered, DELIVERY_STREAM)
    assert consume(client, journey.rejected(), APPROVAL_STREAM)
    assert client.get("/ledger").json()["posting_count"] == 0
    [refused] = client.get("/ledger/unsettled").json()
    assert refused["code"] == "application_refused"
    assert refused["reason"].endswith("所依据的补助申请未获批准（区残联办审批不同意）")


def test_every_posting_has_one_debit_and_one_credit_line_of_equal_amount_and_the_ledger_balances(client):
    for journey in (
        Journey(),
        Journey(street="人和"),
        Journey(item_code="low_vision_training", institution=EYE_HOSPITAL, mode="free"),
    ):
        consume_journey(client, journey)
    with engine(client).connect() as connection:
        per_posting = connection.execute(
            text(
                "select posting_id, sum(case side when 'debit' then amount_fen else 0 end),"
                " sum(case side when 'credit' then amount_fen else 0 end), count(*)"
                " from journal_lines group by posting_id"
            )
        ).all()
        posting_count = connection.scalar(select(func.count()).select_from(postings_table))
    assert len(per_posting) == posting_count == 12
    assert all(debit == credit and lines == 2 for _id, debit, credit, lines in per_posting)
    report = ledger_report(engine(client))
    assert report.balanced
    debits = sum(debit for _id, debit, _credit, _lines in per_posting)
    assert report.total_debit_fen == report.total_credit_fen == debits


# -- warm-up and recovery ---------------------------------------------------------------------------
def test_the_live_book_is_warmed_from_the_archive_at_start_up(tmp_path, redis_url, redis_client):
    journey = Journey()
    with settlement_app(tmp_path, redis_url) as first:
        consume(first, *journey.events()[1])  # the survey
        assert first.get("/ledger").json()["posting_count"] == 1
    with settlement_app(tmp_path, redis_url) as second:
        assert second.get("/ledger").json()["posting_count"] == 1  # warming writes nothing
        consume(second, *journey.events()[2])  # the assessment completes the management fee
        rules = [posting["rule"] for posting in second.get("/ledger/postings").json()["items"]]
    assert sorted(rules) == ["assessment_fee", "management_fee", "survey_fee"]


def test_a_ledger_stored_before_the_journal_view_is_replayed_at_start_up(tmp_path, redis_url, redis_client):
    journey = Journey()
    with settlement_app(tmp_path, redis_url) as first:
        consume_journey(first, journey)
        rows_before = ledger_rows(engine(first))
        # The layout before ADR 0009: the lines stored in their own table, one stale line too many.
        with engine(first).begin() as connection:
            connection.exec_driver_sql("DROP VIEW journal_lines")
            connection.exec_driver_sql(
                "CREATE TABLE journal_lines (posting_id VARCHAR(36), side VARCHAR(6), account VARCHAR(200),"
                " amount_fen BIGINT, PRIMARY KEY (posting_id, side))"
            )
            connection.exec_driver_sql("INSERT INTO journal_lines VALUES ('stale', 'debit', 'fund:x', 1)")
    with settlement_app(tmp_path, redis_url) as second:
        with engine(second).connect() as connection:
            views = connection.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'view'").scalars()
            assert list(views) == ["journal_lines"]
        assert ledger_rows(engine(second)) == rows_before
        assert second.get("/ledger").json()["posting_count"] == len(rows_before[0]) > 0


def test_a_rolled_back_event_drops_the_persons_book_and_the_redelivered_event_is_paid_once(client):
    journey = Journey()
    ledger = client.app.state.ledger
    survey, survey_stream = journey.events()[1]
    with pytest.raises(RuntimeError), runtime(client).store.transaction() as unit:
        unit.record_received(survey, survey_stream)
        fact = fact_of(survey)
        assert fact is not None
        ledger.record(unit, fact)
        raise RuntimeError("the commit fails")
    assert ledger.kept_persons() == []  # the book had been fed what the database never got
    assert client.get("/ledger").json()["posting_count"] == 0

    assert consume(client, survey, survey_stream)  # redelivered: the inbox never saw it
    assert not consume(client, survey, survey_stream)  # and again: a duplicate, applied once
    assert client.get("/ledger").json()["posting_count"] == 1


# -- replay -----------------------------------------------------------------------------------------
def test_the_ledger_rebuilt_by_replay_equals_the_ledger_built_event_by_event(client):
    fixed = Journey(
        street="礼嘉",
        item_code="low_vision_training",
        institution=EYE_HOSPITAL,
        mode="fixed_amount",
        amount_fen=60000,
    )
    for journey in (Journey(), fixed):
        consume_journey(client, journey)
    live_rows = ledger_rows(engine(client))
    live_report = client.get("/ledger").json()
    live_text = render(ledger_report(engine(client)))

    rebuilt = client.post("/ledger/rebuild")
    assert rebuilt.status_code == 200
    assert rebuilt.json() == live_report
    assert ledger_rows(engine(client)) == live_rows
    assert render(ledger_report(engine(client))) == live_text

    client.post("/ledger/rebuild")
    assert render(ledger_report(engine(client))).encode() == live_text.encode()


def test_a_rebuild_recreates_dropped_ledger_tables_from_the_archive_alone(client):
    consume_journey(client, Journey())
    live_rows = ledger_rows(engine(client))
    metadata.drop_all(engine(client))
    report = rebuild_ledger(engine(client))
    assert report.posting_count == 4 and report.balanced
    assert ledger_rows(engine(client)) == live_rows


@pytest.mark.parametrize("failing", ["book", "drop"])
def test_a_rebuild_that_fails_midway_leaves_the_ledger_and_the_live_book_as_they_were(
    client, monkeypatch, failing
):
    consume_journey(client, Journey())
    live_rows = ledger_rows(engine(client))

    def fail(*_args: object) -> None:
        raise RuntimeError(f"the {failing} fails")

    # The book settles while another thread drops the old ledger: either failing must roll back both.
    monkeypatch.setattr(
        replay, "insert_postings" if failing == "book" else "_drop_stored_journal_lines", fail
    )
    with pytest.raises(RuntimeError, match=f"the {failing} fails"):
        rebuild_ledger(engine(client), live=client.app.state.ledger)
    assert ledger_rows(engine(client)) == live_rows
    monkeypatch.undo()
    journey = Journey(street="人和")
    consume_journey(client, journey)  # the books settle on, as if no rebuild had been tried
    assert client.get("/ledger").json()["posting_count"] == 8


def test_the_live_book_keeps_settling_after_a_rebuild(client):
    journey = Journey()
    for envelope, stream in journey.events()[:-1]:
        consume(client, envelope, stream)
    client.post("/ledger/rebuild")
    consume(client, journey.delivered, DELIVERY_STREAM)
    assert balances(client)[f"service_institution:{REHAB_CENTRE}"] == -20000
    assert client.get("/ledger").json()["posting_count"] == 4


# -- queries ----------------------------------------------------------------------------------------
def test_a_page_offset_beyond_any_ledger_is_refused_naming_it(client):
    assert field_error_of(client.get("/ledger/postings", params={"offset": 10**20}))["field"] == "offset"


def test_postings_can_be_filtered_by_account_and_rule_and_paged(client):
    consume_journey(client, Journey())
    consume_journey(client, Journey(street="人和"))
    street = client.get("/ledger/postings", params={"account": "street:人和"}).json()
    assert street["total"] == 2
    assert {posting["rule"] for posting in street["items"]} == {"survey_fee", "management_fee"}
    surveys = client.get("/ledger/postings", params={"rule": "survey_fee"}).json()
    assert surveys["total"] == 2
    assert all(posting["amount_yuan"] == "30.00" for posting in surveys["items"])
    page = client.get("/ledger/postings", params={"account": FUND, "limit": 3, "offset": 6}).json()
    assert (page["total"], len(page["items"])) == (8, 2)


def test_a_posting_shows_its_journal_lines_and_the_archived_events_it_rests_on(client):
    journey = Journey()
    consume_journey(client, journey)
    [management] = client.get("/ledger/postings", params={"rule": "management_fee"}).json()["items"]
    detail = client.get(f"/ledger/postings/{management['posting_id']}").json()
    assert detail["key"] == f"management_fee:{journey.person}:2024"
    assert detail["business_date"] == "2024-10-22"
    assert detail["journal_lines"] == [
        {"side": "debit", "account": FUND, "amount_fen": 3000},
        {"side": "credit", "account": "street:鸳鸯", "amount_fen": 3000},
    ]
    assert [event["event_type"] for event in detail["source_events"]] == [
        "survey.need_surveyed",
        "assessment.assessment_completed",
    ]
    assert detail["source_events"][0]["event_id"] == str(journey.surveyed.event_id)
    assert detail["inputs"]["fee_fen"] == 3000


def test_an_unknown_posting_is_404_and_a_bad_page_is_422(client):
    missing = client.get("/ledger/postings/00000000-0000-0000-0000-000000000000")
    error = field_error_of(missing, 404)
    assert (error["field"], error["code"]) == ("posting_id", "settlement.posting.not_found")
    assert client.get("/ledger/postings", params={"limit": 0}).status_code == 422


def test_coverage_counts_persons_with_needs_served_per_street(client):
    consume_journey(client, Journey())
    served_not = Journey(street="人和")
    for envelope, stream in served_not.events()[:-1]:
        consume(client, envelope, stream)
    report = client.get("/reports/coverage", params={"year": 2024}).json()
    assert report["overall"] == {
        "street": None,
        "surveyed": 2,
        "with_needs": 2,
        "served": 1,
        "coverage_percent": "50.00",
        "target_percent": "100",
        "target_met": False,
    }
    assert (report["policy_id"], report["policy_version"]) == ("liangjiang-2024", 2)
    rows = [(row["street"], row["coverage_percent"], row["target_met"]) for row in report["streets"]]
    assert rows[:3] == [("鸳鸯", "100.00", True), ("人和", "0.00", False), ("天宫殿", None, None)]
    streets = ["鸳鸯", "人和", "天宫殿", "翠云", "大竹林", "礼嘉", "金山", "康美"]
    assert [row["street"] for row in report["streets"]] == streets
    assert client.get("/reports/coverage").status_code == 422


# -- over real Redis --------------------------------------------------------------------------------
def test_events_published_on_the_four_streams_are_settled_by_the_running_service(client, redis_client):
    journey = Journey()
    for envelope, stream in reversed(journey.events()):  # the delivery first: arrival order is free
        redis_client.xadd(stream, envelope.to_wire())
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and client.get("/ledger").json()["posting_count"] < 4:
        time.sleep(0.1)
    ledger = client.get("/ledger").json()
    assert ledger["posting_count"] == 4
    assert ledger["balanced"] is True
    assert ledger["total_debit_fen"] == 29000


def test_rebuilds_while_the_four_subscribers_consume_leave_the_same_ledger_as_a_quiet_rebuild(client):
    journeys = [Journey(street=street) for street in ("鸳鸯", "人和", "天宫殿", "翠云", "金山", "康美")]
    by_stream: dict[str, list[EventEnvelope]] = {}
    for journey in journeys:
        for envelope, stream in journey.events():
            by_stream.setdefault(stream, []).append(envelope)

    def subscriber(stream: str) -> None:
        for envelope in by_stream[stream]:
            consume(client, envelope, stream)

    threads = [threading.Thread(target=subscriber, args=(stream,)) for stream in by_stream]
    for thread in threads:
        thread.start()
    for _ in range(3):
        assert client.post("/ledger/rebuild").status_code == 200
    for thread in threads:
        thread.join(timeout=30)

    live_rows = ledger_rows(engine(client))
    assert len(live_rows[0]) == 4 * len(journeys)
    client.post("/ledger/rebuild")
    assert ledger_rows(engine(client)) == live_rows
