"""A Redis Cluster of real processes on 127.0.0.1 for tests: three primaries, each a redis-server in cluster
mode on its own port (AOF with fsync always, noeviction), the 16384 slots split between them."""

from __future__ import annotations

import shutil
import subprocess
from functools import partial
from pathlib import Path

import redis

from rehab.local_redis import free_port
from tests.kernel.redis_sentinel_group import HOST, wait_for

SLOTS = 16384


class RedisClusterNodes:
    """``count`` primaries that met each other and share the slots evenly."""

    def __init__(self, folder: Path, count: int = 3) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed: run scripts/setup")
        self.binary = binary
        self.folder = folder
        self.ports = [free_port() for _ in range(count)]
        self.bus_ports = [free_port() for _ in range(count)]
        self.processes: list[subprocess.Popen[bytes]] = []

    @property
    def url(self) -> str:
        """One node's URL: ``REHAB_REDIS_URL`` with ``REHAB_REDIS_CLUSTER=1``."""
        return f"redis://{HOST}:{self.ports[0]}/0"

    def start(self) -> RedisClusterNodes:
        for index, (port, bus_port) in enumerate(zip(self.ports, self.bus_ports, strict=True)):
            data = self.folder / f"node-{index}"
            data.mkdir(parents=True, exist_ok=True)
            arguments = [
                *("--port", str(port), "--bind", HOST, "--dir", str(data), "--logfile", "redis.log"),
                *("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"),
                *("--cluster-port", str(bus_port)),  # port + 10000 may be taken
                *("--appendonly", "yes", "--appendfsync", "always", "--maxmemory-policy", "noeviction"),
            ]
            self.processes.append(subprocess.Popen([self.binary, *arguments]))
            wait_for(partial(_answers, port), f"node {index} to answer")
        share = SLOTS // len(self.ports)
        for index, port in enumerate(self.ports):
            last = SLOTS - 1 if index == len(self.ports) - 1 else (index + 1) * share - 1
            with redis.Redis(host=HOST, port=port) as node:
                node.execute_command("CLUSTER", "ADDSLOTSRANGE", index * share, last)
                for other_port, other_bus in zip(self.ports, self.bus_ports, strict=True):
                    if other_port != port:
                        node.execute_command("CLUSTER", "MEET", HOST, other_port, other_bus)
        wait_for(self._ok, "the cluster to agree (cluster_state:ok on every node)")
        return self

    def _ok(self) -> bool:
        for port in self.ports:
            with redis.Redis(host=HOST, port=port, decode_responses=True) as node:
                info = node.execute_command("CLUSTER", "INFO")
                text = info if isinstance(info, str) else str(info)
                if "cluster_state:ok" not in text or f"cluster_known_nodes:{len(self.ports)}" not in text:
                    return False
        return True

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def _answers(port: int) -> bool:
    with redis.Redis(host=HOST, port=port, socket_timeout=0.5, socket_connect_timeout=0.5) as node:
        return bool(node.ping())
