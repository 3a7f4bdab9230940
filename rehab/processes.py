"""Run the five agency services as separate processes (for `rehab up`, the demo and end-to-end tests).

Events are signed: keys are generated into ``<var_dir>/keys`` (or ``$REHAB_KEYS_DIR``) when missing
and every service runs with them, so consumers dead-letter unsigned or forged events. A service
without its own Redis user (``redis_urls``) runs in demo mode (``REHAB_DEMO=1``) unless the
environment says otherwise.

HTTP access control is off by default (the local demo): ``with_access=True`` (or ``access_dir``, or
``$REHAB_ACCESS_DIR`` in the environment) runs every service with the deployment's token keys, so each
request needs a bearer token (`rehab users` / `rehab token`, or ``token_for``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from console.settings import CONSOLE_PORT
from kernel.access.auth import Agency, Role, Scope
from kernel.deployment import load_deployment
from rehab.keys import ensure_keys
from rehab.local_redis import LocalRedis
from rehab.services import SERVICES
from rehab.settings import operator_settings
from rehab.users import User, UserDirectory


@dataclass
class ServiceProcesses:
    """The services of one deployment, each its own OS process with its own SQLite file under var_dir."""

    var_dir: Path
    redis_url: str
    ports: dict[str, int] = field(default_factory=lambda: load_deployment().ports)
    console_port: int = CONSOLE_PORT
    services: Iterable[str] = SERVICES
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    """Extra environment of every service process (e.g. ``REHAB_CLAIM_IDLE_SECONDS``)."""
    redis_urls: dict[str, str] = field(default_factory=dict)
    """A service's own Redis URL (its ACL user), in place of ``redis_url``."""
    keys_dir: Path | None = None
    """Event-signing keys; default ``$REHAB_KEYS_DIR``, else ``<var_dir>/keys``."""
    sign_events: bool = True
    with_access: bool = False
    """Run every service with access control (token keys in ``access_dir``, created when missing)."""
    access_dir: Path | None = None
    """users.json and token keys; default ``$REHAB_ACCESS_DIR``, else ``<var_dir>/access``."""

    @classmethod
    def with_agency_users(cls, var_dir: Path, redis: LocalRedis, **options: Any) -> ServiceProcesses:
        """Each service as its own user of deploy/redis/users.acl (``redis`` started with that file)."""
        urls = {service: redis.user_url(service) for service in options.get("services", SERVICES)}
        # Only the retention user may trim the streams (deploy/redis/users.acl): the producers trim as it.
        env = {"REHAB_RETENTION_REDIS_URL": redis.user_url("retention"), **options.pop("env", {})}
        return cls(var_dir, redis.user_url("operator"), redis_urls=urls, env=env, **options)

    @property
    def signing_keys(self) -> Path:
        return self.keys_dir or operator_settings().keys_dir or self.var_dir / "keys"

    @property
    def access(self) -> UserDirectory | None:
        """The deployment's users and token key when access control is on, else None."""
        folder = self.access_dir or operator_settings().access_dir
        if not (self.with_access or folder):
            return None
        return UserDirectory(Path(folder or self.var_dir / "access"))

    def token_for(self, name: str, agency: str, scope: str, *roles: str, hours: float = 8.0) -> str:
        """A bearer token of a user (added or updated with these agency, scope and roles: staff if none)."""
        directory = self.access
        assert directory is not None, "access control is off in this deployment"
        granted = frozenset(Role(role) for role in roles or ("staff",))
        directory.add(User(name, Agency(agency), granted, Scope.parse(scope)))
        return directory.issue_token(name, lifetime=timedelta(hours=hours))

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def start(self, timeout: float = 60.0) -> ServiceProcesses:
        (self.var_dir / "logs").mkdir(parents=True, exist_ok=True)
        if self.sign_events:
            ensure_keys(self.signing_keys, SERVICES)
        if self.access is not None:
            self.access.private_key()  # the token key pair, created on first use
        for service in self.services:
            self.start_one(service)
        self.wait_healthy(timeout)
        return self

    def start_one(self, service: str, env: dict[str, str] | None = None) -> None:
        """Start one service; ``env`` adds to the environment of this process only (e.g. ``REHAB_FAULT``)."""
        log = (self.var_dir / "logs" / f"{service}.log").open("ab")
        command = [
            sys.executable,
            "-m",
            "rehab.cli",
            "serve",
            service,
            "--port",
            str(self.ports[service]),
            "--redis-url",
            self.redis_urls.get(service, self.redis_url),
            "--var-dir",
            str(self.var_dir),
        ]
        environment = {
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            **self._security_env(service),
            **self.env,
            **(env or {}),
        }
        self.processes[service] = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, env=environment
        )

    def _security_env(self, service: str) -> dict[str, str]:
        security = {"REHAB_KEYS_DIR": str(self.signing_keys)} if self.sign_events else {}
        configured = operator_settings()  # what the operator set stays: the services inherit it
        if service not in self.redis_urls and configured.demo is None:
            security["REHAB_DEMO"] = "1"  # one machine, Redis's default user: a demo deployment
        if self.access is not None:
            security["REHAB_ACCESS_DIR"] = str(self.access.folder)
        if self.access is not None and service == "settlement" and configured.data_key_token is None:
            # Settlement prints 附件3: it fetches persons' data keys from the registry with its own token.
            security["REHAB_DATA_KEY_TOKEN"] = self.token_for("settlement-register", "settlement", "district")
            if configured.survey_url is None:
                security["REHAB_SURVEY_URL"] = self.url("survey")
        return security

    def start_console(self, port: int | None = None, timeout: float = 30.0) -> str:
        """Start the staff console (ADR 0012) against these services; its address.

        Only with access control on: without it the services take no token, so no scope and no audit.
        """
        if self.access is None:
            raise RuntimeError("the console needs access control on (rehab up --with-access)")
        port = port or self.console_port
        log = (self.var_dir / "logs" / "console.log").open("ab")
        command = [sys.executable, "-m", "console", "--port", str(port), "--var-dir", str(self.var_dir)]
        urls = {f"REHAB_{service.upper()}_URL": self.url(service) for service in self.services}
        environment = {
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            "REHAB_ACCESS_DIR": str(self.access.folder),
            **urls,
        }
        self.processes["console"] = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, env=environment
        )
        address = f"http://127.0.0.1:{port}"
        self._wait_for("console", address, time.monotonic() + timeout)
        return address

    def wait_healthy(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        for service in self.processes:
            if service in self.ports:
                self._wait_for(service, self.url(service), deadline, path="/health/live")

    def _wait_for(self, name: str, address: str, deadline: float, path: str = "/health") -> None:
        while True:
            process = self.processes[name]
            if process.poll() is not None:
                raise RuntimeError(
                    f"{name} exited with code {process.returncode}; see {self.var_dir}/logs/{name}.log"
                )
            try:
                if httpx.get(address + path, timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"{name} did not become healthy in time; see {self.var_dir}/logs/{name}.log"
                )
            time.sleep(0.1)

    def kill(self, service: str) -> None:
        """Stop one service the hard way (SIGKILL), as a crash would."""
        process = self.processes.pop(service)
        process.kill()
        process.wait(timeout=10)

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        for process in self.processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        self.processes.clear()

    def __enter__(self) -> ServiceProcesses:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()
