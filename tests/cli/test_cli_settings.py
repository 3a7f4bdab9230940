"""`rehab` reads its ``REHAB_*`` variables through one settings object: a wrong one ends the command
naming the variable (exit 2), an empty one counts as unset (issue 18)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rehab.cli_failures import ExitCode
from rehab.settings import OperatorSettings
from tests.cli.runner import rehab


def test_a_malformed_variable_ends_the_command_naming_it(tmp_path: Path) -> None:
    settings = {"REHAB_KEYS_DIR": str(tmp_path), "REHAB_ALLOW_VOLATILE_REDIS": "maybe"}
    ran = rehab("keys", "list", env=settings)
    assert ran.code == ExitCode.USAGE
    assert "环境变量 REHAB_ALLOW_VOLATILE_REDIS='maybe' 无效：应为 true 或 false" in ran.err
    assert "Traceback" not in ran.err


def test_the_access_folder_follows_the_var_folder_unless_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REHAB_ACCESS_DIR", raising=False)
    monkeypatch.setenv("REHAB_VAR_DIR", "/srv/rehab/var")
    assert OperatorSettings().access_folder == Path("/srv/rehab/var/access")
    monkeypatch.setenv("REHAB_ACCESS_DIR", "/srv/rehab/users")
    assert OperatorSettings().access_folder == Path("/srv/rehab/users")


def test_an_empty_var_dir_counts_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REHAB_VAR_DIR", "")
    assert OperatorSettings().var_dir == Path("var")


def test_verify_reads_each_services_store_from_its_own_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REHAB_DATABASE_URL_SETTLEMENT", "postgresql://ledger")
    configured = OperatorSettings()
    assert configured.store_url_of("settlement") == "postgresql://ledger"
    assert configured.store_url_of("survey") is None
