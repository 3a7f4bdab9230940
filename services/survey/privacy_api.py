"""HTTP API of personal data: forget a person 删除个人信息, and release data keys to entitled agencies."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any
from uuid import UUID

from fastapi import APIRouter, FastAPI, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from kernel.access.access import OTHER_AGENCIES, PERSONAL_DATA, Caller, require_role
from kernel.access.auth import Principal, Role
from kernel.access.scopes import require_area
from kernel.domain.clock import today
from kernel.domain.rejections import CommandRejected, NotFound
from kernel.http import Command, Runtime
from kernel.store.keyed import IDEMPOTENCY_KEY_HEADER
from services.survey import handlers, keys
from services.survey.domain import Person
from services.survey.key_release import (
    MAX_PERSONS_PER_RELEASE,
    areas_of,
    audit_release,
    release_keys,
    require_scope_covers,
)
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


class KeyReleaseRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    person_ids: list[UUID] = Field(
        min_length=1,
        max_length=MAX_PERSONS_PER_RELEASE,
        description=f"Persons whose keys are wanted, at most {MAX_PERSONS_PER_RELEASE}; repeats count once.",
        examples=[["6f1c2a9e-4b7d-4c1e-9a55-2d8f0e3b7c41"]],
    )


class ReleasedKeys(BaseModel):
    keys: list[ReleasedKey] = Field(description="The keys released, in the order asked.")
    forgotten: list[UUID] = Field(description="Persons forgotten 删除个人信息: their keys are gone for good.")
    without_key: list[UUID] = Field(
        description="Persons registered before sealing (schema v1): their details travel in clear."
    )
    unknown: list[UUID] = Field(description="Ids the registry never registered.")


@router.post(
    "/persons/{person_id}/forget",
    response_model=Forgotten,
    summary="删除个人信息: destroy the person's data key; their details read （已删除） from now on",
)
def forget_person(person_id: UUID, command: Command, caller: Caller) -> Response:
    require_role(caller, Role.RESPONSIBLE)
    with command.unit() as unit:
        key_id = handlers.forget(unit, person_id, _in_area_of(caller))
        answer = command.answer(Forgotten(person_id=person_id, forgotten_on=today(), key_id=key_id))
    keys.erase_from_log(command.runtime.store.engine)  # the key's old page leaves the write-ahead log
    log.info("person %s forgotten: data key %s destroyed", person_id, key_id)
    return answer


def _in_area_of(caller: Principal | None) -> handlers.Guard:
    """The person must be registered in the caller's street (community): 403 otherwise (issue 14)."""

    def check(person: Person) -> None:
        if caller is not None and person.details is not None:
            require_area(caller, person.details.street, person.details.community)

    return check


def get_data_key(person_id: UUID, request: Request, runtime: Runtime) -> ReleasedKey:
    principal = key_release_of(request).authorise(request)
    with runtime.store.reading() as unit:
        require_scope_covers(principal, areas_of(unit.session, [person_id]))
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


def release_data_keys(body: KeyReleaseRequest, request: Request, runtime: Runtime) -> ReleasedKeys:
    principal = key_release_of(request).authorise(request)
    if IDEMPOTENCY_KEY_HEADER in request.headers:
        # A keyed command keeps its answer in the store: the keys would lie there in clear.
        raise CommandRejected(
            f"释放密钥不接受 {IDEMPOTENCY_KEY_HEADER}：重复请求本身是安全的，密钥不能留存在应答记录中",
            field=IDEMPOTENCY_KEY_HEADER,
            code="survey.data_key.idempotency_key",
        )
    person_ids = list(dict.fromkeys(body.person_ids))
    with runtime.store.reading() as unit:
        require_scope_covers(principal, areas_of(unit.session, person_ids))  # one outside: none leaves
        batch = release_keys(unit.session, person_ids)
    audit_release(request, principal, list(batch.keys))  # before any key leaves
    log.info("data keys of %d persons released to %s (%s)", len(batch.keys), principal.agency, principal.user)
    return ReleasedKeys(
        keys=[
            ReleasedKey(person_id=person_id, key_id=key.key_id, key=key.secret_text())
            for person_id, key in batch.keys.items()
        ],
        forgotten=batch.forgotten,
        without_key=batch.without_key,
        unknown=batch.unknown,
    )


PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
RELEASE_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {**PROBLEM, "description": "No valid bearer token (`access.unauthenticated`)"},
    403: {
        **PROBLEM,
        "description": (
            "The caller's agency may not have keys (`survey.data_key.not_entitled`), a person lies outside "
            "the caller's scope (`access.*`), or the registry runs without token keys "
            "(`survey.data_key.release_off`)"
        ),
    },
}
"""The refusals of the key release routes, whether access control is on or off (the registry checks the
bearer itself), so its OpenAPI documents every status it answers (issue 14, fuzzing)."""


def add_key_release(app: FastAPI) -> None:
    """Serve the key release routes on the app itself, not through an included router.

    The access middleware reads the route's marks before routing, and in this FastAPI an included
    router hides its routes' ``openapi_extra`` from it; a route of the app's own is seen.
    """
    app.add_api_route(
        "/persons/{person_id}/data-key",
        get_data_key,
        methods=["GET"],
        response_model=ReleasedKey,
        responses=RELEASE_RESPONSES,
        tags=["personal data"],
        summary="The person's data key, for an agency entitled to their personal data (bearer token)",
        # entitlement is checked here, not by agency; the bearer is asked for with access control off too
        openapi_extra={**PERSONAL_DATA, **OTHER_AGENCIES, "security": [{"bearerAuth": []}]},
    )
    app.add_api_route(
        "/persons/data-keys:batch",
        release_data_keys,
        methods=["POST"],
        response_model=ReleasedKeys,
        responses=RELEASE_RESPONSES,
        tags=["personal data"],
        summary=f"Data keys of up to {MAX_PERSONS_PER_RELEASE} persons, to an entitled agency (bearer token)",
        # audited here: one entry per released key; the bearer is asked for with access control off too
        openapi_extra={**PERSONAL_DATA, **OTHER_AGENCIES, "security": [{"bearerAuth": []}]},
    )
