"""A Redis Sentinel group of real processes on 127.0.0.1 for tests: a primary, a replica and three Sentinels,
each a redis-server of its own on its own port (AOF with fsync always, noeviction, as the services demand)."""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import redis

from rehab.local_redis import free_port

HOST = "127.0.0.1"
GROUP = "rehab"
DOWN_AFTER_MS = 1000


class SentinelGroup:
    """Two data nodes (``ports[0]`` starts as primary) and three Sentinels watching them as ``GROUP``."""

    def __init__(self, folder: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed: run scripts/setup")
        self.binary = binary
        self.folder = folder
        self.ports = [free_port(), free_port()]
        self.sentinel_ports = [free_port(), free_port(), free_port()]
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    @property
    def sentinels(self) -> str:
        """``REHAB_REDIS_SENTINELS``: host:port,host:port,host:port."""
        return ",".join(f"{HOST}:{port}" for port in self.sentinel_ports)

    def start(self) -> SentinelGroup:
        self.start_node(0)
        self.start_node(1, replica_of=self.ports[0])
        for index in range(3):
            self.start_sentinel(index)
        wait_for(lambda: self.replica_in_sync(self.ports[0]), "the replica to sync with the primary")
        wait_for(lambda: self.primary_port() == self.ports[0], "the Sentinels to name the primary")
        return self

    def start_node(self, index: int, replica_of: int | None = None) -> None:
        data = self.folder / f"node-{index}"
        data.mkdir(parents=True, exist_ok=True)
        arguments = [
            *("--port", str(self.ports[index]), "--bind", HOST, "--dir", str(data)),
            *("--appendonly", "yes", "--appendfsync", "always", "--maxmemory-policy", "noeviction"),
            *("--save", "", "--replica-announce-ip", HOST),
        ]
        if replica_of is not None:
            arguments += ["--replicaof", HOST, str(replica_of)]
        self._start(f"node-{index}", arguments, self.ports[index])

    def start_sentinel(self, index: int) -> None:
        config = self.folder / f"sentinel-{index}.conf"  # Sentinel rewrites its file: one each, writable
        config.write_text(
            f"port {self.sentinel_ports[index]}\nbind {HOST}\ndir {self.folder}\n"
            f"sentinel announce-ip {HOST}\n"
            f"sentinel monitor {GROUP} {HOST} {self.ports[0]} 2\n"
            f"sentinel down-after-milliseconds {GROUP} {DOWN_AFTER_MS}\n"
            f"sentinel failover-timeout {GROUP} 5000\n"
            f"sentinel parallel-syncs {GROUP} 1\n"
        )
        self._start(f"sentinel-{index}", [str(config), "--sentinel"], self.sentinel_ports[index])

    def _start(self, name: str, arguments: list[str], port: int) -> None:
        log = (self.folder / f"{name}.log").open("wb")
        self.processes[name] = subprocess.Popen(
            [self.binary, *arguments], stdout=log, stderr=subprocess.STDOUT
        )
        wait_for(lambda: _answers(port), f"{name} to answer on port {port}")

    def primary_port(self) -> int | None:
        """The primary's port as a Sentinel answering now names it."""
        for port in self.sentinel_ports:
            try:
                with redis.Redis(host=HOST, port=port, socket_timeout=0.5) as sentinel:
                    address = sentinel.execute_command("SENTINEL", "get-master-addr-by-name", GROUP)
                    if address:
                        return int(address[1])
            except (redis.RedisError, OSError):
                continue
        return None

    def replica_in_sync(self, primary: int) -> bool:
        with redis.Redis(host=HOST, port=primary, socket_timeout=0.5) as client:
            info = client.info("replication")
        return int(info.get("connected_slaves", 0)) >= 1 and "online" in str(info.get("slave0", ""))

    def kill(self, name: str) -> None:
        """SIGKILL: no shutdown, no last fsync beyond what ``appendfsync always`` already did."""
        process = self.processes[name]
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def _answers(port: int) -> bool:
    try:
        with redis.Redis(host=HOST, port=port, socket_timeout=0.5, socket_connect_timeout=0.5) as client:
            return bool(client.ping())
    except (redis.RedisError, OSError):
        return False


def wait_for(condition: Callable[[], bool], what: str, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except (redis.RedisError, OSError):
            pass
        time.sleep(0.1)
    raise AssertionError(f"waited {seconds:.0f} s for {what}")
