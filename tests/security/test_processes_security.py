"""What `rehab up`/`rehab demo` (rehab/processes.py) give each service: keys, demo mode, its Redis user."""

from __future__ import annotations

from pathlib import Path

import pytest

from rehab.keys import key_ids
from rehab.local_redis import LocalRedis
from rehab.processes import SERVICES, ServiceProcesses


def test_a_local_deployment_signs_with_keys_under_its_var_dir_in_demo_mode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REHAB_KEYS_DIR", raising=False)
    monkeypatch.delenv("REHAB_DEMO", raising=False)
    services = ServiceProcesses(tmp_path, "redis://127.0.0.1:6379/0")
    assert services._security_env("approval") == {"REHAB_KEYS_DIR": str(tmp_path / "keys"), "REHAB_DEMO": "1"}


def test_a_service_with_its_own_redis_user_is_not_put_in_demo_mode(tmp_path: Path) -> None:
    redis = LocalRedis(tmp_path / "redis", 6399)
    services = ServiceProcesses.with_agency_users(tmp_path, redis)
    assert services.redis_urls["approval"] == "redis://approval:approval-demo-password@127.0.0.1:6399/0"
    assert "REHAB_DEMO" not in services._security_env("approval")


def test_an_explicit_rehab_demo_or_keys_dir_in_the_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REHAB_DEMO", "0")
    monkeypatch.setenv("REHAB_KEYS_DIR", str(tmp_path / "elsewhere"))
    services = ServiceProcesses(tmp_path, "redis://127.0.0.1:6379/0")
    assert services._security_env("survey") == {"REHAB_KEYS_DIR": str(tmp_path / "elsewhere")}


def test_starting_generates_the_missing_keys_of_every_agency_once(tmp_path: Path) -> None:
    services = ServiceProcesses(tmp_path, "redis://127.0.0.1:1/0", keys_dir=tmp_path / "keys", services=())
    services.start(timeout=1)
    first = {agency: key_ids(tmp_path / "keys", agency) for agency in SERVICES}
    services.start(timeout=1)

    assert all(len(ids) == 1 for ids in first.values())
    assert {agency: key_ids(tmp_path / "keys", agency) for agency in SERVICES} == first


def test_unsigned_deployments_get_no_keys(tmp_path: Path) -> None:
    services = ServiceProcesses(tmp_path, "redis://127.0.0.1:1/0", sign_events=False, services=())
    services.start(timeout=1)
    assert not (tmp_path / "keys").exists()
    assert "REHAB_KEYS_DIR" not in services._security_env("survey")
