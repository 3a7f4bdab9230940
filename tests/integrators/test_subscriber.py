"""The integrator's guide works as written: its Python subscriber, run against a real Redis, receives a
signed event and refuses a forged one; its redis-cli commands read the same entry."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any
from uuid import uuid4

import redis
from rehab_contracts import ApplicationRejected, EventEnvelope
from rehab_contracts.examples import example_payload

from kernel.messaging.dead_letters import as_text
from kernel.messaging.signing import KeyRing
from rehab.keys import generate

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "integrators.md"
EXAMPLE = Path(__file__).with_name("subscriber.py")
STREAM = "rehab.approval.events"


def signed_rejection(keys: Path) -> EventEnvelope:
    payload = example_payload(ApplicationRejected)
    envelope = EventEnvelope(
        event_id=uuid4(),
        event_type=ApplicationRejected.event_type,
        schema_version=ApplicationRejected.schema_version,
        occurred_at=datetime(2025, 3, 4, 9, 30, tzinfo=UTC),
        recorded_at=datetime.now(UTC),
        producer="approval",
        stream_id=f"application-{uuid4()}",
        version=3,
        correlation_id=uuid4(),
        payload=payload.model_dump(mode="json"),
    )
    return KeyRing.from_directory(keys, "approval").sign(envelope)


def read_line(stream: IO[str], pattern: str, timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = stream.readline()
        if re.search(pattern, line):
            return line
        if not line:
            time.sleep(0.1)
    raise AssertionError(f"no line matching {pattern!r} within {timeout}s")


def test_the_guide_shows_the_tested_subscriber_word_for_word() -> None:
    block = re.search(r"```python\n(.*?)```", GUIDE.read_text(encoding="utf-8"), re.DOTALL)
    assert block is not None, "docs/integrators.md has no python block"
    assert block.group(1) == EXAMPLE.read_text(encoding="utf-8")


def test_the_python_subscriber_receives_a_signed_event_and_refuses_a_forged_one(
    tmp_path: Path, redis_url: str, redis_client: redis.Redis
) -> None:
    keys = tmp_path / "keys"
    generate(keys, "approval")
    genuine = signed_rejection(keys)
    forged = signed_rejection(keys).to_wire()
    forged["stream_id"] = "application-forged"  # changed after signing
    redis_client.xadd(STREAM, genuine.to_wire())  # type: ignore[arg-type]
    forged_id = redis_client.xadd(STREAM, forged)  # type: ignore[arg-type]

    environment = {**os.environ, "REDIS_URL": redis_url, "REHAB_KEYS_DIR": str(keys), "PYTHONPATH": str(ROOT)}
    with subprocess.Popen(
        [sys.executable, str(EXAMPLE)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=environment,
    ) as subscriber:
        try:
            assert subscriber.stdout is not None
            received = read_line(subscriber.stdout, r"^received ")
            refused = read_line(subscriber.stdout, r"^refused ")
        finally:
            subscriber.terminate()
            subscriber.wait(timeout=10)

    assert f"received approval.application_rejected {genuine.event_id}" in received
    assert f"refused {as_text(forged_id)}: signature of" in refused
    pending = redis_client.xpending(STREAM, "welfare-office")
    assert pending["pending"] == 1, "the refused entry stays pending; the genuine one was acknowledged"


def test_the_redis_cli_commands_of_the_guide_read_plain_fields(
    redis_client: redis.Redis, tmp_path: Path
) -> None:
    keys = tmp_path / "keys"
    generate(keys, "approval")
    genuine = signed_rejection(keys)
    redis_client.xadd(STREAM, genuine.to_wire())  # type: ignore[arg-type]
    # XGROUP CREATE rehab.approval.events welfare-office 0 MKSTREAM
    redis_client.xgroup_create(STREAM, "welfare-office", id="0", mkstream=True)
    # XREADGROUP GROUP welfare-office cli-1 COUNT 10 STREAMS rehab.approval.events >
    answer: Any = redis_client.xreadgroup("welfare-office", "cli-1", {STREAM: ">"}, count=10)
    [[_stream, [(entry_id, fields)]]] = answer
    assert EventEnvelope.from_wire(fields) == genuine
    # XACK rehab.approval.events welfare-office <entry id>
    assert redis_client.xack(STREAM, "welfare-office", entry_id) == 1
