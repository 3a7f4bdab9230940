"""``/health`` tells the truth (503, with each reason's code and Chinese explanation, when the schema is
behind the code, Redis is unreachable or a cluster refuses the service's keys, or the relay keeps
failing) and ``/metrics`` answers in Prometheus's text format."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.parser import text_string_to_metric_families

from kernel.messaging.health import RELAY_FAILING, relay_problem
from kernel.messaging.relay import RelayHealth
from kernel.runtime import ServiceSettings
from kernel.store.store import EventStore, create_store_engine
from rehab.local_redis import free_port
from services.assessment.app import create_app as assessment
from services.survey.app import create_app as survey
from tests.kernel.test_migrations import create_as_the_release_before_migrations


def problems(answer: Any) -> dict[str, str]:
    return {problem["code"]: problem["reason"] for problem in answer.json()["problems"]}


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_a_ready_service_answers_200_and_its_metrics_in_prometheus_text(
    tmp_path: Path, redis_url: str, redis_client: redis.Redis
) -> None:
    settings = ServiceSettings(service="assessment", var_dir=tmp_path, redis_url=redis_url)
    with TestClient(assessment(settings)) as client:
        health = client.get("/health")
        metrics = client.get("/metrics")
    assert health.status_code == 200, health.text
    assert health.json()["status"] == "ok" and health.json()["problems"] == []
    assert metrics.status_code == 200
    assert metrics.headers["content-type"] == CONTENT_TYPE_LATEST
    found = samples(metrics.text)
    service = (("service", "assessment"),)
    assert found[("rehab_ready", service)] == 1
    assert found[("rehab_outbox_backlog", service)] == 0
    assert found[("rehab_events_published_total", (*service, ("stream", "rehab.assessment.events")))] == 0
    assert found[("rehab_consumer_dead_lettered_total", service)] == 0
    assert found[("rehab_consumer_applied_total", service)] == 0
    assert ("rehab_consumer_lag", (*service, ("stream", "rehab.survey.events"))) in found


def test_health_is_not_ready_while_redis_is_unreachable(tmp_path: Path) -> None:
    nobody = f"redis://127.0.0.1:{free_port()}/0"
    with TestClient(survey(ServiceSettings(service="survey", var_dir=tmp_path, redis_url=nobody))) as client:
        answer = client.get("/health")
        ready = client.get("/health/ready")
        metrics = client.get("/metrics")
        live = client.get("/health/live")
    assert answer.status_code == ready.status_code == 503
    assert ready.json()["problems"] == answer.json()["problems"]  # /health/ready is /health
    assert live.status_code == 200  # alive, only not ready: a supervisor leaves it running
    assert answer.json()["status"] == "not ready"
    assert problems(answer)["redis.unreachable"].startswith("无法连接 Redis")
    assert answer.json()["events"]["stored"] == 0  # what it always showed, ready or not
    assert samples(metrics.text)[("rehab_ready", (("service", "survey"),))] == 0


def test_health_is_not_ready_while_the_schema_is_behind_the_code(
    tmp_path: Path, redis_url: str, redis_client: redis.Redis
) -> None:
    url = f"sqlite:///{tmp_path / 'survey.db'}"
    engine = create_store_engine(url)
    create_as_the_release_before_migrations(engine, "survey", inbox_version=False)
    settings = ServiceSettings(
        service="survey", database_url=url, redis_url=redis_url, migrate_at_start=False
    )
    with TestClient(survey(settings)) as client:
        behind = client.get("/health")
        EventStore(engine, "survey").create_schema(service="survey")  # the operator migrates
        migrated = client.get("/health")
    engine.dispose()
    assert behind.status_code == 503
    assert "kernel_0002" in problems(behind)["schema.behind"]
    assert problems(behind)["schema.behind"].startswith("数据库结构落后于代码")
    assert migrated.status_code == 200, migrated.text


class ClusterNode:
    """A redis-server in cluster mode (durable settings), with its own folder and port."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir()
        self.port, self.bus_port = free_port(), free_port()
        command = [
            str(shutil.which("redis-server")),
            *("--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(folder)),
            *("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"),
            *("--cluster-port", str(self.bus_port), "--logfile", "redis.log"),  # port + 10000 may not exist
            *("--appendonly", "yes", "--appendfsync", "always", "--maxmemory-policy", "noeviction"),
        ]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.client = redis.Redis(port=self.port)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                self.client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server in cluster mode did not start; see {folder / 'redis.log'}")

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        self.client.close()
        self.process.kill()
        self.process.wait(timeout=10)


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[list[ClusterNode]]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    nodes = [ClusterNode(tmp_path / f"node-{n}") for n in range(2)]
    yield nodes
    for node in nodes:
        node.stop()


def moved_on(node: ClusterNode) -> bool:
    try:
        node.client.exists("rehab.survey.events")
    except redis.exceptions.MovedError:
        return True
    except redis.exceptions.ResponseError:
        return False
    return False


def test_health_is_not_ready_when_a_redis_cluster_answers_clusterdown_or_moved_for_its_keys(
    tmp_path: Path, cluster: list[ClusterNode]
) -> None:
    alone, other = cluster
    settings = ServiceSettings(service="survey", var_dir=tmp_path, redis_url=alone.url)
    with TestClient(survey(settings)) as client:
        down = client.get("/health")  # no node serves the slots: CLUSTERDOWN
        other.client.execute_command("CLUSTER", "ADDSLOTSRANGE", 0, 16383)
        alone.client.execute_command("CLUSTER", "MEET", "127.0.0.1", other.port, other.bus_port)
        deadline = time.monotonic() + 10
        while not moved_on(alone):
            assert time.monotonic() < deadline, "the nodes did not learn of each other"
            time.sleep(0.1)
        moved = client.get("/health")  # the other node serves every key: MOVED
    assert down.status_code == 503 and "ClusterDownError" in problems(down)["redis.cluster"]
    assert moved.status_code == 503 and "MovedError" in problems(moved)["redis.cluster"]
    assert problems(moved)["redis.cluster"].startswith("Redis 集群不为本服务提供数据")


def test_a_relay_failing_longer_than_the_bound_makes_the_service_not_ready() -> None:
    health = RelayHealth()
    assert relay_problem(health) is None
    health.failed("relay cannot reach Redis: MOVED 3999 127.0.0.1:6381")
    assert relay_problem(health, bound_seconds=10) is None  # a moment's failure is not a problem
    health.failing_since = time.monotonic() - 30
    code, reason = relay_problem(health, bound_seconds=10) or ("", "")
    assert code == RELAY_FAILING
    assert reason.startswith("事件发布已连续失败 30 秒") and "MOVED" in reason
    health.succeeded()
    assert relay_problem(health, bound_seconds=10) is None
