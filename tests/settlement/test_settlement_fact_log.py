"""The fact log is a faithful, compact copy of the archive's settlement facts; the archive stays the truth."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import get_args

import pytest
import redis
from fastapi.testclient import TestClient
from rehab_contracts.events import ApplicationSubmitted, NeedSurveyed, ServiceDelivered
from rehab_contracts.streams import APPROVAL_STREAM, DELIVERY_STREAM, SURVEY_STREAM
from sqlalchemy import Engine, delete, select

from kernel.runtime import ServiceSettings
from rehab.cli import main
from services.settlement.app import create_app
from services.settlement.book.facts import ApplicationDescribed, Fact, PersonSurveyed, ServiceRecorded
from services.settlement.book.policy import load_policies
from services.settlement.fact_types import BY_FACT, BY_NAME, FACT_TYPES, SETTLEMENT_EVENT_TYPES
from services.settlement.handlers import SettlementHandlers
from services.settlement.ledger import fact_log, unsettled
from services.settlement.ledger.archive import archive, facts_of
from services.settlement.ledger.live import LiveLedger
from services.settlement.ledger.replay import rebuild_ledger
from services.settlement.ledger.report import ledger_report, render
from services.settlement.ledger.tables import facts_table, postings_table
from tests.settlement.settlement_builders import (
    EYE_HOSPITAL,
    Journey,
    approved,
    assessed,
    envelope_of,
    item,
    payload_of,
    recorded,
    refused,
    surveyed,
)
from tests.settlement.test_leader_election import role


@pytest.mark.parametrize(
    "fact",
    [
        surveyed("p1", event_id="s1"),
        assessed("p1", event_id="as1"),
        approved(item("low_vision_training", EYE_HOSPITAL, "fixed_amount", 50000), item(), event_id="ap1"),
        refused("a2", event_id="r1"),
        recorded("d1", event_id="d1"),
        replace(recorded("d2", event_id="d2"), period_start=date(2024, 12, 1), period_end=date(2024, 12, 20)),
        ApplicationDescribed("sub1", "a1", "p1", "hearing,speech", "subsistence_allowance", False),
    ],
    ids=["surveyed", "assessed", "approved", "refused", "recorded", "recorded with its period", "described"],
)
def test_every_kind_of_fact_comes_back_from_its_log_text_unchanged(fact):
    assert fact_log.decode(fact_log.encode(fact)) == fact


LOGGED_FIELDS = {
    "surveyed": (
        "event_id",
        "person",
        "year",
        "street",
        "has_needs",
        "surveyed_on",
        "supersedes",
        "recorded_on",
        "birth_month",
        "categories",
        "economic_status",
        "certified",
        "subtypes",
        "hardship",
        "residence_permit",
    ),
    "assessed": ("event_id", "person", "year", "institution", "level", "assessed_on"),
    "approved": ("event_id", "application", "person", "year", "items", "approved_on", "recorded_on", "area"),
    "refused": ("event_id", "application", "person", "refused_on"),
    "recorded": (
        "event_id",
        "delivery",
        "application",
        "person",
        "item",
        "institution",
        "year",
        "charge_fen",
        "insurance_paid_fen",
        "signed",
        "signed_on",
        "recorded_on",
        "period_start",
        "period_end",
    ),
    "changed": (
        "event_id",
        "application",
        "item",
        "from_institution",
        "to_institution",
        "approved_on",
        "recorded_on",
    ),
    "described": ("event_id", "application", "person", "categories", "economic_status", "certified", "ticks"),
}
"""The columns of each fact type's rows, as logged by every release: a new field goes last, with a default."""


def test_each_fact_type_logs_its_fields_in_the_order_rows_were_always_written():
    assert {name: fact_type.codec.fields for name, fact_type in BY_NAME.items()} == LOGGED_FIELDS


def test_every_fact_the_book_takes_has_one_registry_entry_with_its_own_name_and_event_type():
    assert set(BY_FACT) == set(get_args(Fact))
    assert len({fact_type.name for fact_type in FACT_TYPES}) == len(FACT_TYPES)
    assert len({fact_type.event_type for fact_type in FACT_TYPES}) == len(FACT_TYPES)


def test_settlement_subscribes_to_each_registered_event_on_its_stream_with_an_on_event_handler():
    subscriptions = SettlementHandlers(LiveLedger(load_policies())).subscriptions()
    routed = {
        (subscription.stream, event_type, handler.__name__)
        for subscription in subscriptions
        for event_type, handler in subscription.handlers.items()
    }
    assert (SURVEY_STREAM, NeedSurveyed.event_type, "on_need_surveyed") in routed
    assert {(stream, event_type) for stream, event_type, _name in routed} == {
        (fact_type.stream, fact_type.event_type) for fact_type in FACT_TYPES
    }


def test_rows_logged_before_a_field_existed_decode_with_its_default():
    before_recorded_on = '["surveyed", "s1", "p1", 2024, "鸳鸯", true, "2024-10-15", null]'
    assert fact_log.decode(before_recorded_on) == PersonSurveyed(
        "s1", "p1", 2024, "鸳鸯", True, date(2024, 10, 15), supersedes=None, recorded_on=None
    )
    fact = approved(item("low_vision_training", EYE_HOSPITAL, "fixed_amount", 50000), event_id="ap1")
    before_area = json.loads(fact_log.encode(replace(fact, area="鸳鸯")))[:-1]
    assert fact_log.decode(json.dumps(before_area, ensure_ascii=False)) == replace(fact, area=None)


@pytest.fixture
def client(tmp_path: Path, redis_url: str, redis_client: redis.Redis) -> Iterator[TestClient]:
    settings = ServiceSettings(
        service="settlement", database_url=f"sqlite:///{tmp_path}/settlement.db", redis_url=redis_url
    )
    with TestClient(create_app(settings)) as client:
        yield client


def engine(client: TestClient) -> Engine:
    return client.app.state.runtime.store.engine  # type: ignore[attr-defined]


def consume_with_corrections(client: TestClient) -> None:
    consumer = client.app.state.runtime.consumer  # type: ignore[attr-defined]
    journeys = [
        Journey(),
        Journey(street="人和"),
        Journey(
            item_code="low_vision_training",
            institution=EYE_HOSPITAL,
            mode="fixed_amount",
            amount_fen=50000,
            charge_fen=40000,
        ),
    ]
    for journey in journeys:
        for envelope, stream in journey.events():
            consumer.apply(envelope, stream)
    first = journeys[0]
    survey = payload_of(
        NeedSurveyed,
        person_id=first.person,
        street="礼嘉",
        needed_items=["support_service_mental"],
        supersedes_event_id=first.surveyed.event_id,
    )
    consumer.apply(envelope_of(survey, date(2024, 10, 15), f"person-{first.person}", 3), SURVEY_STREAM)
    third = journeys[2]
    delivery = payload_of(
        ServiceDelivered,
        delivery_id=third.delivery,
        application_id=third.application,
        person_id=third.person,
        institution_id=EYE_HOSPITAL,
        item="low_vision_training",
        charge_fen=45000,
    )
    corrected = envelope_of(delivery, date(2024, 12, 20), f"delivery-{third.delivery}", 2)
    consumer.apply(corrected, DELIVERY_STREAM)


def logged_texts(database: Engine) -> list[str]:
    with database.connect() as connection:
        return list(connection.scalars(select(facts_table.c.fact).order_by(facts_table.c.position)))


def test_the_log_the_live_ledger_wrote_equals_the_log_derived_from_the_archive_alone(client):
    consume_with_corrections(client)
    live = logged_texts(engine(client))
    derived = [fact_log.encode(fact) for fact in facts_of(archive(engine(client), SETTLEMENT_EVENT_TYPES))]
    assert len(live) == 14  # 3 x (survey, assessment, approval, delivery) + 2 corrections
    assert live == derived
    rules = [row["rule"] for row in client.get("/ledger/postings").json()["items"]]
    # Survey and management fees move from 鸳鸯 to 礼嘉 (a claw-back and a top-up each); 50 more yuan
    # of the low-vision record's charge is subsidised.
    assert sorted(rule for rule in rules if rule.endswith("_adjustment")) == [
        "management_fee_adjustment",
        "management_fee_adjustment",
        "service_subsidy_adjustment",
        "survey_fee_adjustment",
        "survey_fee_adjustment",
    ]


def test_a_rebuild_from_the_log_and_one_from_the_archive_alone_equal_the_live_ledger(client, capsys):
    consume_with_corrections(client)
    live = render(ledger_report(engine(client)))
    with engine(client).connect() as connection:
        rows = connection.execute(select(postings_table).order_by(postings_table.c.key)).all()
    assert render(rebuild_ledger(engine(client))) == live
    with engine(client).begin() as connection:
        connection.execute(delete(facts_table).where(facts_table.c.position > 5))  # a damaged log
    assert main(["replay", "--from-archive", "--database-url", str(engine(client).url)]) == 0
    assert capsys.readouterr().out == live
    with engine(client).connect() as connection:
        assert connection.execute(select(postings_table).order_by(postings_table.c.key)).all() == rows
    assert len(logged_texts(engine(client))) == 14


def test_an_archive_without_a_log_is_logged_when_the_service_starts(tmp_path, redis_url, redis_client):
    settings = ServiceSettings(
        service="settlement", database_url=f"sqlite:///{tmp_path}/settlement.db", redis_url=redis_url
    )
    with TestClient(create_app(settings)) as client:
        consume_with_corrections(client)
        live = render(ledger_report(engine(client)))
        with engine(client).begin() as connection:
            connection.execute(delete(facts_table))  # as written before the log existed
    with TestClient(create_app(settings)) as client:
        assert len(logged_texts(engine(client))) == 14
        assert render(rebuild_ledger(engine(client))) == live


@pytest.fixture
def postgres_client(postgres_url: str, redis_url: str, redis_client: redis.Redis) -> Iterator[TestClient]:
    from kernel.store.store import create_store_engine
    from kernel.store.store import metadata as kernel_metadata
    from services.settlement.ledger.tables import metadata as ledger_metadata
    from tests.backends import forget_migrations

    def clean() -> None:
        engine = create_store_engine(postgres_url)
        ledger_metadata.drop_all(engine)
        kernel_metadata.drop_all(engine)
        forget_migrations(engine)
        engine.dispose()

    clean()
    settings = ServiceSettings(service="settlement", database_url=postgres_url, redis_url=redis_url)
    with TestClient(create_app(settings)) as client:
        # Events are applied by the test directly, not read from Redis: wait until this instance leads and
        # has prepared its ledger (the log checked against the archive), as its consumer would have.
        engine = client.app.state.runtime.store.engine  # type: ignore[attr-defined]
        deadline = time.monotonic() + 30
        while not (role(client) == "leader" and unsettled.is_built(engine)):
            assert time.monotonic() < deadline, "settlement never led"
            time.sleep(0.05)
        yield client
    clean()


def test_on_postgresql_the_log_equals_the_archive_and_both_rebuilds_equal_the_live_ledger(postgres_client):
    client = postgres_client
    consume_with_corrections(client)
    live = render(ledger_report(engine(client)))
    derived = [fact_log.encode(fact) for fact in facts_of(archive(engine(client), SETTLEMENT_EVENT_TYPES))]
    # The same facts. Their order may differ on PostgreSQL: the four streams' subscribers write at once, an
    # inbox row takes its position when its batch begins and a fact when the book is fed, and across streams
    # no order is promised (settlement is order-independent, ADR 0004). On SQLite one writer serializes them.
    assert sorted(logged_texts(engine(client))) == sorted(derived)
    assert render(rebuild_ledger(engine(client), live=client.app.state.ledger)) == live
    assert render(rebuild_ledger(engine(client), source="archive")) == live


def test_on_postgresql_a_nul_character_in_a_filter_is_refused_rather_than_failing_in_the_database(
    postgres_client: TestClient,
) -> None:
    for path, params in (("/ledger/postings", {"rule": "\x00"}), ("/ledger/postings", {"account": "a\x00b"})):
        answer = postgres_client.get(path, params=params)
        assert answer.status_code == 422, answer.text
        assert answer.json()["errors"][0]["code"] == "request.nul_character"
    assert postgres_client.get("/statements/street:a%00b", params={"period": "2024"}).status_code == 422


def test_the_applicants_form_and_the_service_period_are_logged_as_the_archive_derives_them(client):
    consumer = client.app.state.runtime.consumer
    journey = Journey()
    form = payload_of(
        ApplicationSubmitted,
        application_id=journey.application,
        person_id=journey.person,
        disability_categories=["mental"],
        economic_status="subsistence_allowance",
    )
    consumer.apply(envelope_of(form, date(2024, 10, 25), f"form-{journey.application}"), APPROVAL_STREAM)
    for envelope, stream in journey.events():
        consumer.apply(envelope, stream)
    live = logged_texts(engine(client))
    derived = [fact_log.encode(fact) for fact in facts_of(archive(engine(client), SETTLEMENT_EVENT_TYPES))]
    assert live == derived
    facts = [fact_log.decode(text) for text in live]
    [described] = [fact for fact in facts if isinstance(fact, ApplicationDescribed)]
    assert (described.categories, described.economic_status) == ("mental", "subsistence_allowance")
    [recorded_fact] = [fact for fact in facts if isinstance(fact, ServiceRecorded)]
    delivered = journey.delivered.payload
    assert (str(recorded_fact.period_start), str(recorded_fact.period_end)) == (
        delivered["period_start"],
        delivered["period_end"],
    )
