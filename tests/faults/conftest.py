"""Fault-suite fixtures: one deployment (real redis-server, five service processes) for the package.

Its services claim idle pending entries after 1 s (``REHAB_CLAIM_IDLE_SECONDS``), so a scenario that
kills a consumer sees its entries reclaimed quickly. Every scenario ends clean, so the next one
starts from a quiescent deployment.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.conftest import Deployment, stop_deployment
from tests.faults.support import start_deployment_with


@pytest.fixture(scope="package")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    running = start_deployment_with(tmp_path_factory.mktemp("faults"))
    yield running
    stop_deployment(running)
