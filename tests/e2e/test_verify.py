"""`rehab verify` on a real deployment: clean after the journey, and it names each kind of tampering."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from rehab.verify import store_urls, verify_deployment
from tests.cli.runner import rehab
from tests.e2e.conftest import Deployment, start_deployment, stop_deployment
from tests.e2e.people import certified_adult
from tests.e2e.test_journey import NEEDS, drive_one_person_through_the_journey, settled

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """Our own deployment: the tests below stop its services and tamper with its stores."""
    running = start_deployment(tmp_path_factory.mktemp("verify"))
    yield running
    stop_deployment(running)


def rehab_verify(deployment: Deployment) -> tuple[int, str]:
    command = [
        sys.executable,
        "-m",
        "rehab.cli",
        "verify",
        "--var-dir",
        str(deployment.services.var_dir),
        "--redis-url",
        deployment.redis.url,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    return done.returncode, done.stdout + done.stderr


def rehab_verify_in_process(deployment: Deployment) -> tuple[int, str]:
    """The same command run in this process (tests.cli.runner), without a new interpreter's start: the
    clean run above goes through a real process, the tampering tests read the same report this way."""
    ran = rehab("verify", "--var-dir", str(deployment.services.var_dir), "--redis-url", deployment.redis.url)
    return ran.code, ran.out + ran.err


def verdicts(output: str) -> dict[str, str]:
    """'I3' -> 'ok' or 'VIOLATED', from the report's heading lines (`I3 …（…）：违反（VIOLATED）`)."""
    headings = (re.match(r"^(I\d) .*）：.*（(ok|VIOLATED)）$", line) for line in output.splitlines())
    return {found[1]: found[2] for found in headings if found}


def database(deployment: Deployment, service: str) -> sqlite3.Connection:
    return sqlite3.connect(deployment.services.var_dir / f"{service}.db")


def test_after_the_journey_verify_reports_every_invariant_clean(deployment: Deployment) -> None:
    journey = deployment.journey
    drive_one_person_through_the_journey(journey, certified_adult(1, street="礼嘉"), NEEDS)
    settled(journey)
    urls = store_urls(deployment.services.var_dir, {})
    deadline = time.monotonic() + 30
    while not all(result.ok for result in verify_deployment(urls, deployment.redis.url)):
        assert time.monotonic() < deadline, "the deployment did not become quiescent and clean"
        time.sleep(0.5)

    code, output = rehab_verify(deployment)

    assert code == 0, output
    assert verdicts(output) == {f"I{n}": "ok" for n in range(1, 7)}
    assert "全部不变式成立（clean: every invariant holds）" in output
    deployment.services.stop()  # quiescent for good: the tests below tamper with the stores


def test_an_inbox_row_deleted_from_settlement_is_reported_lost_and_breaks_replay_equivalence(
    deployment: Deployment,
) -> None:
    with database(deployment, "settlement") as connection:
        event_id = connection.execute(
            "SELECT event_id FROM inbox WHERE event_type = 'survey.need_surveyed'"
        ).fetchone()[0]
        connection.execute("DELETE FROM inbox WHERE event_id = ?", (event_id,))

    code, output = rehab_verify_in_process(deployment)

    assert code == 1
    assert verdicts(output)["I3"] == "VIOLATED"
    assert f"settlement <- survey：事件 {event_id}" in output
    assert "neither consumed nor dead-lettered" in output
    assert verdicts(output)["I5"] == "VIOLATED"  # the survey fee is live, but the archive lacks its cause


def test_an_outbox_row_marked_unpublished_is_reported(deployment: Deployment) -> None:
    with database(deployment, "delivery") as connection:
        event_id = connection.execute("SELECT event_id FROM outbox ORDER BY position LIMIT 1").fetchone()[0]
        connection.execute(
            "UPDATE outbox SET published_at = NULL, stream_entry_id = NULL WHERE event_id = ?", (event_id,)
        )

    code, output = rehab_verify_in_process(deployment)

    assert code == 1
    assert verdicts(output)["I2"] == "VIOLATED"
    assert f"delivery：事件 {event_id} 未发布" in output


def test_an_entry_read_but_never_acknowledged_is_reported_pending(deployment: Deployment) -> None:
    client = redis.Redis.from_url(deployment.redis.url, decode_responses=True)
    stream = "rehab.approval.events"
    client.xadd(stream, {"event_id": "not-an-event"})
    client.xreadgroup("delivery", "a-consumer-that-died", {stream: ">"}, count=1)
    client.close()

    code, output = rehab_verify_in_process(deployment)

    assert code == 1
    assert f"{stream}：消费组 delivery 有 1 个条目待确认（pending）" in output


def test_verify_says_which_store_is_missing(deployment: Deployment, tmp_path: Path) -> None:
    ran = rehab("verify", "--var-dir", str(tmp_path), "--redis-url", deployment.redis.url)

    assert ran.code == 2
    assert "no store for survey" in ran.err
