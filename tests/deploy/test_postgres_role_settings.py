"""roles.sql bounds how long a service's transaction may sit idle (a frozen process holding the outbox or
rows other instances wait for): a session of each role finds idle_in_transaction_session_timeout 30 s."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.deploy.test_bundle import DEPLOY, SERVICES


def test_every_role_roles_sql_makes_has_its_idle_transactions_ended_after_30_seconds() -> None:
    from tests.local_postgres import LocalPostgres, postgres_binaries

    if postgres_binaries() is None or shutil.which("psql") is None:
        pytest.skip("PostgreSQL is not installed here (scripts/setup installs it)")
    server = LocalPostgres().start()
    try:
        psql = ["psql", "-X", "-q", "-h", "127.0.0.1", "-p", str(server.port)]
        passwords = [f"-v{role}_password=pw" for role in [*SERVICES, "console"]]
        roles_sql = str(DEPLOY / "postgresql" / "roles.sql")
        subprocess.run(
            [*psql, "-U", "postgres", "-d", "postgres", *passwords, "-f", roles_sql], check=True, timeout=60
        )
        for role in [*SERVICES, "console"]:
            show = "SHOW idle_in_transaction_session_timeout"  # as the role: its settings apply at login
            shown = subprocess.run(
                [*psql, "-U", role, "-d", role, "-At", "-c", show],
                check=True,
                capture_output=True,
                text=True,
                timeout=60,
            ).stdout.split()
            assert shown == ["30s"], role
    finally:
        server.stop()
