"""A client retrying a command against a real service process with its Idempotency-Key gets the
original answer, and the service records the command once."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Deployment
from tests.e2e.people import certified_adult

pytestmark = pytest.mark.e2e


def stored_events(deployment: Deployment) -> int:
    return int(deployment.journey.get("survey", "/health")["events"]["stored"])


def test_registering_a_person_twice_with_one_key_registers_them_once(deployment: Deployment) -> None:
    journey = deployment.journey
    body = {**certified_adult(3, street="鸳鸯"), "registered_on": journey.day(3, 1)}
    url = journey.url("survey") + "/persons"
    before = stored_events(deployment)
    first = journey.client.post(url, json=body, headers={"Idempotency-Key": "register-3"})
    after_first = stored_events(deployment)

    retry = journey.client.post(url, json=body, headers={"Idempotency-Key": "register-3"})

    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert after_first > before
    assert stored_events(deployment) == after_first
