"""Start and stop a local redis-server for demos and tests (persistent, fsync on every write),
optionally with the per-agency ACL users of deploy/redis/users.acl."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import redis

DEPLOY_REDIS = Path(__file__).resolve().parents[1] / "deploy" / "redis"
AGENCY_USERS = DEPLOY_REDIS / "users.acl"
"""One Redis user per agency plus ``operator``; the default user is off (deploy/redis/README.md)."""


def demo_password(user: str) -> str:
    """The public demo password of a user in deploy/redis/users.acl: demos and tests only."""
    return f"{user}-demo-password"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def answers(url: str, timeout: float = 0.5, *, even_unauthenticated: bool = False) -> bool:
    """Does a Redis answer PING at ``url``? With ``even_unauthenticated``, a refusal to an unknown
    client (default user off) counts as an answer: the server is up."""
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout).ping())
    except redis.AuthenticationError:
        return even_unauthenticated
    except (redis.RedisError, OSError):
        return False


@dataclass
class LocalRedis:
    """A redis-server process of our own, with its data in ``data_dir`` (AOF, appendfsync always).

    Durable settings on purpose: a killed and restarted server keeps every acknowledged write,
    so the services' consumer groups and positions survive a crash. With ``aclfile`` (e.g.
    :data:`AGENCY_USERS`, copied into ``data_dir``) only its users may connect: see :meth:`user_url`.
    """

    data_dir: Path
    port: int
    process: subprocess.Popen[bytes] | None = None
    aclfile: Path | None = None

    @property
    def url(self) -> str:
        """As the default user (no credentials): refused when started with an ``aclfile``."""
        return f"redis://127.0.0.1:{self.port}/0"

    def user_url(self, user: str, password: str | None = None) -> str:
        """The URL of one ACL user; the demo password of deploy/redis/users.acl by default."""
        return f"redis://{user}:{password or demo_password(user)}@127.0.0.1:{self.port}/0"

    def start(self, wait_seconds: float = 10.0) -> LocalRedis:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError(
                "redis-server is not installed: run scripts/setup (apt-get install redis-server)"
            )
        self.data_dir.mkdir(parents=True, exist_ok=True)
        args = [
            binary,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(self.data_dir.resolve()),
            "--appendonly",
            "yes",
            "--appendfsync",
            "always",
            "--save",
            "",
            "--maxmemory-policy",
            "noeviction",
            "--daemonize",
            "no",
            "--logfile",
            str((self.data_dir / "redis.log").resolve()),
            *self._acl_arguments(),
        ]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + wait_seconds
        while time.monotonic() < deadline:
            if answers(self.url, even_unauthenticated=self.aclfile is not None):
                return self
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited at start; see {self.data_dir / 'redis.log'}")
            time.sleep(0.05)
        raise RuntimeError(f"redis-server did not answer on port {self.port} within {wait_seconds}s")

    def _acl_arguments(self) -> list[str]:
        if self.aclfile is None:
            return []
        # A copy: ACL SAVE must never rewrite the file shipped in deploy/redis.
        copy = (self.data_dir / "users.acl").resolve()
        shutil.copyfile(self.aclfile, copy)
        return ["--aclfile", str(copy)]

    def kill(self) -> None:
        """Stop it the hard way (SIGKILL), as a crash would."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


def unsafe_settings(url: str) -> list[str]:
    """What makes the Redis at ``url`` able to lose acknowledged entries (kernel.messaging.durability)."""
    import asyncio

    from redis.asyncio import Redis as AsyncRedis

    from kernel.messaging.durability import durability_problems

    async def check() -> list[str]:
        client = AsyncRedis.from_url(url, socket_connect_timeout=2)
        try:
            return await durability_problems(client)
        finally:
            await client.aclose()

    return asyncio.run(check())
