"""End-to-end fixtures: our own redis-server and the five services as real OS processes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from rehab.journey import Journey
from rehab.local_redis import LocalRedis, free_port
from rehab.processes import SERVICES, ServiceProcesses


@dataclass
class Deployment:
    redis: LocalRedis
    services: ServiceProcesses
    journey: Journey


def start_deployment(var_dir: Path, env: dict[str, str] | None = None) -> Deployment:
    """Redis and the five services; ``env`` adds to every service's environment (e.g. ``REHAB_REFERENCE``)."""
    redis = LocalRedis(var_dir / "redis", free_port()).start()
    services = ServiceProcesses(
        var_dir, redis.url, ports={service: free_port() for service in SERVICES}, env=dict(env or {})
    )
    try:
        services.start()
    except BaseException:
        services.stop()
        redis.stop()
        raise
    return Deployment(redis, services, Journey(services.url, year=2025, timeout=60.0))


def stop_deployment(deployment: Deployment) -> None:
    deployment.journey.client.close()
    deployment.services.stop()
    deployment.redis.stop()


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """A whole deployment shared by one test module (tests in it run in order)."""
    running = start_deployment(tmp_path_factory.mktemp("deployment"))
    yield running
    stop_deployment(running)
