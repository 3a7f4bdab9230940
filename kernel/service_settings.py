"""How a service process is configured (``REHAB_*``), and the access control and key ring it names."""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import urlparse

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from kernel.access.access import AccessControl
from kernel.access.auth import TokenVerifier, load_public_keys
from kernel.deployment import load_deployment
from kernel.messaging.connection import (
    RedisAddress,
    parse_sentinels,
)
from kernel.messaging.consumer import ConsumerSettings
from kernel.messaging.signing import KeyMaterialError, KeyRing
from kernel.web.limits import DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_UPLOAD_BYTES

log = logging.getLogger(__name__)


LOCAL_HOSTS = {"127.0.0.1", "::1", "localhost"}


PRODUCTION = "production"


class ServiceSettings(BaseSettings):
    """How one service process runs. Every field can be set by a ``REHAB_`` environment variable."""

    model_config = SettingsConfigDict(env_prefix="REHAB_", extra="ignore")

    service: str = Field(description="Which agency service this process is.")
    var_dir: Path = Field(default=Path("var"), description="Where SQLite files live by default.")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL of the service's own store; default SQLite in var_dir."
    )
    redis_url: str = Field(default="redis://127.0.0.1:6379/0", description="The shared Redis.")
    redis_sentinels: str | None = Field(
        default=None,
        description="host:port,host:port of Redis Sentinels: connect to the current primary of "
        "redis_sentinel_group through them and follow a failover (redis_url then gives only the user, "
        "password and database). Unset: redis_url's server.",
    )
    redis_sentinel_group: str = Field(default="rehab", description="The Sentinels' name of the primary.")
    redis_sentinel_password: str | None = Field(
        default=None, description="The Sentinels' own password (requirepass), if they have one."
    )
    redis_cluster: bool = Field(
        default=False, description="redis_url is one node of a Redis Cluster (redis-py's RedisCluster)."
    )
    redis_cluster_nodes: str | None = Field(
        default=None,
        description="host:port,host:port of more seed nodes of the Redis Cluster than redis_url's: asked "
        "in turn at start, so one node down does not stop a service from starting (redis_cluster only).",
    )
    host: str = Field(default="127.0.0.1")
    port: int | None = Field(default=None, description="HTTP port; default from deploy/services.toml.")
    allow_volatile_redis: bool = Field(
        default=False,
        description="Run even on a Redis that may lose acknowledged entries (no AOF, eviction): demos only.",
    )
    keys_dir: Path | None = Field(
        default=None,
        description="Event-signing keys (rehab keys): sign what this service publishes with its own newest "
        "key and dead-letter consumed events not signed by their producer. Unset: events travel unsigned.",
    )
    demo: bool | None = Field(
        default=None,
        description="Demo mode: may run as Redis's default user. Unset: on for a Redis on this machine "
        "(loopback), off otherwise; always off when env is 'production'.",
    )
    env: str = Field(
        default="development",
        description="'production' makes the start-time checks strict: no default Redis user, keys and "
        "access control required.",
    )
    access_dir: Path | None = Field(
        default=None,
        description="Token public keys (*.pub.pem, as `rehab users` writes them): every request then needs "
        "a bearer token of this agency or an auditor, and reads of personal data are audited. Unset: the "
        "API is open to whoever reaches its port (tests, a local demo).",
    )
    idempotency_key_days: float = Field(
        default=30.0,
        gt=0,
        description="How long an Idempotency-Key (and the response kept with it) answers retries; "
        "older keys are deleted every hour.",
    )
    max_body_bytes: int = Field(
        default=DEFAULT_MAX_BODY_BYTES, gt=0, description="Largest request body accepted (413 above)."
    )
    max_upload_bytes: int = Field(
        default=DEFAULT_MAX_UPLOAD_BYTES, gt=0, description="Largest multipart/form-data upload accepted."
    )
    migrate_at_start: bool = Field(
        default=True,
        description="Apply the store's pending migrations at start-up, under the schema lock (ADR 0018). "
        "Off: an operator migrates (alembic); until then /health is not ready.",
    )
    ready_max_consumer_lag: int | None = Field(
        default=10_000,
        ge=0,
        description="/health is not ready while a consumed stream has more entries than this not yet "
        "delivered to the service's group (Redis's group lag). 'none': no bound.",
    )
    ready_max_dead_letters: int | None = Field(
        default=100,
        ge=0,
        description="/health is not ready while more entries than this wait on the service's dead-letter "
        "stream (`rehab dlq`). 'none': no bound.",
    )

    @field_validator("ready_max_consumer_lag", "ready_max_dead_letters", mode="before")
    @classmethod
    def _none_is_no_bound(cls, value: object) -> object:
        return None if isinstance(value, str) and value.strip().lower() in ("", "none") else value

    @field_validator("redis_sentinels")
    @classmethod
    def _sentinels_are_host_port_pairs(cls, sentinels: str | None) -> str | None:
        parse_sentinels(sentinels or "")  # refused at start, not at the first connection
        return sentinels

    @property
    def store_url(self) -> str:
        if self.database_url:
            return self.database_url
        self.var_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{self.var_dir / (self.service + '.db')}"

    @property
    def http_port(self) -> int:
        return self.port if self.port is not None else load_deployment().spec(self.service).port

    @property
    def production(self) -> bool:
        return self.env.strip().lower() == PRODUCTION

    @property
    def demo_mode(self) -> bool:
        """May the service run as Redis's default user? See ``demo``."""
        if self.production:
            return False
        if self.demo is not None:
            return self.demo
        if self.redis_address.uses_sentinel:
            return all(host in LOCAL_HOSTS for host in self.redis_address.hosts)
        parsed = urlparse(self.redis_url)
        return parsed.scheme == "unix" or (parsed.hostname or "") in LOCAL_HOSTS

    @property
    def redis_address(self) -> RedisAddress:
        """Where Redis is: ``redis_url``, or the primary the ``redis_sentinels`` name."""
        return RedisAddress.of(
            self.redis_url,
            self.redis_sentinels,
            self.redis_sentinel_group,
            self.redis_sentinel_password,
            self.redis_cluster,
            self.redis_cluster_nodes,
        )


class AccessConfigurationError(Exception):
    """Access control is required (production) or configured, but cannot be set up."""


def load_access_control(settings: ServiceSettings) -> AccessControl | None:
    """The service's access control from ``access_dir``; None (open API) only outside production."""
    if settings.access_dir is None:
        if settings.production:
            raise AccessConfigurationError(
                "REHAB_ENV=production needs REHAB_ACCESS_DIR (the token public keys `rehab users` writes): "
                "without it the HTTP API would be open to whoever reaches its port"
            )
        return None
    public_keys = load_public_keys(settings.access_dir)
    if not public_keys:
        raise AccessConfigurationError(
            f"no token public key (*.pub.pem) in REHAB_ACCESS_DIR={settings.access_dir}: run "
            "`rehab users rotate-key` there, or copy the deployment's public keys into it"
        )
    return AccessControl(
        settings.service,
        TokenVerifier(public_keys),
        command_scopes=load_deployment().spec(settings.service).command_scopes or frozenset(),
    )


def load_keyring(settings: ServiceSettings, publishes: bool) -> KeyRing | None:
    """The service's key ring, None when no keys are configured; KeyMaterialError when unusable."""
    if settings.keys_dir is None:
        if settings.production:
            raise KeyMaterialError("REHAB_ENV=production needs REHAB_KEYS_DIR: events would travel unsigned")
        return None
    keyring = KeyRing.from_directory(settings.keys_dir, settings.service)
    if publishes and keyring.signing_key is None:
        raise KeyMaterialError(
            f"no private key of {settings.service} in {settings.keys_dir}: run "
            f"`rehab keys generate --agency {settings.service} --dir {settings.keys_dir}`"
        )
    return keyring


def batch_size(settings: ServiceSettings) -> int | None:
    """Entries the service's consumer reads at a time: ``REHAB_MAX_RECORDS``, else its ``batch_size`` in
    deploy/services.toml, else None (the consumer's default)."""
    return ConsumerSettings().max_records or load_deployment().spec(settings.service).batch_size
