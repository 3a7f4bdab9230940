"""HTTP API of the delivery service: institutions record signed services; anyone entitled may look them up."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response, status

from kernel.access.access import Caller
from kernel.access.scopes import require_institution, visible_institution
from kernel.http import MAX_QUERY_TEXT, Command, Limit, Offset, Runtime, jurisdiction_of
from kernel.reference import Jurisdiction
from kernel.web.paging import MAX_PAGE, PAGED, page_of
from services.delivery import handlers
from services.delivery.domain import ServiceDelivered, ServiceForm
from services.delivery.schemas import DeliveryView, EntitlementView, RecordService

router = APIRouter()


@router.post(
    "/deliveries",
    status_code=status.HTTP_201_CREATED,
    response_model=DeliveryView,
    tags=["deliveries"],
    summary="Record a signed 康复服务记录 under an approved entitlement",
    responses={
        409: {"description": "No matching approval, another institution fixed for the year, or overlap"}
    },
)
def record_service(
    body: RecordService,
    command: Command,
    jurisdiction: Annotated[Jurisdiction, Depends(jurisdiction_of)],
    caller: Caller,
) -> Response:
    require_institution(caller, body.institution_id)
    form = service_form(body)
    with command.unit() as unit:
        delivered = handlers.record_service(unit, jurisdiction, form)
        location = f"/deliveries/{delivered.delivery_id}"
        return command.answer(delivery_view(delivered), status=201, location=location)


@router.get(
    "/deliveries/{delivery_id}",
    tags=["deliveries"],
    summary="One service record",
    responses={404: {"description": "No such record"}},
)
def get_delivery(delivery_id: UUID, runtime: Runtime, caller: Caller) -> DeliveryView:
    delivered = handlers.get_delivery(runtime.store, delivery_id)
    require_institution(caller, delivered.form.institution_id)
    return delivery_view(delivered)


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
    found = handlers.list_deliveries(
        runtime.store, person_id=person_id, institution_id=institution_id, application_id=application_id
    )
    shown = page_of(found, limit=limit, offset=offset, request=request, response=response)
    return [delivery_view(delivered) for delivered in shown]


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


def delivery_view(delivered: ServiceDelivered) -> DeliveryView:
    form = delivered.form
    return DeliveryView.model_validate(
        {
            **vars(form),
            "delivery_id": delivered.delivery_id,
            "service_year": delivered.service_year,
            "remaining_fen": form.charge_fen - form.insurance_paid_fen,
        }
    )


def service_form(body: RecordService) -> ServiceForm:
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
