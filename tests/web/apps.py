"""Every service's app, built (not started) for tests that read its routes and documents."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fastapi import FastAPI

from kernel.runtime import ServiceSettings
from rehab.users import UserDirectory
from services.approval.app import create_app as approval
from services.assessment.app import create_app as assessment
from services.delivery.app import create_app as delivery
from services.settlement.app import create_app as settlement
from services.survey.app import create_app as survey

FACTORIES: dict[str, Callable[[ServiceSettings], FastAPI]] = {
    "survey": survey,
    "assessment": assessment,
    "approval": approval,
    "delivery": delivery,
    "settlement": settlement,
}
SERVICES = sorted(FACTORIES)


def service_app(service: str, directory: Path, *, access: bool = False) -> FastAPI:
    """The service's app on files under ``directory``; with access control when ``access``."""
    access_dir = None
    if access:
        access_dir = directory / "access"
        UserDirectory(access_dir).rotate_key()
    settings = ServiceSettings(service=service, var_dir=directory, access_dir=access_dir)
    return FACTORIES[service](settings)
