"""HTTP API of the two-step sign-off: each named signatory confirms (or declines) a proposed block
with their own token; the last confirmation makes the block take effect (docs/security.md, "Sign-offs")."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, status
from fastapi.responses import JSONResponse
from rehab_contracts import ReviewLevel

from kernel.access.access import Caller
from kernel.access.auth import Principal
from kernel.access.scopes import require_district
from kernel.domain.rejections import StateConflict
from kernel.http import Command
from services.approval.api import Reference, anyone, in_street, require_review_scope
from services.approval.domain import Application
from services.approval.handlers import Guard
from services.approval.sign_off import handlers
from services.approval.sign_off.domain import DECISION_BLOCK, INSTITUTION_CHANGE_BLOCK
from services.approval.sign_off.schemas import ConfirmSignOff, DeclineSignOff, SignOffView, WithdrawSignOff
from services.approval.sign_off.views import sign_off_response, signer_of

router = APIRouter(tags=["sign-offs"])

ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {
        "model": SignOffView,
        "description": "Declined or withdrawn by its proposer, or confirmed before: nothing changed",
    },
    201: {"model": SignOffView, "description": "This confirmation was the last: the block took effect"},
    202: {"model": SignOffView, "description": "Confirmed; other signatories still to confirm"},
    403: {"description": "Not named in the block in a role the caller holds, or outside its scope"},
    404: {"description": "No such application or pending proposal of this block"},
    409: {"description": "Withdrawn, already effective, or the block no longer fits the application"},
}


@router.post(
    "/applications/{application_id}/reviews/{level}/confirmations",
    status_code=status.HTTP_202_ACCEPTED,
    summary="A signatory of 社区意见 / 街道意见 confirms the proposed block with their own token",
    responses=ANSWERS,
)
def confirm_review(
    application_id: UUID,
    level: ReviewLevel,
    body: ConfirmSignOff,
    command: Command,
    jurisdiction: Reference,
    caller: Caller,
) -> JSONResponse:
    signer = _authenticated(caller)
    with command.unit() as unit:
        outcome = handlers.confirm(
            unit,
            jurisdiction,
            application_id,
            str(level),
            body.proposal_id,
            signer_of(signer),
            _of_level(signer, str(level)),
        )
        return command.keep(sign_off_response(outcome))


@router.post(
    "/applications/{application_id}/reviews/{level}/declines",
    summary="A signatory of 社区意见 / 街道意见 declines the proposed block: it is withdrawn",
    responses=ANSWERS,
)
def decline_review(
    application_id: UUID, level: ReviewLevel, body: DeclineSignOff, command: Command, caller: Caller
) -> JSONResponse:
    signer = _authenticated(caller)
    check = _of_level(signer, str(level))
    with command.unit() as unit:
        outcome = handlers.decline(
            unit, application_id, str(level), body.proposal_id, body.reason, signer_of(signer), check
        )
        return command.keep(sign_off_response(outcome))


@router.post(
    "/applications/{application_id}/decision/confirmations",
    status_code=status.HTTP_202_ACCEPTED,
    summary="A signatory of 残联办意见 confirms the proposed decision with their own token",
    responses=ANSWERS,
)
def confirm_decision(
    application_id: UUID, body: ConfirmSignOff, command: Command, jurisdiction: Reference, caller: Caller
) -> JSONResponse:
    signer = _district_signer(caller, "残联办审批")
    with command.unit() as unit:
        outcome = handlers.confirm(
            unit, jurisdiction, application_id, DECISION_BLOCK, body.proposal_id, signer_of(signer), anyone
        )
        return command.keep(sign_off_response(outcome))


@router.post(
    "/applications/{application_id}/decision/declines",
    summary="A signatory of 残联办意见 declines the proposed decision: it is withdrawn",
    responses=ANSWERS,
)
def decline_decision(
    application_id: UUID, body: DeclineSignOff, command: Command, caller: Caller
) -> JSONResponse:
    signer = _district_signer(caller, "残联办审批")
    with command.unit() as unit:
        outcome = handlers.decline(
            unit, application_id, DECISION_BLOCK, body.proposal_id, body.reason, signer_of(signer), anyone
        )
        return command.keep(sign_off_response(outcome))


@router.post(
    "/applications/{application_id}/institution-changes/confirmations",
    status_code=status.HTTP_202_ACCEPTED,
    summary="A signatory of 区残联办 confirms a proposed change of service institution",
    responses=ANSWERS,
)
def confirm_institution_change(
    application_id: UUID, body: ConfirmSignOff, command: Command, jurisdiction: Reference, caller: Caller
) -> JSONResponse:
    signer = _district_signer(caller, "变更服务机构")
    block = INSTITUTION_CHANGE_BLOCK
    with command.unit() as unit:
        outcome = handlers.confirm(
            unit, jurisdiction, application_id, block, body.proposal_id, signer_of(signer), anyone
        )
        return command.keep(sign_off_response(outcome))


@router.post(
    "/applications/{application_id}/institution-changes/declines",
    summary="A signatory of 区残联办 declines a proposed change of service institution",
    responses=ANSWERS,
)
def decline_institution_change(
    application_id: UUID, body: DeclineSignOff, command: Command, caller: Caller
) -> JSONResponse:
    signer = _district_signer(caller, "变更服务机构")
    block = INSTITUTION_CHANGE_BLOCK
    with command.unit() as unit:
        outcome = handlers.decline(
            unit, application_id, block, body.proposal_id, body.reason, signer_of(signer), anyone
        )
        return command.keep(sign_off_response(outcome))


@router.post(
    "/applications/{application_id}/reviews/{level}/withdrawals",
    summary="The proposer of 社区意见 / 街道意见 withdraws it before every signatory confirmed",
    responses=ANSWERS,
)
def withdraw_review(
    application_id: UUID, level: ReviewLevel, body: WithdrawSignOff, command: Command, caller: Caller
) -> JSONResponse:
    signer = _authenticated(caller)
    check = _of_level(signer, str(level))
    with command.unit() as unit:
        outcome = handlers.withdraw(
            unit, application_id, str(level), body.proposal_id, body.reason, signer_of(signer), check
        )
        return command.keep(sign_off_response(outcome))


@router.post(
    "/applications/{application_id}/decision/withdrawals",
    summary="The proposer of 残联办意见 withdraws it before every signatory confirmed",
    responses=ANSWERS,
)
def withdraw_decision(
    application_id: UUID, body: WithdrawSignOff, command: Command, caller: Caller
) -> JSONResponse:
    signer = _district_signer(caller, "残联办审批")
    with command.unit() as unit:
        outcome = handlers.withdraw(
            unit, application_id, DECISION_BLOCK, body.proposal_id, body.reason, signer_of(signer), anyone
        )
        return command.keep(sign_off_response(outcome))


@router.post(
    "/applications/{application_id}/institution-changes/withdrawals",
    summary="The proposer of a change of service institution withdraws it before it took effect",
    responses=ANSWERS,
)
def withdraw_institution_change(
    application_id: UUID, body: WithdrawSignOff, command: Command, caller: Caller
) -> JSONResponse:
    signer = _district_signer(caller, "变更服务机构")
    block = INSTITUTION_CHANGE_BLOCK
    with command.unit() as unit:
        outcome = handlers.withdraw(
            unit, application_id, block, body.proposal_id, body.reason, signer_of(signer), anyone
        )
        return command.keep(sign_off_response(outcome))


def _of_level(signer: Principal, level: str) -> Guard:
    """The check of a loaded application: of the signer's street (community), from the level's scope."""

    def check(application: Application) -> None:
        in_street(signer)(application)
        assert application.submission is not None
        require_review_scope(signer, level, application.submission.street)

    return check


def _district_signer(caller: Principal | None, what: str) -> Principal:
    signer = _authenticated(caller)
    require_district(signer, what)
    return signer


def _authenticated(caller: Principal | None) -> Principal:
    """Confirming needs to know who confirms: without access control every block took effect at once."""
    if caller is None:
        raise StateConflict(
            "未启用访问控制：签字栏提交即生效，没有待确认的签字",
            field="proposal_id",
            code="approval.sign_off.access_off",
        )
    return caller
