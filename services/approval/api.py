"""HTTP API of the approval service: the 审批表 (附件2) from submission to the 区残联办 decision."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response, status
from fastapi.responses import JSONResponse
from rehab_contracts import Signatories

from kernel.access.access import Caller, Forbidden
from kernel.access.auth import Principal, Role
from kernel.access.scopes import require_area, require_district, require_signatory, visible_area
from kernel.domain.clock import today
from kernel.http import MAX_QUERY_TEXT, Runtime, jurisdiction_of
from kernel.reference import Jurisdiction
from services.approval import handlers
from services.approval.catalogue import COMMUNITY, STREET
from services.approval.domain import Application, Status
from services.approval.schemas import (
    AddAttachments,
    ApplicationAccepted,
    ApplicationView,
    ChangeInstitution,
    DecideApplication,
    InstitutionChangeView,
    OverdueView,
    QuotaView,
    ReferralView,
    ReviewApplication,
    SubmitApplication,
)
from services.approval.sign_off import handlers as sign_offs
from services.approval.sign_off.domain import DECISION_BLOCK, INSTITUTION_CHANGE_BLOCK
from services.approval.sign_off.handlers import BlockCommand
from services.approval.sign_off.schemas import SignOffView
from services.approval.sign_off.views import sign_off_response, signer_of
from services.approval.views import accepted_view, application_view, change_view, overdue_view

router = APIRouter(tags=["applications"])

PROPOSED = (
    "Without access control the block takes effect at once (201). With it, the caller proposes the block "
    "(202, the pending block): it takes effect once every other signatory named in it has confirmed it with "
    "their own token (`POST .../confirmations`); any of them may decline it (`POST .../declines`)."
)
PENDING = {"model": SignOffView, "description": "Proposed: waiting for the other signatories to confirm"}


Reference = Annotated[Jurisdiction, Depends(jurisdiction_of)]
ERRORS = {404: {"description": "No such application"}, 409: {"description": "Not in a state that allows it"}}


@router.post(
    "/applications",
    status_code=status.HTTP_201_CREATED,
    summary="Hand in a 补助申请审批表 (附件2) through the community",
    responses={409: {"description": "No referral backs the items, or the person already applied for them"}},
)
def submit_application(
    body: SubmitApplication, runtime: Runtime, jurisdiction: Reference, response: Response, caller: Caller
) -> ApplicationAccepted:
    require_area(caller, body.street)
    application = handlers.submit_application(runtime.store, jurisdiction, body)
    runtime.committed()
    response.headers["Location"] = f"/applications/{application.application_id}"
    return accepted_view(application)


@router.post(
    "/applications/{application_id}/attachments",
    summary="Hand in attachments 申请需附资料 missing from an incomplete application",
    responses=ERRORS,
)
def add_attachments(
    application_id: UUID, body: AddAttachments, runtime: Runtime, caller: Caller
) -> ApplicationAccepted:
    application_in_area(runtime, application_id, caller)
    application = handlers.add_attachments(runtime.store, application_id, body)
    runtime.committed()
    return accepted_view(application)


@router.post(
    "/applications/{application_id}/reviews",
    status_code=status.HTTP_201_CREATED,
    response_model=ApplicationAccepted,
    summary="社区意见 then 街道意见: a level's opinion and signatures",
    description=PROPOSED,
    responses={**ERRORS, 202: PENDING},
)
def review_application(
    application_id: UUID,
    body: ReviewApplication,
    runtime: Runtime,
    jurisdiction: Reference,
    response: Response,
    caller: Caller,
) -> ApplicationAccepted | JSONResponse:
    form = application_in_area(runtime, application_id, caller).submission
    assert form is not None
    _require_reviewer(caller, body, form.street)
    if caller is not None:
        return _propose(runtime, jurisdiction, application_id, str(body.level), body, caller)
    application = handlers.review_application(runtime.store, application_id, body)
    runtime.committed()
    response.headers["Location"] = f"/applications/{application_id}"
    return accepted_view(application)


@router.post(
    "/applications/{application_id}/decision",
    status_code=status.HTTP_201_CREATED,
    response_model=ApplicationAccepted,
    summary="残联办意见: approve item by item and issue the service card 服务卡, or reject",
    description=PROPOSED,
    responses={**ERRORS, 202: PENDING},
)
def decide_application(
    application_id: UUID,
    body: DecideApplication,
    runtime: Runtime,
    jurisdiction: Reference,
    response: Response,
    caller: Caller,
) -> ApplicationAccepted | JSONResponse:
    _require_district_sign_off(caller, body.signatories, "残联办审批")
    if caller is not None:
        return _propose(runtime, jurisdiction, application_id, DECISION_BLOCK, body, caller)
    if body.outcome == "approved":
        application = handlers.approve_application(runtime.store, jurisdiction, application_id, body)
    else:
        application = handlers.reject_application(runtime.store, application_id, body)
    runtime.committed()
    response.headers["Location"] = f"/applications/{application_id}"
    return accepted_view(application)


@router.post(
    "/applications/{application_id}/institution-changes",
    status_code=status.HTTP_201_CREATED,
    response_model=InstitutionChangeView,
    summary="区残联办 approves a change of the service institution fixed for an approved item",
    responses={
        404: {"description": "No such application"},
        409: {"description": "Not approved, item not approved, or from_institution_id not the one fixed now"},
        202: PENDING,
    },
    description=PROPOSED,
)
def change_institution(
    application_id: UUID,
    body: ChangeInstitution,
    runtime: Runtime,
    jurisdiction: Reference,
    response: Response,
    caller: Caller,
) -> InstitutionChangeView | JSONResponse:
    _require_district_sign_off(caller, body.signatories, "变更服务机构")
    if caller is not None:
        return _propose(runtime, jurisdiction, application_id, INSTITUTION_CHANGE_BLOCK, body, caller)
    application = handlers.change_institution(runtime.store, jurisdiction, application_id, body)
    runtime.committed()
    response.headers["Location"] = f"/applications/{application_id}"
    return change_view(application.institution_changes[-1])


@router.get(
    "/applications/overdue",
    summary="Complete applications undecided after 5 working days (审核时限), per street",
)
def list_overdue(
    runtime: Runtime,
    caller: Caller,
    street: Annotated[
        str | None, Query(max_length=MAX_QUERY_TEXT, description="Street 街道; all streets when omitted.")
    ] = None,
    as_of: Annotated[date | None, Query(description="Day to check on; today when omitted.")] = None,
) -> list[OverdueView]:
    street = visible_area(caller, street).street
    day = as_of or today()
    return [
        overdue_view(application, day)
        for application in handlers.overdue_applications(runtime.store, day, street)
    ]


@router.get(
    "/quotas",
    summary="Children's assistance places 救助名额 per area of a year, and how many are taken",
    description=(
        "Places are reference data (deploy/reference/<jurisdiction>.toml, `[[quotas]]`); an approval of a "
        "children's assistance item beyond them is refused with `approval.approved_items.over_quota` and the "
        "application keeps waiting for a decision. Empty when the jurisdiction sets no quota (Liangjiang)."
    ),
)
def list_quotas(
    runtime: Runtime,
    area: Annotated[Jurisdiction, Depends(jurisdiction_of)],
    year: Annotated[int, Query(ge=2000, le=2100, description="Year 年度.")],
) -> list[QuotaView]:
    return [
        QuotaView(
            area=use.area,
            year=use.year,
            places=use.places,
            taken=use.taken,
            remaining=use.remaining,
            streets=sorted(use.streets),
            items=sorted(use.items),
        )
        for use in handlers.quota_uses(runtime.store, area, year)
    ]


@router.get("/applications/{application_id}", summary="The 审批表 as it stands", responses=ERRORS)
def get_application(application_id: UUID, runtime: Runtime, caller: Caller) -> ApplicationView:
    application = handlers.get_application(runtime.store, application_id)
    _require_street(caller, application)
    return application_view(application, sign_offs.pending_sign_offs(runtime.store, application_id))


@router.get("/applications", summary="Applications by year, street, status or person")
def list_applications(
    runtime: Runtime,
    caller: Caller,
    year: Annotated[int | None, Query(description="Application year （年度）.")] = None,
    street: Annotated[str | None, Query(max_length=MAX_QUERY_TEXT, description="Street 街道.")] = None,
    status: Annotated[Status | None, Query(description="Where the application stands.")] = None,
    person_id: Annotated[UUID | None, Query(description="The applicant.")] = None,
) -> list[ApplicationView]:
    street = visible_area(caller, street).street
    found = handlers.list_applications(
        runtime.store, year=year, street=street, status=status, person_id=person_id
    )
    pending = sign_offs.pending_by_application(runtime.store)
    return [
        application_view(application, pending.get(application.application_id, []))  # type: ignore[arg-type]
        for application in found
    ]


@router.get("/referrals", tags=["referrals"], summary="Referrals 转介 that have reached approval")
def list_referrals(
    runtime: Runtime, person_id: Annotated[UUID | None, Query(description="The referred person.")] = None
) -> list[ReferralView]:
    return [ReferralView.model_validate(row) for row in handlers.list_referrals(runtime.store, person_id)]


# -- who may sign what (docs/security.md, "Roles per agency") --------------------------------------------
REVIEW_SCOPES = {COMMUNITY: "community", STREET: "street"}
REVIEW_SIGNERS = {
    COMMUNITY: (Role.HANDLER, Role.RESPONSIBLE),  # the community block has no 复核人
    STREET: (Role.HANDLER, Role.REVIEWER, Role.RESPONSIBLE),
}


def application_in_area(runtime: Runtime, application_id: UUID, caller: Principal | None) -> Application:
    application = handlers.get_application(runtime.store, application_id)
    _require_street(caller, application)
    return application


def _require_street(caller: Principal | None, application: Application) -> None:
    if caller is not None:
        assert application.submission is not None
        require_area(caller, application.submission.street)


def _require_reviewer(caller: Principal | None, body: ReviewApplication, street: str) -> None:
    """社区意见 by the street's community, 街道意见 by the street itself, signed by the recorder."""
    if caller is None:
        return
    require_review_scope(caller, str(body.level), street)
    require_signatory(caller, _signed(body.signatories), REVIEW_SIGNERS[str(body.level)])


def require_review_scope(caller: Principal, level: str, street: str) -> None:
    """A level's block is signed (proposed, confirmed, declined) only from the level's own scope."""
    if caller.scope.kind != REVIEW_SCOPES[level]:
        raise Forbidden(
            f"{'社区' if level == COMMUNITY else '街道'}意见只能由{street}的"
            f"{'社区' if level == COMMUNITY else '街道办事处'}（范围 {REVIEW_SCOPES[level]}）用户签署",
            code="access.review_level",
        )


def _propose(
    runtime: Runtime,
    jurisdiction: Jurisdiction,
    application_id: UUID,
    block: str,
    body: BlockCommand,
    caller: Principal,
) -> JSONResponse:
    """With access control on, a block waits for its other signatories (docs/security.md, "Sign-offs")."""
    outcome = sign_offs.propose(runtime.store, jurisdiction, application_id, block, body, signer_of(caller))
    runtime.committed()
    return sign_off_response(outcome)


def _require_district_sign_off(caller: Principal | None, signatories: Signatories, what: str) -> None:
    """区残联办's blocks: a district-scoped 负责人 records them, named as 负责人."""
    require_district(caller, what)
    require_signatory(caller, _signed(signatories), (Role.RESPONSIBLE,))


def _signed(signatories: Signatories) -> dict[Role, str | None]:
    return {
        Role.RESPONSIBLE: signatories.responsible,
        Role.REVIEWER: signatories.reviewer,
        Role.HANDLER: signatories.handler,
    }
