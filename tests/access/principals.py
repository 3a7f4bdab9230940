"""Users and bearer tokens of a test deployment, and service apps built with access control on."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from kernel.access.audit import AuditEntry
from kernel.access.auth import Agency, Role, Scope
from kernel.runtime import ServiceSettings
from rehab.users import User, UserDirectory
from tests.apps import state_of


class Deployment:
    """A token key and its users in one access directory, as `rehab users` keeps them."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.directory = UserDirectory(folder)
        self.directory.rotate_key()

    def bearer(self, name: str, agency: str, scope: str, *roles: str) -> dict[str, str]:
        """Authorization header of a user added with these agency, scope and roles (staff when none)."""
        granted = frozenset(Role(role) for role in roles or ("staff",))
        self.directory.add(User(name, Agency(agency), granted, Scope.parse(scope)))
        token = self.directory.issue_token(name, lifetime=timedelta(hours=1))
        return {"Authorization": f"Bearer {token}"}

    def auditor(self) -> dict[str, str]:
        return self.bearer("审计员", "audit", "district", "auditor")


@contextmanager
def served(
    create_app: Callable[[ServiceSettings], FastAPI], service: str, folder: Path, redis_url: str, access: Path
) -> Iterator[TestClient]:
    """The service's app with its own SQLite store, the shared Redis and access control on."""
    settings = ServiceSettings(
        service=service,
        database_url=f"sqlite:///{folder}/{service}.db",
        redis_url=redis_url,
        access_dir=access,
    )
    with TestClient(create_app(settings)) as client:
        yield client


def audit_entries(client: TestClient, **filters: Any) -> list[AuditEntry]:
    return list(state_of(client).audit_trail.entries(**filters))


def code_of(response: Any) -> str:
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    return str(response.json()["code"])
