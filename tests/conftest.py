"""Shared fixtures: a real Redis for every test that needs one."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import pytest
import redis
from sqlalchemy import create_engine, make_url, text

from rehab.local_redis import LocalRedis, answers, free_port
from tests.pii_scan import scan_redis

MEMORY_FILESYSTEM = Path("/dev/shm")
"""Where the suite's temporary files go when no other place is asked for: a RAM-backed tmpfs."""
MEMORY_NEEDED = 2 * 1024**3
"""Free room the tmpfs must have (a whole run writes a few hundred MB: stores, logs, Redis files)."""


def pytest_configure(config: pytest.Config) -> None:
    """Temporary files (pytest's tmp_path, the local PostgreSQL) on tmpfs when it has room.

    The services' SQLite stores and the test Redis (appendfsync always) wait for an fsync on every
    commit; on tmpfs an fsync returns at once (a fresh store's migrations: 0.5-1.6 s on this
    machine's disk, 0.14 s on tmpfs; one person's journey through five processes 5-6 s, 2-2.5 s). No
    test can observe the difference (none loses power), a killed process leaves what it wrote either
    way, and pytest keeps its last three runs' folders as under /tmp. ``--basetemp`` or ``TMPDIR``
    chooses otherwise.
    """
    if config.option.basetemp or os.environ.get("TMPDIR"):
        return
    try:
        free = shutil.disk_usage(MEMORY_FILESYSTEM).free
    except OSError:
        return
    if free >= MEMORY_NEEDED and os.access(MEMORY_FILESYSTEM, os.W_OK):
        tempfile.tempdir = str(MEMORY_FILESYSTEM)


def _docker_engine_answers() -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        import docker

        docker.from_env(timeout=2).ping()
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """REDIS_URL when set; else testcontainers when a Docker engine answers; else a local redis-server."""
    if url := os.environ.get("REDIS_URL"):
        assert answers(url), f"REDIS_URL={url} does not answer"
        yield url
        _scan(url)
        return
    if _docker_engine_answers():
        from testcontainers.redis import RedisContainer

        # The services refuse a Redis that may lose acknowledged entries: run it as production would.
        durable = RedisContainer("redis:7").with_command(
            "redis-server --appendonly yes --appendfsync always --maxmemory-policy noeviction"
        )
        with durable as container:
            host = container.get_container_host_ip()
            url = f"redis://{host}:{container.get_exposed_port(6379)}/0"
            yield url
            _scan(url)
        return
    server = LocalRedis(tmp_path_factory.mktemp("redis"), free_port()).start()
    try:
        yield server.url
        _scan(server.url)
    finally:
        server.stop()


def _scan(url: str) -> None:
    with redis.Redis.from_url(url) as client:
        scan_redis(client)


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    """A client on a freshly flushed database."""
    client = redis.Redis.from_url(redis_url)
    scan_redis(client)  # what earlier tests left, before the flush deletes it; the session end scans the rest
    client.flushdb()
    yield client
    client.close()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """POSTGRES_URL when set; else a testcontainers PostgreSQL when Docker answers; else a local server."""
    if url := os.environ.get("POSTGRES_URL"):
        yield url
        return
    if _docker_engine_answers():
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:16", driver="psycopg") as container:
            yield container.get_connection_url()
        return
    from tests.local_postgres import LocalPostgres, postgres_binaries

    if postgres_binaries() is None:
        pytest.skip("PostgreSQL is not installed (scripts/setup installs it)")
    server = LocalPostgres().start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def empty_postgres_url(postgres_url: str) -> Iterator[str]:
    """A database of its own on the test PostgreSQL server, empty, dropped afterwards."""
    name = f"rehab_{uuid4().hex[:12]}"
    server = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()
