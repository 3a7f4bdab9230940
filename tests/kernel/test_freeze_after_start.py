"""A service process leaves its app's own objects out of the cyclic collector's passes once started
(``gc.freeze``); an app made in a test process does not, or the apps' cycles would never be collected."""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kernel.runtime import FREEZE_AFTER_START, ServiceSettings, create_service_app
from kernel.web import logs
from rehab import cli_run
from rehab.local_redis import free_port


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()  # the test process's objects go back to the collector


def an_app(tmp_path: Path) -> FastAPI:
    settings = ServiceSettings(service="survey", var_dir=tmp_path, redis_url="redis://127.0.0.1:1/0")
    return create_service_app(
        settings, title="t", description="d", routers=[], publishes_to=None, subscriptions=[]
    )


def test_an_app_flagged_as_served_freezes_what_is_alive_once_started(tmp_path: Path, unfrozen) -> None:
    app = an_app(tmp_path)
    setattr(app.state, FREEZE_AFTER_START, True)
    with TestClient(app):
        assert gc.get_freeze_count() > 0


def test_an_app_made_without_the_flag_freezes_nothing(tmp_path: Path, unfrozen) -> None:
    with TestClient(an_app(tmp_path)):
        assert gc.get_freeze_count() == 0


def test_rehab_serve_flags_the_app_it_serves(tmp_path: Path, monkeypatch) -> None:
    served: list[FastAPI] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **_options: served.append(app))
    monkeypatch.setattr(logs, "configure_logging", lambda *_args: None)  # the test process keeps its own
    monkeypatch.setattr(logging.getLogger(), "level", logging.getLogger().level)

    cli_run.serve("survey", port=free_port(), redis_url="redis://127.0.0.1:1/0", var_dir=tmp_path)

    assert getattr(served[0].state, FREEZE_AFTER_START) is True
