"""The bad-input suite, events: what reaches a real service over a real Redis stream and must never be
applied — unknown types and versions, undecodable entries, events recorded in the future, forged and
unsigned events — is dead-lettered with its reason, and nothing already accepted changes."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient
from rehab_contracts import SURVEY_STREAM, EventEnvelope

from kernel.messaging.dead_letters import dead_letter_stream
from kernel.messaging.signing import KeyRing
from kernel.runtime import ServiceSettings
from rehab.keys import ensure_keys
from rehab.processes import SERVICES
from services.assessment.app import create_app
from tests.assessment.test_assessment_api import need_surveyed
from tests.streams import add, entries

DEAD = dead_letter_stream("assessment")


@pytest.fixture
def keys(tmp_path: Path) -> Path:
    directory = tmp_path / "keys"
    ensure_keys(directory, SERVICES)
    return directory


@pytest.fixture
def assessment(tmp_path: Path, redis_url: str, redis_client: redis.Redis, keys: Path) -> Iterator[TestClient]:
    """The assessment service consuming survey's stream, verifying signatures, with one accepted event."""
    settings = ServiceSettings(
        service="assessment",
        database_url=f"sqlite:///{tmp_path}/assessment.db",
        redis_url=redis_url,
        keys_dir=keys,
    )
    with TestClient(create_app(settings)) as client:
        publish(redis_client, signed(keys, need_surveyed()))
        wait_for(lambda: accepted(client)["received"] == 1)
        yield client


def signed(keys: Path, envelope: EventEnvelope, agency: str = "survey") -> dict[str, str]:
    return KeyRing.from_directory(keys, agency).sign(envelope).to_wire()


def publish(redis_client: redis.Redis, *published: dict[str, str]) -> None:
    for fields in published:
        add(redis_client, SURVEY_STREAM, fields)


def wait_for(condition: Callable[[], bool], seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def accepted(client: TestClient) -> dict[str, Any]:
    """What the service has accepted: events received, its worklist, its own events."""
    health = client.get("/health").json()
    worklist = client.get("/worklist", params={"year": 2024, "status": "all"}).json()
    return {
        "received": health["events"]["received"],
        "stored": health["events"]["stored"],
        "worklist": worklist,
    }


def dead_letters(redis_client: redis.Redis, count: int) -> list[str]:
    """The technical reasons (detail) of the first `count` dead letters, once there are that many."""
    wait_for(lambda: redis_client.xlen(DEAD) >= count)
    return [fields["detail"] for _id, fields in entries(redis_client, DEAD)]


def rewired(envelope: EventEnvelope, **fields: str) -> dict[str, str]:
    return {**envelope.to_wire(), **fields}


def resigned(keys: Path, fields: dict[str, str]) -> dict[str, str]:
    """The entry signed by survey as it stands (its producer's mistake, not a forgery)."""
    return signed(keys, EventEnvelope.from_wire(fields))


def test_unknown_event_types_and_schema_versions_are_dead_lettered_and_change_nothing(
    assessment: TestClient, redis_client: redis.Redis, keys: Path
) -> None:
    before = accepted(assessment)
    unknown_type = rewired(need_surveyed(), event_type="survey.person_teleported")
    future_version = rewired(need_surveyed(), schema_version="99")
    # Signed by survey: an unsigned one is dead-lettered as unsigned (a forgery), whatever else is wrong.
    publish(redis_client, *(resigned(keys, fields) for fields in (unknown_type, future_version)))
    reasons = dead_letters(redis_client, 2)
    assert "survey.person_teleported" in reasons[0]
    assert "99" in reasons[1]
    assert accepted(assessment) == before


def test_undecodable_entries_and_wrong_types_are_dead_lettered_with_the_reason(
    assessment: TestClient, redis_client: redis.Redis, keys: Path
) -> None:
    before = accepted(assessment)
    publish(
        redis_client,
        rewired(need_surveyed(), payload="{not json"),
        rewired(need_surveyed(), version="two"),
        {"event_id": "x'; DROP TABLE inbox; --"},
        resigned(
            keys,
            rewired(need_surveyed(), payload=json.dumps({**need_surveyed().payload, "survey_year": "今年"})),
        ),
    )
    reasons = dead_letters(redis_client, 4)
    assert all(reason.split(":")[0] in {"ValueError", "ValidationError"} for reason in reasons), reasons
    assert "survey_year" in reasons[3]
    assert accepted(assessment) == before


def test_an_event_recorded_in_the_future_beyond_clock_skew_is_dead_lettered(
    assessment: TestClient, redis_client: redis.Redis, keys: Path
) -> None:
    before = accepted(assessment)
    later = datetime.now(UTC) + timedelta(hours=1)
    publish(redis_client, signed(keys, need_surveyed().model_copy(update={"recorded_at": later})))
    [reason] = dead_letters(redis_client, 1)
    assert reason.startswith("RecordedInTheFuture: recorded_at")
    assert "ahead of this service's clock" in reason
    assert accepted(assessment) == before


def test_an_event_within_clock_skew_or_recorded_long_ago_is_applied(
    assessment: TestClient, redis_client: redis.Redis, keys: Path
) -> None:
    slightly_ahead = need_surveyed().model_copy(
        update={"recorded_at": datetime.now(UTC) + timedelta(minutes=1)}
    )
    years_ago = need_surveyed().model_copy(update={"recorded_at": datetime(2024, 10, 15, tzinfo=UTC)})
    publish(redis_client, signed(keys, slightly_ahead), signed(keys, years_ago))
    wait_for(lambda: accepted(assessment)["received"] == 3)
    assert redis_client.xlen(DEAD) == 0


def test_a_replayed_event_already_applied_is_acknowledged_without_effect(
    assessment: TestClient, redis_client: redis.Redis, keys: Path
) -> None:
    first = need_surveyed()
    publish(redis_client, signed(keys, first))
    wait_for(lambda: accepted(assessment)["received"] == 2)
    before = accepted(assessment)
    publish(redis_client, signed(keys, first), signed(keys, first))
    marker = need_surveyed()  # published last: once it is applied, the replays were handled
    publish(redis_client, signed(keys, marker))
    wait_for(lambda: accepted(assessment)["received"] == 3)
    assert redis_client.xlen(DEAD) == 0
    after = accepted(assessment)
    assert after["worklist"]["total"] == before["worklist"]["total"] + 1


def test_forged_and_unsigned_events_are_dead_lettered_naming_the_signature_problem(
    assessment: TestClient, redis_client: redis.Redis, keys: Path
) -> None:
    before = accepted(assessment)
    genuine = signed(keys, need_surveyed())
    tampered = {**genuine, "payload": genuine["payload"].replace("张丽", "冒名者")}
    publish(
        redis_client,
        need_surveyed().to_wire(),  # unsigned
        tampered,
        signed(keys, need_surveyed(), agency="approval"),  # another agency's key
    )
    reasons = dead_letters(redis_client, 3)
    assert all(reason.startswith("SignatureRejected:") for reason in reasons), reasons
    assert "unsigned" in reasons[0] and "changed after" in reasons[1] and "'approval'" in reasons[2]
    assert accepted(assessment) == before
