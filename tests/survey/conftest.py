"""The survey service on its own SQLite store and the test Redis: the ``client`` of the survey tests
(a module that needs another deployment, access control for one, defines its own)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient

from kernel.runtime import ServiceSettings
from services.survey.app import create_app


@pytest.fixture
def client(tmp_path: Path, redis_url: str, redis_client: redis.Redis) -> Iterator[TestClient]:
    settings = ServiceSettings(
        service="survey", database_url=f"sqlite:///{tmp_path}/survey.db", redis_url=redis_url
    )
    with TestClient(create_app(settings)) as test_client:
        yield test_client
