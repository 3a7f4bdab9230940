"""A province in miniature for the simulation: several instances of each service as real processes, every
service's store a database of its own on one PostgreSQL server, Redis a Sentinel group (issue 16, item 7)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import redis
from sqlalchemy import create_engine, make_url, text

from rehab.local_redis import free_port
from rehab.verify import CheckResult, Snapshot, load_redis, load_store, run_checks
from tests.kernel.redis_sentinel_group import GROUP, HOST, SentinelGroup

BROKEN_REDIS_URL = "redis://127.0.0.1:1/0"
"""With Sentinels the URL's host and port are not used: a wrong one proves the primary is asked for."""


@dataclass
class Instance:
    """One process of one service."""

    service: str
    name: str
    port: int
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def health(self) -> dict[str, Any] | None:
        """``/health`` (ready or not), None when the process does not answer."""
        try:
            answer = httpx.get(self.url + "/health", timeout=2.0)
        except httpx.HTTPError:
            return None
        body: dict[str, Any] = answer.json()
        body["ready"] = answer.status_code == 200
        return body

    def role(self) -> str | None:
        health = self.health()
        return None if health is None else health.get("leadership", {}).get("role")

    def alive(self) -> bool:
        return self.process.poll() is None


@dataclass
class Province:
    """``instances`` processes of each service, started by :meth:`start`, stopped by :meth:`stop`."""

    folder: Path
    postgres_url: str
    redis: SentinelGroup
    instances: Mapping[str, int]
    env: dict[str, str] = field(default_factory=dict)
    databases: dict[str, str] = field(default_factory=dict)
    running: list[Instance] = field(default_factory=list)

    def start(self, timeout: float = 60.0) -> Province:
        (self.folder / "logs").mkdir(parents=True, exist_ok=True)
        for service in self.instances:
            self.databases[service] = self._create_database(service)
        for service, count in self.instances.items():
            for index in range(count):
                self.running.append(self._start(service, f"{service}-{index}"))
        wait_for(
            lambda: all((i.health() or {}).get("ready") for i in self.running),
            "every instance ready",
            timeout,
        )
        return self

    def of(self, service: str) -> list[Instance]:
        return [instance for instance in self.running if instance.service == service and instance.alive()]

    def leader(self, service: str = "settlement") -> Instance | None:
        leaders = [instance for instance in self.of(service) if instance.role() == "leader"]
        assert len(leaders) <= 1, f"two {service} leaders: {[i.name for i in leaders]}"
        return leaders[0] if leaders else None

    def restart(self, instance: Instance) -> None:
        """Start a stopped instance again, on its port and folder."""
        instance.process = self._start(instance.service, instance.name, instance.port).process

    def kill(self, instance: Instance) -> None:
        """SIGKILL: no shutdown; PostgreSQL sees its connections close."""
        instance.process.send_signal(signal.SIGKILL)
        instance.process.wait(timeout=10)

    def verify(self) -> list[CheckResult]:
        """`rehab verify`'s six checks over the services running here and the Sentinels' primary."""
        stores = {service: load_store(service, url) for service, url in self.databases.items()}
        port = self.redis.primary_port()
        assert port is not None, "no primary named by the Sentinels"
        client = redis.Redis(host=HOST, port=port, decode_responses=True)
        try:
            streams, letters = load_redis(client)
        finally:
            client.close()
        for stream in streams.values():  # the groups of services not run here are not expected
            stream.pending = {group: count for group, count in stream.pending.items() if group in stores}
        letters = {service: rows for service, rows in letters.items() if service in stores}
        return run_checks(Snapshot(stores, streams, letters))

    def stop(self) -> None:
        for instance in self.running:
            if instance.alive():
                instance.process.terminate()
        for instance in self.running:
            try:
                instance.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                instance.process.kill()
        server = create_engine(self.postgres_url, isolation_level="AUTOCOMMIT")
        with server.connect() as connection:
            for url in self.databases.values():
                name = make_url(url).database
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()

    def _create_database(self, service: str) -> str:
        name = f"{service}_{uuid4().hex[:8]}"
        server = create_engine(self.postgres_url, isolation_level="AUTOCOMMIT")
        with server.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        server.dispose()
        return make_url(self.postgres_url).set(database=name).render_as_string(hide_password=False)

    def _start(self, service: str, name: str, port: int | None = None) -> Instance:
        port = port or free_port()
        environment = {key: value for key, value in os.environ.items() if not key.startswith("REHAB_")}
        environment.update(
            {
                "PYTHONUNBUFFERED": "1",
                "REHAB_DEMO": "1",
                "REHAB_LOG_FORMAT": "text",
                "REHAB_DATABASE_URL": self.databases[service],
                "REHAB_REDIS_SENTINELS": self.redis.sentinels,
                "REHAB_REDIS_SENTINEL_GROUP": GROUP,
                "REHAB_CLAIM_IDLE_SECONDS": "2",
                "REHAB_RECONCILE_SECONDS": "2",
                **self.env,
            }
        )
        command = [sys.executable, "-m", "rehab.cli", "serve", service, "--port", str(port)]
        command += ["--redis-url", BROKEN_REDIS_URL, "--var-dir", str(self.folder / name)]
        log = (self.folder / "logs" / f"{name}.log").open("ab")
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=environment)
        return Instance(service, name, port, process)


def wait_for(
    condition: Callable[[], bool],
    what: str,
    timeout: float = 30.0,
    explain: Callable[[], object] | None = None,
) -> float:
    """Seconds until ``condition`` held; after ``timeout`` fails naming ``what`` and what ``explain`` says."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started >= timeout:
            raise AssertionError(f"waited {timeout:.0f}s for {what}: {explain() if explain else ''}")
        time.sleep(0.1)
    return time.monotonic() - started


def violations(results: list[CheckResult]) -> dict[str, list[str]]:
    return {result.code: result.violations[:5] for result in results if result.violations}
