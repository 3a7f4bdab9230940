"""``/health`` is not ready past its bounds: more dead letters waiting than ``ready_max_dead_letters``, or a
consumed stream lagging more than ``ready_max_consumer_lag`` entries behind the service's group."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient

from kernel.messaging.dead_letters import dead_letter_stream
from kernel.runtime import ServiceSettings
from kernel.web.health import CONSUMER_LAGGING, DEAD_LETTERS, bound_problems
from services.assessment.app import create_app as assessment


def test_readiness_turns_503_past_the_dead_letter_bound(
    tmp_path: Path, redis_url: str, redis_client: redis.Redis
) -> None:
    settings = ServiceSettings(
        service="assessment", var_dir=tmp_path, redis_url=redis_url, ready_max_dead_letters=2
    )
    letters = dead_letter_stream("assessment")
    with TestClient(assessment(settings)) as client:
        for _ in range(2):
            redis_client.xadd(letters, {"reason": "a test's letter"})
        at_the_bound = client.get("/health")
        redis_client.xadd(letters, {"reason": "one too many"})
        past_it = client.get("/health")
        metrics = client.get("/metrics").text
        redis_client.xtrim(letters, maxlen=0)  # the operator replayed or dropped them (rehab dlq)
        handled = client.get("/health")
    assert at_the_bound.status_code == 200, at_the_bound.text
    assert past_it.status_code == 503
    assert past_it.json()["status"] == "not ready"
    (problem,) = past_it.json()["problems"]
    assert problem["code"] == DEAD_LETTERS
    assert problem["reason"].startswith("死信流中有 3 条待处理，超过上限 2 条")
    assert 'rehab_dead_letters{service="assessment"} 3.0' in metrics
    assert 'rehab_ready{service="assessment"} 0.0' in metrics
    assert handled.status_code == 200, handled.text


def test_a_stream_lagging_past_the_bound_is_a_problem_each_and_no_bound_is_none() -> None:
    lag = {"rehab.survey.events": 10_001, "rehab.approval.events": 3}
    (problem,) = bound_problems(lag, 0, max_lag=10_000, max_dead_letters=100)
    assert problem[0] == CONSUMER_LAGGING and "rehab.survey.events 10001" in problem[1]
    assert bound_problems(lag, 10**6, max_lag=None, max_dead_letters=None) == []
    assert bound_problems(lag, None, max_lag=None, max_dead_letters=0) == []  # Redis could not tell


def test_the_bounds_have_documented_defaults_and_may_be_unset(tmp_path: Path) -> None:
    defaults = ServiceSettings(service="survey", var_dir=tmp_path)
    assert (defaults.ready_max_consumer_lag, defaults.ready_max_dead_letters) == (10_000, 100)
    unset = ServiceSettings(service="survey", ready_max_consumer_lag=None, ready_max_dead_letters=None)
    assert unset.ready_max_consumer_lag is None and unset.ready_max_dead_letters is None


def test_none_in_the_environment_unsets_a_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REHAB_READY_MAX_DEAD_LETTERS", "none")
    monkeypatch.setenv("REHAB_READY_MAX_CONSUMER_LAG", "50")
    settings = ServiceSettings(service="survey")
    assert (settings.ready_max_consumer_lag, settings.ready_max_dead_letters) == (50, None)
