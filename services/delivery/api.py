"""HTTP API of the delivery service: institutions record signed services; anyone entitled may look them up."""

from __future__ import annotations

import json
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response, status
from fastapi.responses import JSONResponse

from kernel.access.access import Caller
from kernel.access.scopes import require_institution, visible_institution
from kernel.http import MAX_QUERY_TEXT, Command, Limit, Offset, Runtime, jurisdiction_of
from kernel.reference import Jurisdiction
from kernel.store.store import UnitOfWork
from kernel.web.errors import problem
from kernel.web.paging import MAX_PAGE, PAGED, page_of
from services.delivery import handlers
from services.delivery.corrections import Correction
from services.delivery.domain import ServiceDelivered, ServiceForm
from services.delivery.refusals import RefusedRecord
from services.delivery.schemas import (
    CorrectService,
    DeliveryView,
    DismissRefused,
    EntitlementView,
    RecordService,
    RefusedRecordView,
)

router = APIRouter()


REFUSALS_KEPT = (
    "A record a rule refuses (not approved, another institution in charge, outside the period, overlapping, "
    "unsigned, ...) is answered 409 or 422 as problem+json naming the field, and kept with the reason, "
    "when and by whom: `GET /deliveries/refused` lists it to correct and resend (with a new "
    "`Idempotency-Key`). The refusal is kept for the key with it, so a retry with the same key gets the "
    "same refusal and keeps nothing twice. A body refused by validation (a missing or malformed field) "
    "is not kept."
)


@router.post(
    "/deliveries",
    status_code=status.HTTP_201_CREATED,
    response_model=DeliveryView,
    tags=["deliveries"],
    summary="Record a signed 康复服务记录 under an approved entitlement",
    description=REFUSALS_KEPT,
    responses={
        409: {"description": "No matching approval, another institution in charge, or overlap (kept)"},
        422: {"description": "A rule of the record itself (kept), or a malformed body (not kept)"},
    },
)
def record_service(
    body: RecordService,
    command: Command,
    jurisdiction: Annotated[Jurisdiction, Depends(jurisdiction_of)],
    caller: Caller,
    request: Request,
) -> Response:
    require_institution(caller, body.institution_id)
    form, as_sent = service_form(body), body.model_dump_json(exclude_unset=True)
    sender = caller.user if caller is not None else None
    with command.unit() as unit:
        outcome = handlers.record_service(unit, jurisdiction, form, as_sent=as_sent, sender=sender)
        if isinstance(outcome, RefusedRecord):
            return refusal(unit, outcome, request.url.path)
        location = f"/deliveries/{outcome.delivery_id}"
        return command.answer(delivery_view(outcome), status=201, location=location)


@router.post(
    "/deliveries/{delivery_id}/corrections",
    response_model=DeliveryView,
    tags=["deliveries"],
    summary="Correct 更正 a kept 康复服务记录 (a wrong charge, insurance part, period, ...), with a reason",
    description="The whole corrected record is sent and checked as a new record would be (against the "
    "item's other records, not itself). It is published as a second `delivery.service_delivered` of the "
    "same `delivery_id`; settlement posts the difference as an adjustment, a top-up or a claw-back 追回 "
    "(ADR 0006). The person, application, institution and item stay as recorded. Only the institution that "
    "recorded it (or the district). A refused correction is answered, not kept.",
    responses={
        403: {"description": "Another institution's record"},
        404: {"description": "No such record"},
        409: {"description": "Does not fit the approval, overlaps another record, or corrected meanwhile"},
        422: {"description": "A rule of the record, a fixed field changed, or nothing changed"},
    },
)
def correct_delivery(
    delivery_id: UUID,
    body: CorrectService,
    command: Command,
    jurisdiction: Annotated[Jurisdiction, Depends(jurisdiction_of)],
    caller: Caller,
) -> Response:
    form = service_form(body)
    by = caller.user if caller is not None else None

    def check(kept: ServiceForm) -> None:
        require_institution(caller, kept.institution_id)

    with command.unit() as unit:
        corrected, corrections = handlers.correct_delivery(
            unit, jurisdiction, delivery_id, form, body.reason, check=check, by=by
        )
        return command.answer(delivery_view(corrected, corrections), status=200)


@router.get(
    "/deliveries/refused",
    tags=["deliveries"],
    summary="Service records a rule refused 被退回的服务记录, with the reason, newest first (X-Total-Count)",
    description="An institution sees its own; the district (or, without access control, anyone) every "
    "institution's or the one asked for.",
    responses=PAGED,
)
def list_refused(
    runtime: Runtime,
    caller: Caller,
    request: Request,
    response: Response,
    institution_id: Annotated[
        str | None, Query(max_length=MAX_QUERY_TEXT, description="The service institution.")
    ] = None,
    dismissed: Annotated[
        bool, Query(description="The dismissed 已撤销 ones instead (kept for audit), newest refusal first.")
    ] = False,
    limit: Limit = MAX_PAGE,
    offset: Offset = 0,
) -> list[RefusedRecordView]:
    institution = visible_institution(caller, institution_id)
    found = handlers.list_refused(runtime.store, institution, dismissed=dismissed)
    shown = page_of(found, limit=limit, offset=offset, request=request, response=response)
    return [refused_view(record) for record in shown]


@router.get(
    "/deliveries/refused/{refusal_id}",
    tags=["deliveries"],
    summary="One refused service record, as sent, with the reason",
    responses={404: {"description": "No such refused record"}},
)
def get_refused(refusal_id: UUID, runtime: Runtime, caller: Caller) -> RefusedRecordView:
    found = handlers.get_refused(runtime.store, refusal_id)
    require_institution(caller, found.institution_id)
    return refused_view(found)


@router.post(
    "/deliveries/refused/{refusal_id}/dismissal",
    tags=["deliveries"],
    summary="Dismiss 撤销 a refused service record the institution will not resend",
    description="It leaves `GET /deliveries/refused` and stays kept with when, who and why "
    "(`?dismissed=true` lists those). Only the institution that sent it; once.",
    responses={
        404: {"description": "No such refused record"},
        409: {"description": "Already dismissed (delivery.refused.already_dismissed)"},
    },
)
def dismiss_refused(refusal_id: UUID, body: DismissRefused, command: Command, caller: Caller) -> Response:
    by = caller.user if caller is not None else None

    def check(found: RefusedRecord) -> None:
        require_institution(caller, found.institution_id)

    with command.unit() as unit:
        dismissed = handlers.dismiss_refused(unit, refusal_id, check, by, body.reason)
        return command.answer(refused_view(dismissed), status=200)


@router.get(
    "/deliveries/{delivery_id}",
    tags=["deliveries"],
    summary="One service record",
    responses={404: {"description": "No such record"}},
)
def get_delivery(delivery_id: UUID, runtime: Runtime, caller: Caller) -> DeliveryView:
    delivered, corrections = handlers.get_delivery(runtime.store, delivery_id)
    require_institution(caller, delivered.form.institution_id)
    return delivery_view(delivered, corrections)


@router.get(
    "/deliveries",
    tags=["deliveries"],
    summary="Service records by person, institution or application, a page at a time (X-Total-Count)",
    responses=PAGED,
)
def list_deliveries(
    runtime: Runtime,
    caller: Caller,
    request: Request,
    response: Response,
    person_id: Annotated[UUID | None, Query(description="The person served.")] = None,
    institution_id: Annotated[
        str | None, Query(max_length=MAX_QUERY_TEXT, description="The service institution.")
    ] = None,
    application_id: Annotated[UUID | None, Query(description="The approved application.")] = None,
    limit: Limit = MAX_PAGE,
    offset: Offset = 0,
) -> list[DeliveryView]:
    institution_id = visible_institution(caller, institution_id)
    found = handlers.list_corrected_deliveries(
        runtime.store, person_id=person_id, institution_id=institution_id, application_id=application_id
    )
    shown = page_of(found, limit=limit, offset=offset, request=request, response=response)
    return [delivery_view(delivered, corrections) for delivered, corrections in shown]


@router.get(
    "/entitlements",
    tags=["entitlements"],
    summary="Approved items that have reached delivery, a page at a time (X-Total-Count)",
    responses=PAGED,
)
def list_entitlements(
    runtime: Runtime,
    caller: Caller,
    request: Request,
    response: Response,
    person_id: Annotated[UUID | None, Query(description="The person approved.")] = None,
    application_id: Annotated[UUID | None, Query(description="The approved application.")] = None,
    limit: Limit = MAX_PAGE,
    offset: Offset = 0,
) -> list[EntitlementView]:
    found = handlers.list_entitlements(runtime.store, person_id=person_id, application_id=application_id)
    own = visible_institution(caller)
    if own is not None:  # an institution sees the items fixed for it now
        found = [entitlement for entitlement in found if entitlement.current_institution_id == own]
    found = list(page_of(found, limit=limit, offset=offset, request=request, response=response))
    return [
        EntitlementView.model_validate(
            {
                **vars(entitlement),
                "current_institution_id": entitlement.current_institution_id,
                "institution_changes": [vars(change) for change in entitlement.institution_changes],
            }
        )
        for entitlement in found
    ]


def delivery_view(delivered: ServiceDelivered, corrections: list[Correction] | None = None) -> DeliveryView:
    form = delivered.form
    return DeliveryView.model_validate(
        {
            **vars(form),
            "delivery_id": delivered.delivery_id,
            "service_year": delivered.service_year,
            "remaining_fen": form.charge_fen - form.insurance_paid_fen,
            "corrections": [vars(correction) for correction in corrections or []],
        }
    )


def service_form(body: RecordService | CorrectService) -> ServiceForm:
    """The signed 康复服务记录 as the domain knows it."""
    return ServiceForm(
        application_id=body.application_id,
        person_id=body.person_id,
        institution_id=body.institution_id,
        item=str(body.item),
        frequency=body.frequency,
        period_start=body.period_start,
        period_end=body.period_end,
        staff=body.staff,
        charge_fen=body.charge_fen,
        insurance_paid_fen=body.insurance_paid_fen,
        signed_by=str(body.signed_by) if body.signed_by is not None else None,
        signed_on=body.signed_on,
    )


def refused_view(record: RefusedRecord) -> RefusedRecordView:
    return RefusedRecordView.model_validate({**vars(record), "record": json.loads(record.record)})


def refusal(unit: UnitOfWork, record: RefusedRecord, path: str) -> JSONResponse:
    """The refusal's problem+json answer, kept for the command's key in the unit that keeps the refused
    record: a retry with the key gets this answer again instead of keeping the record twice."""
    answer = problem(record.status, record.reason, field=record.field, code=record.code, instance=path)
    headers = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in answer.raw_headers]
    unit.keep_answer((answer.status_code, headers, bytes(answer.body)))
    return answer
