"""How a service decides whether access control is on: REHAB_ACCESS_DIR, and production requires it."""

from __future__ import annotations

from pathlib import Path

import pytest

from kernel.service_settings import AccessConfigurationError, ServiceSettings
from services.survey.app import create_app
from tests.access.principals import Deployment


def test_production_refuses_to_start_without_an_access_directory(tmp_path: Path) -> None:
    settings = ServiceSettings(service="survey", var_dir=tmp_path, env="production")
    with pytest.raises(AccessConfigurationError, match="REHAB_ENV=production needs REHAB_ACCESS_DIR"):
        create_app(settings)


def test_an_access_directory_without_token_keys_is_refused_rather_than_locking_everyone_out(
    tmp_path: Path,
) -> None:
    (tmp_path / "access").mkdir()
    settings = ServiceSettings(service="survey", var_dir=tmp_path, access_dir=tmp_path / "access")
    with pytest.raises(AccessConfigurationError, match="no token public key"):
        create_app(settings)


def test_the_access_directory_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    Deployment(tmp_path / "access")
    monkeypatch.setenv("REHAB_ACCESS_DIR", str(tmp_path / "access"))
    app = create_app(ServiceSettings(service="survey", var_dir=tmp_path))
    assert app.state.access.agency == "survey"


def test_without_an_access_directory_outside_production_the_api_is_open(tmp_path: Path) -> None:
    app = create_app(ServiceSettings(service="survey", var_dir=tmp_path))
    assert not hasattr(app.state, "access")
