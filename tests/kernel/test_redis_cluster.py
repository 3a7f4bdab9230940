"""Services on a Redis Cluster (``REHAB_REDIS_CLUSTER=1``): redis-py's ``RedisCluster`` and FastStream's
``RedisClusterBroker`` find each stream's node from one seed node, or from the next seed
(``REHAB_REDIS_CLUSTER_NODES``) when the first is down; events flow between two services; the start-time
checks ask every primary, not only the node redis-py sends keyless commands to."""

from __future__ import annotations

import asyncio
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient
from rehab_contracts.streams import SURVEY_STREAM

from kernel.messaging.connection import RedisAddress, redis_client
from kernel.messaging.durability import durability_problems
from kernel.runtime import ServiceSettings
from rehab.local_redis import free_port
from services.assessment.app import create_app as assessment
from services.survey.app import create_app as survey
from tests.kernel.redis_cluster_nodes import RedisClusterNodes
from tests.kernel.redis_sentinel_group import HOST, wait_for
from tests.kernel.test_redis_sentinel import received_event_ids, survey_someone, surveyed_event_ids

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed")


@pytest.fixture
def redis_cluster(tmp_path: Path) -> Iterator[RedisClusterNodes]:
    nodes = RedisClusterNodes(tmp_path / "cluster")
    try:
        yield nodes.start()
    finally:
        nodes.stop()


def on_cluster(nodes: RedisClusterNodes, service: str, var_dir: Path) -> ServiceSettings:
    return ServiceSettings(
        service=service, var_dir=var_dir / service, redis_url=nodes.url, redis_cluster=True
    )


def assert_surveys_reach_assessment(surveys: TestClient, assessments: TestClient, count: int) -> None:
    """``count`` persons surveyed reach assessment's inbox, and both services are ready."""
    for sequence in range(count):
        survey_someone(surveys, sequence)
    wait_for(lambda: len(surveyed_event_ids(surveys)) == count, "the surveys")
    wait_for(lambda: surveyed_event_ids(surveys) <= received_event_ids(assessments), "assessment to receive")
    assert surveys.get("/health").status_code == 200, surveys.get("/health").text
    assert assessments.get("/health").status_code == 200, assessments.get("/health").text


def test_events_flow_between_services_on_a_redis_cluster(
    redis_cluster: RedisClusterNodes, tmp_path: Path
) -> None:
    with (
        TestClient(survey(on_cluster(redis_cluster, "survey", tmp_path))) as surveys,
        TestClient(assessment(on_cluster(redis_cluster, "assessment", tmp_path))) as assessments,
    ):
        assert_surveys_reach_assessment(surveys, assessments, 5)


def test_services_start_while_the_node_their_url_names_is_down_from_the_next_seed_node(
    redis_cluster: RedisClusterNodes, tmp_path: Path
) -> None:
    down = f"redis://{HOST}:{free_port()}/0"  # nothing listens there: a seed node that is down
    seeds = ",".join(f"{HOST}:{port}" for port in redis_cluster.ports[1:])

    def on_seeds(service: str) -> ServiceSettings:
        return ServiceSettings(
            service=service,
            var_dir=tmp_path / service,
            redis_url=down,
            redis_cluster=True,
            redis_cluster_nodes=seeds,
        )

    with (
        TestClient(survey(on_seeds("survey"))) as surveys,
        TestClient(assessment(on_seeds("assessment"))) as assessments,
    ):
        assert_surveys_reach_assessment(surveys, assessments, 3)


def test_cluster_seed_nodes_are_read_from_the_settings() -> None:
    settings = ServiceSettings(
        service="survey",
        redis_url="redis://survey:pw@10.0.0.1:6379/0",
        redis_cluster=True,
        redis_cluster_nodes="10.0.0.2:6379, [fd00::3]:6380",
    )

    assert settings.redis_address.cluster_nodes == (("10.0.0.2", 6379), ("fd00::3", 6380))
    with pytest.raises(ValueError, match=re.escape("a Redis Cluster node is host:port, not '10.0.0.4'")):
        RedisAddress.of("redis://10.0.0.1:6379/0", None, cluster=True, cluster_nodes="10.0.0.4")


def cluster_checks(nodes: RedisClusterNodes) -> tuple[int, list[str]]:
    """The port of the node redis-py sends keyless commands to, and the durability problems found."""

    async def check() -> tuple[int, list[str]]:
        client = redis_client(RedisAddress(nodes.url, cluster=True))
        try:
            problems = await durability_problems(client)
            default_port = int(client.get_default_node().port)  # type: ignore[attr-defined]
            return default_port, problems
        finally:
            await client.aclose()

    return asyncio.run(check())


def misconfigure_another_primary(nodes: RedisClusterNodes, default_port: int) -> int:
    """``appendonly no`` and an evicting policy on a primary that is not ``default_port``; its port."""
    port = next(port for port in nodes.ports[: nodes.count] if port != default_port)
    with redis.Redis(host=HOST, port=port) as node:
        node.config_set("appendonly", "no")
        node.config_set("maxmemory-policy", "allkeys-lru")
    return port


def test_every_primary_of_a_cluster_is_checked_and_a_misconfigured_one_is_named(
    redis_cluster: RedisClusterNodes,
) -> None:
    default_port, problems = cluster_checks(redis_cluster)
    assert problems == []
    unsafe = misconfigure_another_primary(redis_cluster, default_port)

    _default_port, problems = cluster_checks(redis_cluster)

    assert problems == [
        f"node {HOST}:{unsafe}: appendonly is not 'yes' (a crash loses acknowledged stream entries)",
        f"node {HOST}:{unsafe}: maxmemory-policy is 'allkeys-lru', not 'noeviction'",
    ]


def test_a_service_on_a_cluster_with_one_misconfigured_primary_is_blocked_and_not_ready(
    redis_cluster: RedisClusterNodes, tmp_path: Path
) -> None:
    default_port, _problems = cluster_checks(redis_cluster)
    unsafe = misconfigure_another_primary(redis_cluster, default_port)

    with TestClient(survey(on_cluster(redis_cluster, "survey", tmp_path))) as surveys:
        deadline = time.monotonic() + 10
        while (health := surveys.get("/health")).json()["status"] in ("ok", "not ready"):
            assert time.monotonic() < deadline, "the service did not refuse the misconfigured primary"
            time.sleep(0.05)
        survey_someone(surveys, 0)  # accepted into the outbox, never published while blocked
        time.sleep(0.5)
        with redis.RedisCluster(host=HOST, port=redis_cluster.ports[0]) as cluster:
            assert cluster.exists(SURVEY_STREAM) == 0
        health = surveys.get("/health")

    assert health.status_code == 503
    assert health.json()["status"].startswith(
        f"blocked: unsafe Redis settings: node {HOST}:{unsafe}: appendonly"
    )
    assert "redis.unsafe" in [problem["code"] for problem in health.json()["problems"]]
