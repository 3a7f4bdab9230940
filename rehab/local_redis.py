"""Start and stop a local redis-server for demos and tests (persistent, fsync on every write)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import redis


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def answers(url: str, timeout: float = 0.5) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout).ping())
    except (redis.RedisError, OSError):
        return False


@dataclass
class LocalRedis:
    """A redis-server process of our own, with its data in ``data_dir`` (AOF, appendfsync always).

    Durable settings on purpose: a killed and restarted server keeps every acknowledged write,
    so the services' consumer groups and positions survive a crash.
    """

    data_dir: Path
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

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
        ]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + wait_seconds
        while time.monotonic() < deadline:
            if answers(self.url):
                return self
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited at start; see {self.data_dir / 'redis.log'}")
            time.sleep(0.05)
        raise RuntimeError(f"redis-server did not answer on port {self.port} within {wait_seconds}s")

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
    """What makes the Redis at ``url`` able to lose acknowledged entries (services.eventing.durability)."""
    import asyncio

    from redis.asyncio import Redis as AsyncRedis

    from services.eventing.durability import durability_problems

    async def check() -> list[str]:
        client = AsyncRedis.from_url(url, socket_connect_timeout=2)
        try:
            return await durability_problems(client)
        finally:
            await client.aclose()

    return asyncio.run(check())
