"""Each request is timed and counted by route template, method and status class: an unknown path as
``none``, never the path typed; probes and scrapes are left out."""

from __future__ import annotations

from pathlib import Path

import redis
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from kernel.runtime import ServiceSettings
from services.survey.app import create_app as survey
from tests.survey.people import person_body


def samples(text: str, family: str, suffix: str) -> dict[tuple[str, str, str], float]:
    found: dict[tuple[str, str, str], float] = {}
    for metrics in text_string_to_metric_families(text):
        if metrics.name != family:
            continue
        for sample in metrics.samples:
            if sample.name == family + suffix and sample.labels.get("le", "+Inf") == "+Inf":
                labels = sample.labels
                found[(labels["handler"], labels["method"], labels["status"])] = sample.value
    return found


def test_requests_are_counted_and_timed_by_route_template_method_and_status_class(
    tmp_path: Path, redis_url: str, redis_client: redis.Redis
) -> None:
    settings = ServiceSettings(service="survey", var_dir=tmp_path, redis_url=redis_url)
    with TestClient(survey(settings)) as client:
        assert client.post("/persons", json=person_body()).status_code == 201
        not_found = client.get("/nowhere/110101199003074514")
        assert not_found.status_code == 404
        assert not_found.json()["instance"] == "/nowhere/110101************"  # masked as in the logs
        client.get("/health")
        text = client.get("/metrics").text

    expected = {("/persons", "POST", "2xx"): 1.0, ("none", "GET", "4xx"): 1.0}
    assert samples(text, "rehab_http_requests", "_total") == expected
    assert samples(text, "rehab_http_request_duration_seconds", "_count") == expected
    assert "110101199003074514" not in text
