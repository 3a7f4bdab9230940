"""A Redis Cluster of real processes on 127.0.0.1 for tests: ``count`` primaries sharing the 16384 slots
evenly, optionally each with ``replicas_each`` replicas (CLUSTER REPLICATE) that take over when it dies; every
node a redis-server in cluster mode on its own port (AOF with fsync always, noeviction)."""

from __future__ import annotations

import shutil
import signal
import subprocess
from functools import partial
from pathlib import Path

import redis
from redis.cluster import key_slot

from rehab.local_redis import free_port
from tests.kernel.redis_sentinel_group import HOST, wait_for

SLOTS = 16384
REPLICATION_USER = "replication"
REPLICATION_PASSWORD = "replication-password"
REPLICATION_RIGHTS = ("+psync", "+replconf", "+ping")
"""What a replica's link to its primary needs: its own ACL user, so a test can cut one link for good."""
NODE_TIMEOUT_MS = 1000
"""``cluster-node-timeout``: a primary unreachable this long is failed over by its replica (~2 s here)."""


class RedisClusterNodes:
    """``count`` primaries that met each other and share the slots evenly; node ``i`` is primary ``i`` for
    ``i < count``, the others replicate the primaries in turn.

    With ``first_serves``, primary 0's slots (from slot 0: redis-py's default node, which also answers its
    COMMAND GETKEYS) reach that key's slot, the others sharing the rest.
    """

    def __init__(
        self, folder: Path, count: int = 3, replicas_each: int = 0, first_serves: str | None = None
    ) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed: run scripts/setup")
        self.binary = binary
        self.folder = folder
        self.count = count
        self.first_serves = first_serves
        nodes = count * (1 + replicas_each)
        self.ports = [free_port() for _ in range(nodes)]
        self.bus_ports = [free_port() for _ in range(nodes)]
        self.processes: dict[int, subprocess.Popen[bytes]] = {}

    @property
    def url(self) -> str:
        """One node's URL: ``REHAB_REDIS_URL`` with ``REHAB_REDIS_CLUSTER=1``."""
        return f"redis://{HOST}:{self.ports[0]}/0"

    def start(self) -> RedisClusterNodes:
        for index in range(len(self.ports)):
            self._start_node(index)
        firsts = self._first_slots()
        for index, port in enumerate(self.ports):
            with redis.Redis(host=HOST, port=port) as node:
                if index < self.count:
                    last = SLOTS - 1 if index == self.count - 1 else firsts[index + 1] - 1
                    node.execute_command("CLUSTER", "ADDSLOTSRANGE", firsts[index], last)
                if index > 0:  # everyone meets node 0; gossip introduces the rest
                    node.execute_command("CLUSTER", "MEET", HOST, self.ports[0], self.bus_ports[0])
        wait_for(self._all_known, "every node to know every other")
        for index in range(self.count, len(self.ports)):
            primary = self.node_id(self.ports[index % self.count])
            with redis.Redis(host=HOST, port=self.ports[index]) as node:
                node.execute_command("CLUSTER", "REPLICATE", primary)
        wait_for(self._ok, "the cluster to agree (cluster_state:ok, every replica in sync)")
        return self

    def _first_slots(self) -> list[int]:
        """The first slot of each primary's range."""
        share = SLOTS // self.count
        if self.first_serves is None:
            return [index * share for index in range(self.count)]
        second = max(share, key_slot(self.first_serves.encode()) + 1)
        rest = (SLOTS - second) // (self.count - 1)
        return [0, *(second + index * rest for index in range(self.count - 1))]

    def _start_node(self, index: int) -> None:
        data = self.folder / f"node-{index}"
        data.mkdir(parents=True, exist_ok=True)
        arguments = [
            *("--port", str(self.ports[index]), "--bind", HOST, "--dir", str(data), "--logfile", "redis.log"),
            *("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"),
            *("--cluster-port", str(self.bus_ports[index])),  # port + 10000 may be taken
            *("--cluster-node-timeout", str(NODE_TIMEOUT_MS)),
            *("--cluster-replica-validity-factor", "0"),  # a replica always may take over
            *("--appendonly", "yes", "--appendfsync", "always", "--maxmemory-policy", "noeviction"),
            *("--save", ""),
            *("--masteruser", REPLICATION_USER, "--masterauth", REPLICATION_PASSWORD),
        ]
        self.processes[index] = subprocess.Popen([self.binary, *arguments])
        wait_for(partial(_answers, self.ports[index]), f"node {index} to answer")
        with redis.Redis(host=HOST, port=self.ports[index]) as node:
            node.acl_setuser(
                REPLICATION_USER,
                enabled=True,
                passwords=[f"+{REPLICATION_PASSWORD}"],
                commands=REPLICATION_RIGHTS,
            )

    def node_id(self, port: int) -> str:
        with redis.Redis(host=HOST, port=port, decode_responses=True) as node:
            return str(node.execute_command("CLUSTER", "MYID"))

    def _all_known(self) -> bool:
        return all(
            f"cluster_known_nodes:{len(self.ports)}" in _cluster_info(port) for port in self._running_ports()
        )

    def _ok(self) -> bool:
        if not all("cluster_state:ok" in _cluster_info(port) for port in self._running_ports()):
            return False
        return all(self._in_sync(self.ports[index]) for index in range(self.count, len(self.ports)))

    def _in_sync(self, port: int) -> bool:
        with redis.Redis(host=HOST, port=port, decode_responses=True) as node:
            info = node.info("replication")
        return info.get("role") == "slave" and info.get("master_link_status") == "up"

    def _running_ports(self) -> list[int]:
        return [self.ports[index] for index, process in self.processes.items() if process.poll() is None]

    def primary_port_of(self, key: str) -> int:
        """The port of the node serving ``key``'s slot now, as a node still running tells it."""
        return self.primary_port_of_slot(key_slot(key.encode()))

    def primary_port_of_slot(self, slot: int) -> int:
        """The port of the node serving ``slot`` now, as a node still running tells it."""
        for port in self._running_ports():
            try:
                with redis.Redis(host=HOST, port=port, decode_responses=True, socket_timeout=0.5) as node:
                    ranges = node.execute_command("CLUSTER", "SLOTS")
            except (redis.RedisError, OSError):
                continue
            for first, last, primary, *_replicas in ranges:
                if int(first) <= slot <= int(last):
                    return int(primary[1])
        raise AssertionError(f"no running node tells who serves slot {slot}")

    def replica_ports_of(self, primary_port: int) -> list[int]:
        """The ports of the replicas following the primary on ``primary_port``."""
        primary = self.node_id(primary_port)
        with redis.Redis(host=HOST, port=primary_port, decode_responses=True) as node:
            replicas = node.execute_command("CLUSTER", "REPLICAS", primary)
        return [int(line.split()[1].split("@")[0].rsplit(":", 1)[1]) for line in replicas]

    def cut_replication(self, primary_port: int) -> None:
        """Disconnect the primary on ``primary_port`` from its replicas for good (their replication user is
        deleted there): what it acknowledges from now on lives on it alone, as when it dies before
        replicating its last writes (Redis replicates asynchronously)."""
        replicas = self.replica_ports_of(primary_port)
        with redis.Redis(host=HOST, port=primary_port) as node:
            node.acl_deluser(REPLICATION_USER)  # closes the replicas' links, refuses them again
        wait_for(lambda: not any(self._in_sync(port) for port in replicas), "the replicas to lose their link")

    def kill(self, port: int) -> None:
        """SIGKILL the node on ``port``: no shutdown, nothing kept but what ``appendfsync always`` wrote."""
        process = self.processes[self.ports.index(port)]
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


def _cluster_info(port: int) -> str:
    with redis.Redis(host=HOST, port=port, decode_responses=True, socket_timeout=0.5) as node:
        return str(node.execute_command("CLUSTER", "INFO"))


def _answers(port: int) -> bool:
    with redis.Redis(host=HOST, port=port, socket_timeout=0.5, socket_connect_timeout=0.5) as node:
        return bool(node.ping())
