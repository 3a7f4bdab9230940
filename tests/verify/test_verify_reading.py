"""What `rehab verify` reads: who subscribes to what, a service's SQLite store, and Redis."""

from __future__ import annotations

import importlib
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import redis
from fastapi import FastAPI
from rehab_contracts import STREAM_OF_PRODUCER, NeedSurveyed
from rehab_contracts.examples import example_payload

import rehab.verify
from kernel.domain.clock import business_time
from kernel.messaging.consumer import EventConsumer
from kernel.messaging.dead_letters import dead_letter_stream, new_dead_letter
from kernel.runtime import ServiceSettings
from kernel.store.store import EventStore, NewEvent, create_store_engine
from rehab.verify import (
    SUBSCRIBES_TO,
    StoreData,
    StoreMissing,
    load_redis,
    load_store,
    store_urls,
    verify_deployment,
)
from rehab.verify_report import details
from tests.streams import add, read_group


@pytest.mark.parametrize("service", ["survey", "assessment", "approval", "delivery", "settlement"])
def test_the_subscription_table_is_what_each_service_app_subscribes_to(
    service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = importlib.import_module(f"services.{service}.app")
    captured: dict[str, Any] = {}

    def capture(settings: ServiceSettings, **options: Any) -> FastAPI:
        captured.update(options)
        return FastAPI()

    monkeypatch.setattr(module, "create_service_app", capture)
    module.create_app(ServiceSettings(service=service))

    streams = {subscription.stream for subscription in captured["subscriptions"]}
    assert streams == {STREAM_OF_PRODUCER[producer] for producer in SUBSCRIBES_TO.get(service, ())}


def test_store_urls_default_to_sqlite_files_in_the_var_dir() -> None:
    urls = store_urls(Path("/srv/rehab"), {"settlement": "postgresql://db/settlement"})

    assert urls["survey"] == "sqlite:////srv/rehab/survey.db"
    assert urls["settlement"] == "postgresql://db/settlement"


def test_a_missing_sqlite_file_is_reported_rather_than_created(tmp_path: Path) -> None:
    with pytest.raises(StoreMissing, match="no store for survey"):
        load_store("survey", f"sqlite:///{tmp_path / 'survey.db'}")
    assert not (tmp_path / "survey.db").exists()


def surveyed() -> NewEvent:
    return NewEvent(example_payload(NeedSurveyed), occurred_at=business_time(date(2025, 3, 1)))


def test_a_store_is_read_with_its_events_outbox_inbox_and_parked_events(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'assessment.db'}"
    store = EventStore(create_store_engine(url), producer="assessment")
    store.create_schema()
    EventConsumer(store, "assessment", [])  # creates the parked table
    with store.transaction() as unit:
        recorded = unit.append("person-1", 0, [surveyed(), surveyed()])
        unit.record_received(recorded[0], "rehab.survey.events")
    store.mark_published([(1, "1700000000000-0")])
    store.engine.dispose()

    data = load_store("assessment", url)

    assert [(e.stream_id, e.version) for e in data.events] == [("person-1", 1), ("person-1", 2)]
    assert [(row.published, row.stream_entry_id) for row in data.outbox] == [
        (True, "1700000000000-0"),
        (False, None),
    ]
    assert [(row.source_stream, row.version) for row in data.inbox] == [("rehab.survey.events", 1)]
    assert data.inbox[0].fingerprint == data.events[0].fingerprint
    assert (data.parked, data.postings) == (0, None)


def test_redis_is_read_with_entries_pending_counts_missing_groups_and_dead_letters(
    redis_client: redis.Redis, redis_url: str
) -> None:
    survey = "rehab.survey.events"
    first = add(redis_client, survey, {"event_id": "e1"})
    add(redis_client, survey, {"event_id": "e2"})
    redis_client.xgroup_create(survey, "settlement", id="0")
    redis_client.xreadgroup("settlement", "c1", {survey: ">"}, count=1)
    letter = new_dead_letter(
        source_stream=survey,
        source_entry_id=first,
        consumer_group="assessment",
        reason="unknown event type",
        delivery_count=1,
        fields={"event_id": "e1"},
    )
    add(redis_client, dead_letter_stream("assessment"), letter.to_entry())

    with redis.Redis.from_url(redis_url, decode_responses=True) as client:
        streams, letters = load_redis(client)

    assert sorted(streams[survey].entries.values()) == ["e1", "e2"]
    assert streams[survey].first_entry_id == first
    assert streams[survey].pending == {"assessment": None, "settlement": 1}
    assert streams["rehab.delivery.events"].exists is False
    assert [(row.event_id, row.source_stream, row.reason) for row in letters["assessment"]] == [
        ("e1", survey, "unknown event type")
    ]


def test_the_delivery_floor_is_the_first_entry_a_subscribing_group_was_not_delivered_or_holds_pending(
    redis_client: redis.Redis, redis_url: str
) -> None:
    approval = "rehab.approval.events"  # consumed by delivery, settlement and survey
    ids = [add(redis_client, approval, {"event_id": f"e{n}"}) for n in range(4)]
    for group, read, acked in (("delivery", 3, 1), ("settlement", 4, 4), ("survey", 4, 4)):
        redis_client.xgroup_create(approval, group, id="0")
        delivered = read_group(redis_client, approval, group, "c1", count=read)
        redis_client.xack(approval, group, *[entry_id for entry_id, _ in delivered[:acked]])

    with redis.Redis.from_url(redis_url, decode_responses=True) as client:
        streams, _letters = load_redis(client)

    assert streams[approval].delivered_floor == ids[1]  # delivery holds e1 and e2 pending
    assert streams["rehab.survey.events"].delivered_floor is None  # no stream


def test_an_entry_that_is_not_utf8_is_a_violation_of_i3_not_a_crash_of_the_reading(
    redis_client: redis.Redis, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    survey = "rehab.survey.events"
    good = add(redis_client, survey, {"event_id": "e1"})
    bad = add(redis_client, survey, {b"event_id": b"e2", b"payload": b"\xff\xfe"})
    monkeypatch.setattr(rehab.verify, "load_store", lambda service, url: StoreData(service))

    results = {result.code: result for result in verify_deployment({"survey": "unused"}, redis_url)}

    said = f"{survey}：条目 {bad} 含有不是 UTF-8 文本的字段（not UTF-8），没有消费者能解码它，它会进入死信"
    assert said in results["I3"].violations
    assert results["I3"].counts["entries not UTF-8"] == 1
    assert re.search(r"不是 UTF-8 文本的条目（entries not UTF-8） +1\n", details(list(results.values())))
    assert not any(good in violation for violation in results["I3"].violations if "UTF-8" in violation)
