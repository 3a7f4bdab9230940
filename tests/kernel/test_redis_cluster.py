"""Services on a Redis Cluster (``REHAB_REDIS_CLUSTER=1``): redis-py's ``RedisCluster`` and FastStream's
``RedisClusterBroker`` find each stream's node from one seed node; events flow between two services."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from kernel.runtime import ServiceSettings
from services.assessment.app import create_app as assessment
from services.survey.app import create_app as survey
from tests.kernel.redis_cluster_nodes import RedisClusterNodes
from tests.kernel.redis_sentinel_group import wait_for
from tests.kernel.test_redis_sentinel import received_event_ids, survey_someone, surveyed_event_ids

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed")


@pytest.fixture
def redis_cluster(tmp_path: Path) -> Iterator[RedisClusterNodes]:
    nodes = RedisClusterNodes(tmp_path / "cluster")
    try:
        yield nodes.start()
    finally:
        nodes.stop()


def test_events_flow_between_services_on_a_redis_cluster(
    redis_cluster: RedisClusterNodes, tmp_path: Path
) -> None:
    def on_cluster(service: str) -> ServiceSettings:
        return ServiceSettings(
            service=service, var_dir=tmp_path / service, redis_url=redis_cluster.url, redis_cluster=True
        )

    with (
        TestClient(survey(on_cluster("survey"))) as surveys,
        TestClient(assessment(on_cluster("assessment"))) as assessments,
    ):
        for sequence in range(5):
            survey_someone(surveys, sequence)
        wait_for(lambda: len(surveyed_event_ids(surveys)) == 5, "the surveys")
        wait_for(
            lambda: surveyed_event_ids(surveys) <= received_event_ids(assessments), "assessment to receive"
        )
        assert surveys.get("/health").status_code == 200, surveys.get("/health").text
        assert assessments.get("/health").status_code == 200, assessments.get("/health").text
