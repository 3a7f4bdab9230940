"""The agency services of a deployment, listed once as data (deploy/services.toml): names, default ports,
who consumes whose stream and who may send commands. The kernel and the CLI read them; neither names them."""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from kernel.config import RehabSettings

SERVICES_FILE = Path(__file__).resolve().parents[1] / "deploy" / "services.toml"
SERVICES_VARIABLE = "REHAB_SERVICES_FILE"
"""Environment variable naming another services file (a deployment that runs a different set)."""


class ServiceSpec(BaseModel):
    """One agency's service: its name (also its Redis stream's producer), default port and consumers."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[a-z][a-z_]*$", description="The service's name, e.g. survey.")
    title: str = Field(description="Who runs it and what it does, for people reading the file.")
    port: int = Field(ge=1, le=65535, description="Default HTTP port when all run on one machine.")
    subscribes_to: tuple[str, ...] = Field(default=(), description="Services whose events it consumes.")
    command_scopes: frozenset[str] | None = Field(
        default=None, description="Scope kinds whose users may send it commands; None: every scope."
    )
    batch_size: int | None = Field(
        default=None,
        ge=1,
        le=10_000,
        description="Entries its consumer reads and applies in one transaction (REHAB_MAX_RECORDS overrides "
        "it); None: the kernel's default (kernel.messaging.consumer.DEFAULT_MAX_RECORDS).",
    )


class Deployment(BaseModel):
    """Every service of the deployment, in the order of the workflow."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    service: tuple[ServiceSpec, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Deployment:
        names = [spec.name for spec in self.service]
        if len(set(names)) != len(names):
            raise ValueError(f"a service is listed twice: {names}")
        if len({spec.port for spec in self.service}) != len(names):
            raise ValueError("two services share a default port")
        for spec in self.service:
            unknown = set(spec.subscribes_to) - set(names)
            if unknown:
                raise ValueError(f"{spec.name} subscribes to unknown services {sorted(unknown)}")
        return self

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(spec.name for spec in self.service)

    @property
    def ports(self) -> dict[str, int]:
        return {spec.name: spec.port for spec in self.service}

    @property
    def subscriptions(self) -> dict[str, tuple[str, ...]]:
        """Consumer service -> the producers whose streams it consumes (consumers only)."""
        return {spec.name: spec.subscribes_to for spec in self.service if spec.subscribes_to}

    def spec(self, name: str) -> ServiceSpec:
        for spec in self.service:
            if spec.name == name:
                return spec
        raise LookupError(f"no service named {name!r} in this deployment ({', '.join(self.names)})")


class DeploymentInvalid(Exception):
    """The services file cannot be read or does not describe a deployment."""


class DeploymentSettings(RehabSettings):
    """Where the deployment's services are listed."""

    services_file: Path = SERVICES_FILE
    """``REHAB_SERVICES_FILE``: the services file; default ``deploy/services.toml``."""


def services_file() -> Path:
    return DeploymentSettings().services_file


@cache
def load_deployment(path: Path | None = None) -> Deployment:
    """Read and check the services file (default deploy/services.toml, or ``$REHAB_SERVICES_FILE``)."""
    path = path or services_file()
    try:
        with path.open("rb") as handle:
            return Deployment.model_validate(tomllib.load(handle))
    except (OSError, tomllib.TOMLDecodeError, ValidationError) as error:
        raise DeploymentInvalid(f"服务清单 {path} 无法使用: {error}") from error
