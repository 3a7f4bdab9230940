"""HTTP API of personal data: forget a person 删除个人信息, and release data keys to entitled agencies."""

from __future__ import annotations

import logging
from datetime import date
from uuid import UUID

from fastapi import APIRouter, FastAPI, Request
from pydantic import BaseModel, Field

from services.eventing.access import OTHER_AGENCIES, PERSONAL_DATA, Caller, require_role
from services.eventing.auth import Role
from services.eventing.clock import today
from services.eventing.errors import NotFound
from services.eventing.http import Runtime
from services.survey import handlers, keys
from services.survey.privacy import KeyDestroyed, key_release_of

log = logging.getLogger(__name__)
router = APIRouter(tags=["personal data"])


class Forgotten(BaseModel):
    person_id: UUID
    forgotten_on: date = Field(description="Day the data key was destroyed.")
    key_id: str | None = Field(description="The destroyed key; null for a person registered before sealing.")


class ReleasedKey(BaseModel):
    person_id: UUID
    key_id: str = Field(
        description="Id of the data key, as named in the sealed fields.", examples=["pdk-3f9a1c0b7d2e4f51"]
    )
    key: str = Field(description="The 256-bit AES key in standard base64: keep it in memory only.")


@router.post(
    "/persons/{person_id}/forget",
    response_model=Forgotten,
    summary="删除个人信息: destroy the person's data key; their details read （已删除） from now on",
)
def forget_person(person_id: UUID, runtime: Runtime, caller: Caller) -> Forgotten:
    require_role(caller, Role.RESPONSIBLE)
    key_id = handlers.forget_person(runtime.store, person_id)
    runtime.committed()
    log.info("person %s forgotten: data key %s destroyed", person_id, key_id)
    return Forgotten(person_id=person_id, forgotten_on=today(), key_id=key_id)


def get_data_key(person_id: UUID, request: Request, runtime: Runtime) -> ReleasedKey:
    principal = key_release_of(request).authorise(request)
    with runtime.store.reading() as unit:
        key = keys.key_of(unit.session, person_id)
    if key is not None:
        log.info("data key of person %s released to %s (%s)", person_id, principal.agency, principal.user)
        return ReleasedKey(person_id=person_id, key_id=key.key_id, key=key.secret_text())
    person, _ = handlers.load_person(runtime.store, person_id)  # 404 for an unknown person
    if person.forgotten:
        raise KeyDestroyed(
            f"此人（{person_id}）的个人信息已删除", field="person_id", code="survey.data_key.destroyed"
        )
    raise NotFound(
        f"此人（{person_id}）登记于加密之前，个人信息没有密钥", field="person_id", code="survey.data_key.none"
    )


def add_key_release(app: FastAPI) -> None:
    """Serve ``GET /persons/{person_id}/data-key`` on the app itself, not through an included router.

    The access middleware reads the route's marks before routing, and in this FastAPI an included
    router hides its routes' ``openapi_extra`` from it; a route of the app's own is seen.
    """
    app.add_api_route(
        "/persons/{person_id}/data-key",
        get_data_key,
        methods=["GET"],
        response_model=ReleasedKey,
        tags=["personal data"],
        summary="The person's data key, for an agency entitled to their personal data (bearer token)",
        openapi_extra={**PERSONAL_DATA, **OTHER_AGENCIES},  # entitlement is checked here, not by agency
    )
