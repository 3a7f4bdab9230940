"""How a service reaches Redis: one server by URL, the current primary of a Sentinel group, or a Cluster.

Both paths use the clients' own support, no fork: redis-py's ``Sentinel.master_for`` gives a client whose
``SentinelConnectionPool`` asks the Sentinels for the primary again on every new connection (and drops a
connection that finds a replica, ``READONLY``), and FastStream's ``RedisSentinelBroker`` builds its
subscribers' and publisher's client the same way. The ACL user, password and database still come from
``redis_url``; with Sentinels its host and port are not used. With ``cluster``, ``redis_url`` is one node
of a Redis Cluster and ``cluster_nodes`` may name more seed nodes, tried in turn when a service starts (one
down does not stop it): redis-py's ``RedisCluster`` and FastStream's ``RedisClusterBroker`` learn the others
and send each stream's commands to the node serving its slot; a command naming no key (PING, INFO, CONFIG GET)
goes to one node only, so the start-time checks ask each primary in turn (:func:`each_primary`).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from faststream.redis import RedisBroker, RedisClusterBroker, RedisSentinelBroker
from redis.asyncio import Redis
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.connection import parse_url
from redis.asyncio.sentinel import Sentinel
from redis.exceptions import RedisError

SOCKET_CONNECT_TIMEOUT = 2.0
SOCKET_TIMEOUT = 5.0
SENTINEL_TIMEOUT = 1.0
"""How long one Sentinel may take to answer before the next is asked (a killed host must not stall)."""


@dataclass(frozen=True)
class RedisAddress:
    """Where the service's Redis is: ``url`` alone, or ``sentinels`` naming ``group``'s primary."""

    url: str
    sentinels: tuple[tuple[str, int], ...] = ()
    group: str = "rehab"
    sentinel_password: str | None = None
    cluster: bool = False
    """``url`` is one node of a Redis Cluster: the clients learn the others and follow MOVED."""
    cluster_nodes: tuple[tuple[str, int], ...] = ()
    """More seed nodes of the cluster than ``url``'s, asked in turn at start if ``url``'s does not answer."""

    @classmethod
    def of(
        cls,
        url: str,
        sentinels: str | None,
        group: str = "rehab",
        sentinel_password: str | None = None,
        cluster: bool = False,
        cluster_nodes: str | None = None,
    ) -> RedisAddress:
        """From the settings: ``sentinels`` and ``cluster_nodes`` as ``host:port,host:port`` (empty or
        None: none)."""
        seeds = parse_addresses(cluster_nodes or "", "a Redis Cluster node")
        return cls(url, parse_sentinels(sentinels or ""), group, sentinel_password, cluster, seeds)

    @property
    def uses_sentinel(self) -> bool:
        return bool(self.sentinels)

    @property
    def hosts(self) -> list[str]:
        """The hosts the service connects to first (the Sentinels', else the URL's)."""
        if self.uses_sentinel:
            return [host for host, _port in self.sentinels]
        return [str(parse_url(self.url).get("host", ""))] if "://" in self.url else []

    def _sentinel_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "socket_timeout": SENTINEL_TIMEOUT,
            "socket_connect_timeout": SENTINEL_TIMEOUT,
        }
        if self.sentinel_password:
            kwargs["password"] = self.sentinel_password
        return kwargs


def parse_sentinels(text: str) -> tuple[tuple[str, int], ...]:
    """``"10.0.0.1:26379, 10.0.0.2:26379"`` -> ``(("10.0.0.1", 26379), ("10.0.0.2", 26379))``."""
    return parse_addresses(text, "a Sentinel")


def parse_addresses(text: str, what: str) -> tuple[tuple[str, int], ...]:
    """``host:port`` pairs separated by commas; ``what`` one of them is, for the error."""
    addresses = []
    for address in text.split(","):
        if not address.strip():
            continue
        host, separator, port = address.strip().rpartition(":")
        if not separator or not host or not port.isdigit():
            raise ValueError(f"{what} is host:port, not {address.strip()!r}")
        addresses.append((host.strip("[]"), int(port)))
    return tuple(addresses)


def redis_client(address: RedisAddress) -> Redis:
    """The service's own client (relay, reclaim, reconcile, retention, /health)."""
    if address.cluster:
        cluster = RedisCluster.from_url(
            address.url,
            startup_nodes=[ClusterNode(host, port) for host, port in address.cluster_nodes],
            socket_connect_timeout=SOCKET_CONNECT_TIMEOUT,
            socket_timeout=SOCKET_TIMEOUT,
        )
        # Not a subclass of Redis, but it has every command kernel.messaging sends: each names one key (a
        # stream, with its groups in the same key) or none (PING, INFO, CONFIG GET, ACL WHOAMI: redis-py
        # sends those to its default node, each_primary to every primary). tests/kernel/test_redis_cluster.py
        # runs them on a real cluster.
        return cluster  # type: ignore[return-value]
    if not address.uses_sentinel:
        return Redis.from_url(
            address.url, socket_connect_timeout=SOCKET_CONNECT_TIMEOUT, socket_timeout=SOCKET_TIMEOUT
        )
    sentinel = Sentinel(
        list(address.sentinels),
        sentinel_kwargs=address._sentinel_kwargs(),
        socket_connect_timeout=SOCKET_CONNECT_TIMEOUT,
        socket_timeout=SOCKET_TIMEOUT,
        **_credentials(address.url),
    )
    client: Redis = sentinel.master_for(address.group)
    return client


async def each_primary(redis: Redis | RedisCluster) -> list[tuple[str | None, dict[str, Any]]]:
    """Where a keyless command must run to tell about the whole deployment: one ``(node, options)`` per
    primary of a Redis Cluster, its address and the ``target_nodes`` option that sends a command there
    (redis-py's own routing); ``[(None, {})]`` for one server or a Sentinel group's primary.

    Replicas are not asked: one that is down does not stop the cluster, and a replica promoted later is
    checked when a service next starts (docs/runbook.md: every node carries the same settings).
    """
    if not isinstance(redis, RedisCluster):
        return [(None, {})]
    await redis.initialize()  # learns the nodes from the seed (no-op once done)
    return [(node.name, {"target_nodes": node}) for node in redis.get_primaries()]


def redis_broker(address: RedisAddress, logger: logging.Logger, log_level: int) -> RedisBroker:
    """FastStream's broker on the same Redis: a ``RedisSentinelBroker`` when Sentinels are named."""
    if address.cluster:
        return RedisClusterBroker(
            address.url,
            startup_nodes=address.cluster_nodes,
            socket_connect_timeout=SOCKET_CONNECT_TIMEOUT,
            logger=logger,
            log_level=log_level,
        )
    if not address.uses_sentinel:
        return RedisBroker(address.url, logger=logger, log_level=log_level)
    return RedisSentinelBroker(
        address.url,  # user, password and database; the host is the primary the Sentinels name
        sentinels=list(address.sentinels),
        sentinel_master_name=address.group,
        sentinel_kwargs=address._sentinel_kwargs(),
        socket_connect_timeout=SOCKET_CONNECT_TIMEOUT,
        logger=logger,
        log_level=log_level,
    )


async def follow_the_cluster(broker: RedisBroker, timeout: float = 1.0) -> None:
    """PING a cluster through FastStream's own client, so it notices a dead default node (call it every
    few seconds; nothing for one server or a Sentinel group).

    redis-py's ``RedisCluster`` asks its default node for the keys of every XREADGROUP (``COMMAND GETKEYS``:
    the keys follow ``STREAMS``) and replaces that node, reloading the slots, only when a command *sent to
    it* fails. A consumer that only reads streams other nodes serve would fail on the dead node forever; a
    PING goes to the default node, fails, and redis-py moves to a live one
    (tests/kernel/test_redis_cluster_failover.py).
    """
    if isinstance(broker, RedisClusterBroker):
        with contextlib.suppress(RedisError, OSError):  # the cluster is down: said by /health, tried again
            await broker.ping(timeout)


def _credentials(url: str) -> dict[str, Any]:
    """What of ``url`` applies to any primary: user, password, database."""
    parsed = parse_url(url)
    wanted: Sequence[str] = ("username", "password", "db")
    return {name: parsed[name] for name in wanted if parsed.get(name) is not None}  # type: ignore[literal-required]
