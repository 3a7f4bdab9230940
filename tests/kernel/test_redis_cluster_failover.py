"""A Redis Cluster with replicas loses the primary serving survey's stream under load: its replica takes over
(``cluster-node-timeout`` 1 s), redis-py's ``RedisCluster`` and FastStream's ``RedisClusterBroker`` follow the
slot to it, the relay's loss check publishes again what the dead primary acknowledged but never replicated,
and assessment applies every accepted survey exactly once.

The primary killed is also the node redis-py sends keyless commands to and asks for the keys of XREADGROUP
(its default node, the one serving slot 0): the worst one to lose."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient
from rehab_contracts.streams import SURVEY_STREAM
from sqlalchemy import select

from kernel.store.tables import inbox_table
from services.assessment.app import create_app as assessment
from services.survey.app import create_app as survey
from tests.kernel.redis_cluster_nodes import RedisClusterNodes
from tests.kernel.redis_sentinel_group import HOST, wait_for
from tests.kernel.test_redis_cluster import on_cluster
from tests.kernel.test_redis_sentinel import received_event_ids, runtime, survey_someone, surveyed_event_ids

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed")

UNREPLICATED = 3
"""Entries the doomed primary acknowledges after its replica's link is cut, at least."""


@pytest.fixture
def replicated_cluster(tmp_path: Path) -> Iterator[RedisClusterNodes]:
    nodes = RedisClusterNodes(tmp_path / "cluster", count=3, replicas_each=1, first_serves=SURVEY_STREAM)
    try:
        yield nodes.start()
    finally:
        nodes.stop()


def stream_entries(port: int) -> dict[str, str]:
    """Survey's stream as the node on ``port`` holds it: event id -> entry id."""
    with redis.Redis(host=HOST, port=port, decode_responses=True) as node:
        entries: list[tuple[str, dict[str, str]]] = node.xrange(SURVEY_STREAM)
    return {fields["event_id"]: entry_id for entry_id, fields in entries}


class Load:
    """Surveys persons from a thread until stopped: the survey API never waits for Redis."""

    def __init__(self, client: TestClient, first: int) -> None:
        self.client, self.next = client, first
        self.failures: list[BaseException] = []
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run)

    def __enter__(self) -> Load:
        self.thread.start()
        return self

    def __exit__(self, *_exception: object) -> None:
        self.stopped.set()
        self.thread.join(timeout=60)

    def _run(self) -> None:
        try:
            while not self.stopped.is_set():
                survey_someone(self.client, self.next)
                self.next += 1
                time.sleep(0.02)
        except BaseException as error:  # reported by the test thread
            self.failures.append(error)


def surveys_received(client: TestClient) -> list[str]:
    """The event ids of the surveys in assessment's inbox, one per row."""
    query = select(inbox_table.c.event_id).where(inbox_table.c.event_type == "survey.need_surveyed")
    with runtime(client).store.engine.connect() as connection:
        return list(connection.scalars(query))


def test_a_killed_primary_of_a_cluster_fails_over_to_its_replica_and_every_survey_arrives_once(
    replicated_cluster: RedisClusterNodes, tmp_path: Path
) -> None:
    nodes = replicated_cluster
    doomed = nodes.primary_port_of(SURVEY_STREAM)
    assert doomed == nodes.ports[0]  # serves slot 0 too: redis-py's default node
    (replica,) = nodes.replica_ports_of(doomed)
    with (
        TestClient(survey(on_cluster(nodes, "survey", tmp_path))) as surveys,
        TestClient(assessment(on_cluster(nodes, "assessment", tmp_path))) as assessments,
    ):
        for sequence in range(5):
            survey_someone(surveys, sequence)
        wait_for(lambda: surveyed_event_ids(surveys) <= received_event_ids(assessments), "the first surveys")

        with Load(surveys, first=5) as load:
            nodes.cut_replication(doomed)
            replicated = set(stream_entries(doomed))
            wait_for(
                lambda: len(stream_entries(doomed).keys() - replicated) >= UNREPLICATED,
                "the primary to acknowledge entries its replica never gets",
            )
            acknowledged_alone = stream_entries(doomed)
            nodes.kill(doomed)
            wait_for(lambda: nodes.primary_port_of(SURVEY_STREAM) == replica, "the replica's promotion")
            promoted_at = load.next
            wait_for(
                lambda: load.next >= promoted_at + 10 or bool(load.failures), "surveys after the failover"
            )
        assert not load.failures, load.failures

        lost = {event: entry for event, entry in acknowledged_alone.items() if event not in replicated}
        assert len(lost) >= UNREPLICATED
        # The relay's loss check (every 5 s) finds them missing from the promoted replica's stream.
        wait_for(
            lambda: lost.keys() <= stream_entries(replica).keys(), "the lost entries to be published again"
        )
        wait_for(lambda: runtime(surveys).store.counts()["unpublished"] == 0, "the outbox to drain")
        surveyed = surveyed_event_ids(surveys)
        assert len(surveyed) == load.next
        wait_for(lambda: surveyed <= received_event_ids(assessments), "every survey at assessment")
        on_promoted = stream_entries(replica)
        wait_for(lambda: surveys.get("/health").status_code == 200, "survey's /health to recover")
        wait_for(lambda: assessments.get("/health").status_code == 200, "assessment's /health to recover")
        consumer = assessments.get("/health").json()["consumer"]
        received, inbox = surveys_received(assessments), received_event_ids(assessments)

    assert all(on_promoted[event] != entry for event, entry in lost.items())
    assert surveyed <= on_promoted.keys()
    assert sorted(received) == sorted(surveyed)  # each once
    assert consumer["applied"] == len(inbox), consumer  # every other delivery was a duplicate, skipped
    assert consumer["dead_lettered"] == 0, consumer


@pytest.fixture
def cluster_with_replicas(tmp_path: Path) -> Iterator[RedisClusterNodes]:
    nodes = RedisClusterNodes(tmp_path / "cluster", count=3, replicas_each=1)
    try:
        yield nodes.start()
    finally:
        nodes.stop()


def test_consumers_keep_consuming_when_the_node_redis_py_asks_for_keys_dies_serving_no_stream_of_theirs(
    cluster_with_replicas: RedisClusterNodes, tmp_path: Path
) -> None:
    """redis-py asks its default node for the keys of each XREADGROUP (COMMAND GETKEYS) and replaces it only
    when a command sent to it fails: a consumer reading a stream another node serves would fail forever."""
    nodes = cluster_with_replicas
    seed = nodes.ports[0]  # serves slot 0: redis-py's default node
    assert nodes.primary_port_of(SURVEY_STREAM) != seed
    (replica,) = nodes.replica_ports_of(seed)
    with (
        TestClient(survey(on_cluster(nodes, "survey", tmp_path))) as surveys,
        TestClient(assessment(on_cluster(nodes, "assessment", tmp_path))) as assessments,
    ):
        survey_someone(surveys, 0)
        wait_for(lambda: surveyed_event_ids(surveys) <= received_event_ids(assessments), "the first survey")
        nodes.kill(seed)
        wait_for(lambda: nodes.primary_port_of_slot(0) == replica, "the replica's promotion")
        for sequence in range(1, 6):
            survey_someone(surveys, sequence)
        wait_for(lambda: len(surveyed_event_ids(surveys)) == 6, "the surveys")
        wait_for(
            lambda: surveyed_event_ids(surveys) <= received_event_ids(assessments), "assessment to consume"
        )
        wait_for(lambda: surveys.get("/health").status_code == 200, "survey's /health")
        wait_for(lambda: assessments.get("/health").status_code == 200, "assessment's /health")
