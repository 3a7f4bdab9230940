"""Fault-suite fixtures: one deployment (real redis-server, five service processes) for the package.

Its services claim idle pending entries after 1 s (``REHAB_CLAIM_IDLE_SECONDS``), so a scenario that
kills a consumer sees its entries reclaimed quickly. Every scenario that passes ends clean, so the
next one starts from a quiescent deployment. One that fails may leave it anything but (an event
lost, a service paused or armed with a fault point): the deployment is then replaced by a fresh one,
so one failure is reported once instead of again by every scenario after it.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import Deployment, stop_deployment
from tests.faults.support import start_deployment_with

REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keep each phase's report on the test, for ``deployment`` to see whether the test failed."""
    report = yield
    item.stash.setdefault(REPORTS, {})[report.when] = report
    return report


class SharedDeployment:
    """The package's deployment, started again from scratch after a scenario failed on it."""

    def __init__(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        self.tmp_path_factory = tmp_path_factory
        self.current = self._start()

    def _start(self) -> Deployment:
        var_dir: Path = self.tmp_path_factory.mktemp("faults")
        return start_deployment_with(var_dir)

    def replace(self) -> None:
        stop_deployment(self.current)
        self.current = self._start()

    def stop(self) -> None:
        stop_deployment(self.current)


@pytest.fixture(scope="package")
def shared_deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SharedDeployment]:
    shared = SharedDeployment(tmp_path_factory)
    yield shared
    shared.stop()


@pytest.fixture
def deployment(shared_deployment: SharedDeployment, request: pytest.FixtureRequest) -> Iterator[Deployment]:
    """The shared deployment; replaced by a fresh one when the scenario using it failed."""
    yield shared_deployment.current
    reports = request.node.stash.get(REPORTS, {})
    if any(report.failed for report in reports.values()):
        shared_deployment.replace()
