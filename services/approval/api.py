"""HTTP API of the approval service: the 审批表 (附件2) from submission to the 区残联办 decision."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response, status
from rehab_contracts import Signatories

from kernel.access.access import Caller, Forbidden
from kernel.access.auth import Principal, Role
from kernel.access.scopes import area_of, require_area, require_district, require_signatory, visible_area
from kernel.domain.clock import today
from kernel.domain.rejections import CommandRejected
from kernel.http import MAX_QUERY_TEXT, Command, KeyedCommand, Limit, Offset, Runtime, jurisdiction_of
from kernel.reference import Jurisdiction
from kernel.store.store import UnitOfWork
from kernel.web.paging import MAX_PAGE, PAGED, page_of
from services.approval import commands, handlers
from services.approval.catalogue import COMMUNITY, STREET
from services.approval.commands import BlockBody
from services.approval.domain import Application, Status
from services.approval.events import Approval
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
from services.approval.sign_off.schemas import SignOffView
from services.approval.sign_off.views import sign_off_response, signer_of
from services.approval.views import accepted_view, application_view, change_view, overdue_view

FIRST_DAY = date(2000, 1, 1)
"""The first day a query of applications may name (the years the API takes: 2000-2100)."""

router = APIRouter(tags=["applications"])

PROPOSED = (
    "Without access control the block takes effect at once (201). With it, the caller proposes the block "
    "(202, the pending block): it takes effect once every other signatory named in it has confirmed it with "
    "their own token (`POST .../confirmations`); any of them may decline it (`POST .../declines`)."
)
PENDING: dict[str, Any] = {
    "model": SignOffView,
    "description": "Proposed: waiting for the other signatories to confirm",
}


Reference = Annotated[Jurisdiction, Depends(jurisdiction_of)]
ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such application"},
    409: {"description": "Not in a state that allows it"},
}


@router.post(
    "/applications",
    status_code=status.HTTP_201_CREATED,
    response_model=ApplicationAccepted,
    summary="Hand in a 补助申请审批表 (附件2) through the community",
    responses={409: {"description": "No referral backs the items, or the person already applied for them"}},
)
def submit_application(
    body: SubmitApplication, command: Command, jurisdiction: Reference, caller: Caller
) -> Response:
    require_area(caller, body.street)
    submission = commands.submission(body)
    with command.unit() as unit:
        application = handlers.submit_application(
            unit, jurisdiction, submission, lambda street, community: require_area(caller, street, community)
        )
        location = f"/applications/{application.application_id}"
        return command.answer(accepted_view(application), status=201, location=location)


@router.post(
    "/applications/{application_id}/attachments",
    response_model=ApplicationAccepted,
    summary="Hand in attachments 申请需附资料 missing from an incomplete application",
    responses=ERRORS,
)
def add_attachments(application_id: UUID, body: AddAttachments, command: Command, caller: Caller) -> Response:
    attachments = commands.attachments(body)
    with command.unit() as unit:
        application = handlers.add_attachments(
            unit, application_id, attachments, body.added_on, in_street(caller)
        )
        return command.answer(accepted_view(application))


@router.post(
    "/applications/{application_id}/reviews",
    status_code=status.HTTP_201_CREATED,
    response_model=ApplicationAccepted,
    summary="社区意见 then 街道意见: a level's opinion and signatures",
    description=PROPOSED,
    responses={**ERRORS, 202: PENDING},
)
def review_application(
    application_id: UUID, body: ReviewApplication, command: Command, jurisdiction: Reference, caller: Caller
) -> Response:
    check = _reviewable_by(caller, body)
    with command.unit() as unit:
        if caller is not None:
            return _propose(command, unit, jurisdiction, application_id, str(body.level), body, check, caller)
        application = handlers.review_application(unit, application_id, commands.review(body), check)
        location = f"/applications/{application_id}"
        return command.answer(accepted_view(application), status=201, location=location)


@router.post(
    "/applications/{application_id}/decision",
    status_code=status.HTTP_201_CREATED,
    response_model=ApplicationAccepted,
    summary="残联办意见: approve item by item and issue the service card 服务卡, or reject",
    description=PROPOSED,
    responses={**ERRORS, 202: PENDING},
)
def decide_application(
    application_id: UUID, body: DecideApplication, command: Command, jurisdiction: Reference, caller: Caller
) -> Response:
    _require_district_sign_off(caller, body.signatories, "残联办审批")
    decision = commands.decision(body)
    with command.unit() as unit:
        if caller is not None:
            return _propose(command, unit, jurisdiction, application_id, DECISION_BLOCK, body, anyone, caller)
        if isinstance(decision, Approval):
            application = handlers.approve_application(unit, jurisdiction, application_id, decision)
        else:
            application = handlers.reject_application(unit, application_id, decision)
        location = f"/applications/{application_id}"
        return command.answer(accepted_view(application), status=201, location=location)


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
    application_id: UUID, body: ChangeInstitution, command: Command, jurisdiction: Reference, caller: Caller
) -> Response:
    _require_district_sign_off(caller, body.signatories, "变更服务机构")
    change = commands.institution_change(body)
    with command.unit() as unit:
        if caller is not None:
            block = INSTITUTION_CHANGE_BLOCK
            return _propose(command, unit, jurisdiction, application_id, block, body, anyone, caller)
        application = handlers.change_institution(unit, jurisdiction, application_id, change)
        location = f"/applications/{application_id}"
        return command.answer(change_view(application.institution_changes[-1]), status=201, location=location)


@router.get(
    "/applications/overdue",
    summary="Complete applications undecided after the jurisdiction's review deadline (审核时限), per street",
)
def list_overdue(
    runtime: Runtime,
    caller: Caller,
    jurisdiction: Reference,
    street: Annotated[
        str | None, Query(max_length=MAX_QUERY_TEXT, description="Street 街道; all streets when omitted.")
    ] = None,
    as_of: Annotated[
        date | None,
        Query(
            ge=FIRST_DAY,
            description=f"Day to check on, from {FIRST_DAY} to a year after today; today when omitted.",
        ),
    ] = None,
) -> list[OverdueView]:
    street = visible_area(caller, street).street
    day = as_of or today()
    if day > today() + timedelta(days=366):  # working days are counted one by one from each application
        raise CommandRejected("查询日期不能晚于今天一年以后", field="as_of", code="approval.as_of.too_late")
    return [
        overdue_view(application, day, jurisdiction.review_working_days)
        for application in handlers.overdue_applications(
            runtime.store, day, jurisdiction.review_working_days, street
        )
    ]


@router.get(
    "/quotas",
    summary="Children's assistance places 救助名额 per area of a year, and how many are taken",
    description=(
        "Numbers are the task numbers of the pack's policies (deploy/jurisdictions/<name>/policies/, "
        "`[[quotas]]`). A minimum task "
        "number (`minimum`, Anyang's 最低任务数) never refuses a child: `above_target` counts those approved "
        "beyond it. Beyond a cap, an approval of a children's assistance item is refused with "
        "`approval.approved_items.over_quota` and the application keeps waiting for a decision. Empty when "
        "the jurisdiction sets no quota (Liangjiang)."
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
            minimum=use.minimum,
            taken=use.taken,
            remaining=use.remaining,
            above_target=use.above_target,
            streets=sorted(use.streets),
            items=sorted(use.items),
        )
        for use in handlers.quota_uses(runtime.store, area, year)
    ]


@router.get("/applications/{application_id}", summary="The 审批表 as it stands", responses=ERRORS)
def get_application(
    application_id: UUID, runtime: Runtime, caller: Caller, jurisdiction: Reference
) -> ApplicationView:
    application = handlers.get_application(runtime.store, application_id)
    _require_street(caller, application)
    pending = sign_offs.pending_sign_offs(runtime.store, application_id)
    return application_view(application, jurisdiction.review_working_days, pending)


@router.get(
    "/applications",
    summary="Applications by year, street, status, person or awaiting my signature, a page at a time "
    "(X-Total-Count)",
    responses=PAGED,
)
def list_applications(
    runtime: Runtime,
    caller: Caller,
    jurisdiction: Reference,
    request: Request,
    response: Response,
    year: Annotated[int | None, Query(ge=2000, le=2100, description="Application year （年度）.")] = None,
    street: Annotated[str | None, Query(max_length=MAX_QUERY_TEXT, description="Street 街道.")] = None,
    status: Annotated[Status | None, Query(description="Where the application stands.")] = None,
    person_id: Annotated[UUID | None, Query(description="The applicant.")] = None,
    awaiting_signature: Annotated[
        Literal["me"] | None,
        Query(
            description="`me`: only applications with a proposed block waiting for the caller's own "
            "confirmation (待我签字: named in it, in a role their token holds, not confirmed yet). Needs "
            "access control (a caller); any other value is refused (422)."
        ),
    ] = None,
    limit: Limit = MAX_PAGE,
    offset: Offset = 0,
) -> list[ApplicationView]:
    street = visible_area(caller, street).street
    found = handlers.list_applications(
        runtime.store, year=year, street=street, status=status, person_id=person_id
    )
    pending = sign_offs.pending_by_application(runtime.store)
    if awaiting_signature is not None:
        mine = sign_offs.awaiting(pending, signer_of(_awaited(caller)))
        found = [application for application in found if application.application_id in mine]
    shown = page_of(found, limit=limit, offset=offset, request=request, response=response)
    return [
        application_view(
            application,
            jurisdiction.review_working_days,
            pending.get(application.application_id, []),  # type: ignore[arg-type]
        )
        for application in shown
    ]


@router.get(
    "/referrals",
    tags=["referrals"],
    summary="Referrals 转介 that have reached approval, a page at a time (X-Total-Count)",
    description=(
        "A street's (community's) user sees the referrals of persons registered in their street (community) "
        "only; a referral issued before referrals carried the street is listed to district users alone."
    ),
    responses=PAGED,
)
def list_referrals(
    runtime: Runtime,
    caller: Caller,
    request: Request,
    response: Response,
    person_id: Annotated[UUID | None, Query(description="The referred person.")] = None,
    limit: Limit = MAX_PAGE,
    offset: Offset = 0,
) -> list[ReferralView]:
    area = area_of(caller)
    found = handlers.list_referrals(runtime.store, person_id, area.street, area.community)
    shown = page_of(found, limit=limit, offset=offset, request=request, response=response)
    return [ReferralView.model_validate(row) for row in shown]


# -- who may sign what (docs/security.md, "Roles per agency") --------------------------------------------
REVIEW_SCOPES = {COMMUNITY: "community", STREET: "street"}
REVIEW_SIGNERS = {
    COMMUNITY: (Role.HANDLER, Role.RESPONSIBLE),  # the community block has no 复核人
    STREET: (Role.HANDLER, Role.REVIEWER, Role.RESPONSIBLE),
}


def anyone(application: Application) -> None:
    """The check of a command whose caller was checked before loading (a district's block)."""


def in_street(caller: Principal | None) -> handlers.Guard:
    """The check of a loaded application: of the caller's street (community)."""

    def check(application: Application) -> None:
        _require_street(caller, application)

    return check


def _require_street(caller: Principal | None, application: Application) -> None:
    if caller is not None:
        assert application.submission is not None
        require_area(caller, application.submission.street)


def _reviewable_by(caller: Principal | None, body: ReviewApplication) -> handlers.Guard:
    """The check of a loaded application: of the caller's street, and the level's block signed from the
    level's own scope (社区意见 by the street's community, 街道意见 by the street) by the recorder."""

    def check(application: Application) -> None:
        if caller is None:
            return
        _require_street(caller, application)
        assert application.submission is not None
        require_review_scope(caller, str(body.level), application.submission.street)
        require_signatory(caller, _signed(body.signatories), REVIEW_SIGNERS[str(body.level)])

    return check


def require_review_scope(caller: Principal, level: str, street: str) -> None:
    """A level's block is signed (proposed, confirmed, declined) only from the level's own scope."""
    if caller.scope.kind != REVIEW_SCOPES[level]:
        raise Forbidden(
            f"{'社区' if level == COMMUNITY else '街道'}意见只能由{street}的"
            f"{'社区' if level == COMMUNITY else '街道办事处'}（范围 {REVIEW_SCOPES[level]}）用户签署",
            code="access.review_level",
        )


def _propose(
    command: KeyedCommand,
    unit: UnitOfWork,
    jurisdiction: Jurisdiction,
    application_id: UUID,
    block: str,
    body: BlockBody,
    check: handlers.Guard,
    caller: Principal,
) -> Response:
    """With access control on, a block waits for its other signatories (docs/security.md, "Sign-offs")."""
    proposed, kept_as = commands.block_command(body), body.model_dump_json()
    outcome = sign_offs.propose(
        unit, jurisdiction, application_id, block, proposed, kept_as, signer_of(caller), check
    )
    return command.keep(sign_off_response(outcome))


def _awaited(caller: Principal | None) -> Principal:
    """Whose signature ``awaiting_signature=me`` asks about: without access control there is no caller,
    and every block took effect when it was recorded."""
    if caller is None:
        raise CommandRejected(
            "未启用访问控制：签字栏提交即生效，没有等待“我”确认的签字",
            field="awaiting_signature",
            code="approval.awaiting_signature.access_off",
        )
    return caller


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
