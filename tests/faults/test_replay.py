"""Settlement's ledger rebuilt by replay twice, and during live traffic: each replay of one archive
gives the same ledger posting by posting (ids are uuid5 of the keys), and a replay while events keep
arriving neither loses nor doubles a posting of the live ledger."""

from __future__ import annotations

from functools import partial
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Deployment
from tests.faults.support import (
    LoadDriver,
    assert_nothing_lost_nor_paid_twice,
    settled_once_each,
    wait_clean,
    wait_until,
)

pytestmark = pytest.mark.e2e


def accepted_at_least(driver: LoadDriver, surveys: int) -> bool:
    return len(driver.accepted) >= surveys


def rebuild(deployment: Deployment) -> dict[str, Any]:
    answer = httpx.post(deployment.services.url("settlement") + "/ledger/rebuild", timeout=60.0)
    assert answer.status_code == 200, answer.text
    ledger: dict[str, Any] = answer.json()
    assert ledger["balanced"]
    return ledger


def all_postings(deployment: Deployment) -> list[dict[str, Any]]:
    postings: list[dict[str, Any]] = []
    while True:
        page = deployment.journey.get("settlement", "/ledger/postings", limit=500, offset=len(postings))
        postings += page["items"]
        if not page["items"] or len(postings) >= page["total"]:
            return sorted(postings, key=lambda posting: posting["posting_id"])


def test_replaying_the_same_archive_twice_gives_the_live_ledger_posting_by_posting(
    deployment: Deployment,
) -> None:
    postings = LoadDriver(deployment, first=900, persons=4, pause=0.0)
    postings.run()  # in this thread
    assert postings.refused == []
    wait_clean(deployment)
    live_ledger = deployment.journey.get("settlement", "/ledger")
    live_postings = all_postings(deployment)
    assert live_ledger["posting_count"] >= 4

    first, second = rebuild(deployment), rebuild(deployment)

    assert first == second == live_ledger
    assert all_postings(deployment) == live_postings


def test_a_replay_during_live_traffic_neither_loses_nor_doubles_a_posting(deployment: Deployment) -> None:
    driver = LoadDriver(deployment, first=910, persons=10, pause=0.1)
    driver.start()
    for surveys in (2, 6):
        wait_until(
            f"{surveys} surveys were accepted", partial(accepted_at_least, driver, surveys), timeout=20.0
        )
        rebuild(deployment)  # while events keep arriving
    accepted = driver.finish()

    results = wait_clean(deployment)

    assert_nothing_lost_nor_paid_twice(results)  # and I5: a replay of the archive equals the live ledger
    settled_once_each(deployment, accepted)
