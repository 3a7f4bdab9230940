"""The pages of 附件2's sign-offs: the worklist of applications waiting for the clerk's level, one
application as the form reads, a level's opinion (社区意见, 街道意见), the 区残联办 decision item by item,
and each named signatory's own confirmation (or decline) of a proposed block (ADR 0008).

Every call goes to the approval service as the signed-in clerk; it decides who may sign what.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from console.agencies import Answer, Problem, ServiceRefused, ServiceUnavailable
from console.approval.forms import at_item_fields, decision_body, review_body, signatories, submission_body
from console.approval.persons import names_of
from console.street.forms import default_date, iso_date, with_date_errors
from console.web import (
    Clerk,
    FormValues,
    Sent,
    SignedIn,
    console_of,
    kept_form,
    new_form_key,
    render,
    render_answer,
    send_form,
)
from kernel.domain.clock import today

router = APIRouter(prefix="/approval")

APPROVAL = "approval"
LEVEL_OF_SCOPE = {"community": "community", "street": "street", "district": "decision"}
"""The block a clerk's scope signs: 社区意见, 街道意见 or 残联办意见."""
AWAITING = {
    "community": "awaiting_community_review",
    "street": "awaiting_street_review",
    "decision": "awaiting_decision",
}
REVIEW_LEVELS = ("community", "street")
"""The levels that take an application's papers (社区, 街道): they hand in its missing attachments."""
BLOCK_PATHS = {
    "community": "reviews/community",
    "street": "reviews/street",
    "decision": "decision",
    "institution_change": "institution-changes",
}


PROPOSERS = {
    "community": ("handler", "responsible"),
    "street": ("handler", "reviewer", "responsible"),
    "decision": ("responsible",),
    "institution_change": ("responsible",),
}
"""Who may propose (record and sign first) each block, as the service checks it (services/approval/
api.py: REVIEW_SIGNERS, _require_district_sign_off): presentation only, the service decides."""
PROPOSED_BY = {
    "community": "社区意见由本社区的经办人或负责人填写并签字",
    "street": "街道意见由街道办事处的经办人、复核人或负责人填写并签字",
    "decision": "残联办意见由区残联办负责人填写并签字；复核人、经办人在其提出后各自登录确认",
    "institution_change": "变更服务机构由区残联办负责人提出并签字；复核人、经办人在其提出后各自登录确认",
}
"""The one-line note a clerk who may not propose a block reads in place of its button."""


def may_propose(clerk: Clerk, block: str) -> bool:
    """Whether the clerk holds a role that may propose ``block`` (and the level's scope)."""
    scope = {"community": "community", "street": "street"}.get(block, "district")
    held = {str(role) for role in clerk.user.roles}
    return clerk.scope.kind == scope and any(role in held for role in PROPOSERS.get(block, ()))


def _get(request: Request, clerk: Clerk, path: str, purpose: str, **params: Any) -> Any:
    return console_of(request).agencies.get(APPROVAL, path, user=clerk.name, purpose=purpose, params=params)


def _every(request: Request, clerk: Clerk, path: str, purpose: str, **params: Any) -> list[Any]:
    return console_of(request).agencies.every(APPROVAL, path, user=clerk.name, purpose=purpose, params=params)


def _post(request: Request, sent: Sent, path: str, body: dict[str, Any]) -> Answer:
    return send_form(request, sent, APPROVAL, path, body)


def _level(clerk: Clerk) -> str:
    return LEVEL_OF_SCOPE.get(clerk.scope.kind, "")


def _institutions(request: Request) -> dict[str, str]:
    jurisdiction = request.app.state.jurisdiction
    return {
        institution.id: institution.name
        for institution in (*jurisdiction.service_institutions, *jurisdiction.assessment_institutions)
    }


@router.get("")
def worklist(request: Request, clerk: SignedIn) -> Response:
    """工作台: blocks waiting for the clerk's own signature first (待我签字, the service's
    ``awaiting_signature=me``), then applications waiting for this level, then the overdue."""
    level = _level(clerk)
    purpose = "审批：待审批申请"
    awaiting_me = _get(request, clerk, "/applications", purpose, awaiting_signature="me")
    to_sign = [
        (application, sign_off)
        for application in awaiting_me
        for sign_off in application.get("pending_sign_offs", [])
        if clerk.name in sign_off["awaiting"]  # the block of the application that waits for the clerk
    ]
    waiting, waiting_total = (
        _page(request, clerk, purpose, status=AWAITING[level]) if level in AWAITING else ([], 0)
    )
    waiting.sort(key=lambda item: (item.get("decision_due_on") or "9999", item["serial_number"]))
    overdue = _get(request, clerk, "/applications/overdue", purpose) if level != "community" else []
    incomplete, incomplete_total = (
        _page(request, clerk, purpose, status="incomplete") if level in REVIEW_LEVELS else ([], 0)
    )
    shown = [item["person_id"] for item in (*awaiting_me, *waiting, *overdue, *incomplete)]
    return render(
        request,
        "approval/worklist.html",
        level=level,
        waiting=waiting,
        waiting_total=waiting_total,
        to_sign=to_sign,
        overdue=overdue,
        incomplete=incomplete,
        incomplete_total=incomplete_total,
        approved=_page(request, clerk, purpose, status="approved", limit=1)[1],
        total=_page(request, clerk, purpose, limit=1)[1],
        review_days=request.app.state.jurisdiction.review_working_days,
        today=today().isoformat(),
        institutions=_institutions(request),
        names=names_of(request, clerk, shown, purpose=purpose),
    )


def _page(request: Request, clerk: Clerk, purpose: str, **params: Any) -> tuple[list[dict[str, Any]], int]:
    """The first page of the clerk's applications matching ``params``, and how many match in all (the
    service's X-Total-Count: a district has more applications than one page holds)."""
    answer = console_of(request).agencies.download(
        APPROVAL, "/applications", user=clerk.name, purpose=purpose, params=params
    )
    items: list[dict[str, Any]] = answer.json()
    return items, int(answer.headers.get("X-Total-Count", len(items)))


@router.get("/applications/{application_id}")
def application(request: Request, clerk: SignedIn, application_id: UUID, done: str = "") -> Response:
    """补助申请审批表 (附件2) as it stands: the form, each level's block, pending signatures."""
    form = _get(request, clerk, f"/applications/{application_id}", "查看补助申请审批表")
    return _application_page(request, clerk, form, done)


def _application_page(
    request: Request,
    clerk: Clerk,
    form: dict[str, Any],
    done: str = "",
    answer: Answer | None = None,
    declining: str = "",
    reason: str = "",
    typed: FormValues | None = None,
) -> Response:
    refused = answer.problem if answer is not None else None
    problem, errors = with_date_errors(refused, typed or FormValues.of({}), ("added_on",))
    return render_answer(
        request,
        "approval/application.html",
        problem,
        errors=errors,
        application=form,
        level=_level(clerk),
        done=done,
        form=typed or FormValues.of({"added_on": _default_day(request), "attachments": []}),
        declining=declining,
        reason=reason,
        may_propose={block: may_propose(clerk, block) for block in PROPOSERS},
        proposed_by=PROPOSED_BY,
        returning={
            str(sign_off["proposal_id"])
            for sign_off in form.get("pending_sign_offs", [])
            if returns(sign_off)
        },
        form_key=new_form_key(),
        institutions=_institutions(request),
        names=names_of(request, clerk, [form["person_id"]], purpose="审批：查看补助申请审批表"),
    )


def returns(sign_off: dict[str, Any]) -> bool:
    """Whether the proposed block says no: 社区/街道 不同意 returns the application, 残联办 rejects it
    whole. Its confirmation is asked twice (the console's own step; the service decides the rest)."""
    proposed = sign_off.get("proposed") or {}
    if sign_off.get("block") in ("community", "street"):
        return proposed.get("endorsed") is False
    return sign_off.get("block") == "decision" and proposed.get("outcome") == "rejected"


RETURNS_CONFIRMED = "returns_confirmed"
"""The field of the second step's form: the signatory saw that the block returns the application."""
WITHDRAWAL_CONFIRMED = "withdrawal_confirmed"
"""The field of the withdrawal's second step: the proposer confirmed taking the block back."""


@router.post("/applications/{application_id}/attachments")
def add_attachments(request: Request, sent: Sent, application_id: UUID) -> Response:
    """资料不全: the attachments handed in later, ticked on the application's page (补交资料)."""
    body: dict[str, Any] = {"attachments": sent.form.all("attachments")}
    if added_on := sent.form.get("added_on").strip():
        body["added_on"] = iso_date(added_on)
    answer = _post(request, sent, f"/applications/{application_id}/attachments", body)
    if answer.ok:
        return RedirectResponse(f"/approval/applications/{application_id}?done=attachments", status_code=303)
    form = _get(request, sent.clerk, f"/applications/{application_id}", "补交申请资料")
    return _application_page(request, sent.clerk, form, answer=answer, typed=sent.form)


@router.get("/applications/{application_id}/sign-offs/{block}/{decision}")
def sign_again(_clerk: SignedIn, application_id: UUID, block: str, decision: str) -> Response:
    """After a login that interrupted a signature: back to the application, to sign it there."""
    return RedirectResponse(f"/approval/applications/{application_id}#sign-offs", status_code=303)


@router.post("/applications/{application_id}/sign-offs/{block}/{decision}")
def sign(request: Request, sent: Sent, application_id: UUID, block: str, decision: str) -> Response:
    """The clerk's own confirmation (确认签字) or decline (不同意, with a reason) of a proposed block, or
    its proposer's withdrawal (撤回, asked twice: the console's own step; the service decides who may)."""
    if block not in BLOCK_PATHS or decision not in ("confirmations", "declines", "withdrawals"):
        raise ServiceRefused(Problem(404, "console.not_found", "没有这个签字栏"))
    body: dict[str, Any] = {"proposal_id": sent.form.get("proposal_id")}
    if decision == "withdrawals" and sent.form.get(WITHDRAWAL_CONFIRMED) != "yes":
        form = _get(request, sent.clerk, f"/applications/{application_id}", "查看补助申请审批表")
        pending = [
            sign_off
            for sign_off in form.get("pending_sign_offs", [])
            if str(sign_off["proposal_id"]) == body["proposal_id"] and sign_off["block"] == block
        ]
        if not pending:
            return RedirectResponse(f"/approval/applications/{application_id}#sign-offs", status_code=303)
        return render(
            request,
            "approval/confirm_withdrawal.html",
            application=form,
            sign_off=pending[0],
            form_key=sent.form_key,
            institutions=_institutions(request),
            names=names_of(request, sent.clerk, [form["person_id"]], purpose="审批：撤回签字栏"),
        )
    if decision == "withdrawals":
        body["reason"] = sent.form.get("reason").strip()
    if decision == "confirmations" and sent.form.get(RETURNS_CONFIRMED) != "yes":
        form = _get(request, sent.clerk, f"/applications/{application_id}", "查看补助申请审批表")
        pending = [
            sign_off
            for sign_off in form.get("pending_sign_offs", [])
            if str(sign_off["proposal_id"]) == body["proposal_id"] and sign_off["block"] == block
        ]
        if pending and returns(pending[0]):  # nothing sent yet: the signatory confirms what it means
            return render(
                request,
                "approval/confirm_return.html",
                application=form,
                sign_off=pending[0],
                form_key=sent.form_key,
                institutions=_institutions(request),
                names=names_of(request, sent.clerk, [form["person_id"]], purpose="审批：确认签字"),
            )
    if decision == "declines":
        body["reason"] = sent.form.get("reason").strip()
    path = f"/applications/{application_id}/{BLOCK_PATHS[block]}/{decision}"
    answer = _post(request, sent, path, body)
    if answer.ok:
        done = {"declines": "declined", "withdrawals": "withdrawn"}.get(decision, "confirmed")
        if decision == "confirmations" and answer.status == 201:
            done = "effective"
        return RedirectResponse(f"/approval/applications/{application_id}?done={done}", status_code=303)
    form = _get(request, sent.clerk, f"/applications/{application_id}", "查看补助申请审批表")
    declining = body["proposal_id"] if decision == "declines" else ""
    return _application_page(
        request, sent.clerk, form, answer=answer, declining=declining, reason=body.get("reason", "")
    )


@router.get("/applications/{application_id}/review")
def review_form(request: Request, clerk: SignedIn, application_id: UUID) -> Response:
    if not may_propose(clerk, _level(clerk)):
        return RedirectResponse(f"/approval/applications/{application_id}", status_code=303)
    form = _get(request, clerk, f"/applications/{application_id}", "填写审核意见")
    defaults = {"reviewed_on": _default_day(request), "endorsed": "yes", **_own_role(clerk)}
    typed = kept_form(request, clerk) or FormValues.of(defaults)
    return _block_page(request, clerk, form, typed, new_form_key())


@router.post("/applications/{application_id}/review")
def review(request: Request, sent: Sent, application_id: UUID) -> Response:
    level = _level(sent.clerk)
    answer = _post(request, sent, f"/applications/{application_id}/reviews", review_body(sent.form, level))
    return _after_block(request, sent, application_id, answer)


@router.get("/applications/{application_id}/decision")
def decision_form(request: Request, clerk: SignedIn, application_id: UUID) -> Response:
    if not may_propose(clerk, "decision"):
        return RedirectResponse(f"/approval/applications/{application_id}", status_code=303)
    form = _get(request, clerk, f"/applications/{application_id}", "区残联办审批")
    defaults: dict[str, Any] = {
        "decided_on": _default_day(request),
        "outcome": "approved",
        **_own_role(clerk),
    }
    typed = kept_form(request, clerk) or FormValues.of(defaults)
    return _block_page(request, clerk, form, typed, new_form_key())


@router.post("/applications/{application_id}/decision")
def decide(request: Request, sent: Sent, application_id: UUID) -> Response:
    try:
        form = _get(request, sent.clerk, f"/applications/{application_id}", "区残联办审批")
    except ServiceUnavailable as unavailable:
        problem = Problem(503, "console.service_unavailable", f"{unavailable}；填写的内容仍在本页")
        return _block_page(request, sent.clerk, None, sent.form, sent.form_key, Answer(503, problem=problem))
    body = decision_body(sent.form, form["requested_items"])
    answer = _post(request, sent, f"/applications/{application_id}/decision", body)
    if answer.problem is not None:
        answer = replace(answer, problem=at_item_fields(answer.problem, body))
    return _after_block(request, sent, application_id, answer, form)


def _after_block(
    request: Request,
    sent: Sent,
    application_id: UUID,
    answer: Answer,
    form: dict[str, Any] | None = None,
) -> Response:
    if answer.ok:
        done = "proposed" if answer.status == 202 else "signed"
        return RedirectResponse(f"/approval/applications/{application_id}?done={done}", status_code=303)
    if form is None:
        try:
            form = _get(request, sent.clerk, f"/applications/{application_id}", "填写审核意见")
        except (ServiceRefused, ServiceUnavailable):
            form = None
    return _block_page(request, sent.clerk, form, sent.form, sent.form_key, answer)


def _signers(request: Request, clerk: Clerk) -> dict[str, list[str]]:
    """The logins that could confirm the clerk's block, by role: enabled, of the clerk's agency and
    scope (their community, street or the district office). Offered on the signatory fields so that a
    block does not name someone who can never log in to confirm it; the service still decides."""
    found: dict[str, list[str]] = {role: [] for role in ("responsible", "reviewer", "handler")}
    for user in console_of(request).directory.users():
        if not user.enabled or user.agency != clerk.agency or str(user.scope) != str(clerk.scope):
            continue
        for role in found:
            if any(str(held) == role for held in user.roles):
                found[role].append(user.name)
    return {role: sorted(names) for role, names in found.items()}


def _default_day(request: Request) -> str:
    """A form's date to start from, as clerks write it (2025年5月8日): today within the console's work
    year (REHAB_CONSOLE_YEAR), else that year's last day; the service still checks the date."""
    return default_date(console_of(request).year())


def _own_role(clerk: Clerk) -> dict[str, str]:
    """The clerk's own name in the first sign-off role they hold: they propose the block."""
    for role in ("responsible", "reviewer", "handler"):
        if any(str(held) == role for held in clerk.user.roles):
            return {f"signatories.{role}": clerk.name}
    return {}


def _block_page(
    request: Request,
    clerk: Clerk,
    form: dict[str, Any] | None,
    typed: FormValues,
    form_key: str,
    answer: Answer | None = None,
) -> Response:
    level = _level(clerk)
    dated = "decided_on" if level == "decision" else "reviewed_on"
    problem, errors = with_date_errors(answer.problem if answer is not None else None, typed, (dated,))
    template = "approval/decision_form.html" if level == "decision" else "approval/review_form.html"
    shown = [form["person_id"]] if form else []
    return render_answer(
        request,
        template,
        problem,
        errors=errors,
        application=form or {"application_id": "", "requested_items": [], "serial_number": "", "street": ""},
        level=level,
        form=typed,
        form_key=form_key,
        institutions=_institutions(request),
        signers=_signers(request, clerk),
        names=names_of(request, clerk, shown, purpose="审批：填写审核意见"),
    )


@router.get("/referrals")
def referrals(request: Request, clerk: SignedIn) -> Response:
    """已转介、尚未申请: referrals to service institutions with no application of this street yet."""
    found = _every(request, clerk, "/referrals", "待提交申请：已转介人员")
    applied = {
        item["person_id"] for item in _every(request, clerk, "/applications", "待提交申请：已转介人员")
    }
    waiting = [
        referral
        for referral in found
        if referral["to_kind"] == "service_institution" and referral["person_id"] not in applied
    ]
    waiting.sort(key=lambda referral: referral["issued_on"], reverse=True)
    purpose = "审批：已转介待申请"
    names = names_of(request, clerk, [referral["person_id"] for referral in waiting], purpose=purpose)
    return render(
        request,
        "approval/referrals.html",
        referrals=waiting,
        institutions=_institutions(request),
        names=names,
    )


def _referral(request: Request, clerk: Clerk, referral_id: UUID) -> dict[str, Any]:
    for referral in _every(request, clerk, "/referrals", "填写补助申请审批表"):
        if referral["referral_id"] == str(referral_id):
            return dict(referral)
    raise ServiceRefused(Problem(404, "console.referral_not_found", "审批系统尚未收到这份转介"))


@router.get("/referrals/{referral_id}/apply")
def application_form(request: Request, clerk: SignedIn, referral_id: UUID) -> Response:
    referral = _referral(request, clerk, referral_id)
    defaults: dict[str, Any] = {
        "submitted_on": _default_day(request),
        "application_year": referral["issued_on"][:4],
        "requested_items": referral["items"],
        "disability_categories": referral.get("disability_categories") or [],  # as the survey recorded them
        "applicant_role": "person",
        "certified": "yes",
        "economic_status": "other",
        "attachments": [
            "id_card_copy",
            "disability_certificate_copy",
            "household_register_copy",
            "service_handbook",
        ],
    }
    typed = kept_form(request, clerk) or FormValues.of(defaults)
    return _submission_page(request, clerk, referral, typed, new_form_key())


@router.post("/referrals/{referral_id}/apply")
def submit(request: Request, sent: Sent, referral_id: UUID) -> Response:
    referral = _referral(request, sent.clerk, referral_id)
    body = submission_body(sent.form, referral, sent.clerk.street or "")
    answer = _post(request, sent, "/applications", body)
    if answer.ok:
        return RedirectResponse(
            f"/approval/applications/{answer.body['application_id']}?done=submitted", status_code=303
        )
    holder = _serial_holder(request, sent.clerk, body) if _refused_as(answer, SERIAL_TAKEN) else None
    return _submission_page(request, sent.clerk, referral, sent.form, sent.form_key, answer, holder)


SERIAL_TAKEN = "approval.serial_number.taken"


def _refused_as(answer: Answer, code: str) -> bool:
    return answer.problem is not None and answer.problem.code == code


def _serial_holder(request: Request, clerk: Clerk, body: dict[str, Any]) -> str | None:
    """The application already holding the typed 序号 in its street and year, for a link (the service's
    message names no id a clerk could use)."""
    year = body.get("application_year")
    if not str(year or "").isdigit() or not body.get("street"):
        return None
    try:
        listed = _every(
            request, clerk, "/applications", "填写补助申请审批表", year=int(str(year)), street=body["street"]
        )
    except (ServiceRefused, ServiceUnavailable):
        return None
    found = [each["application_id"] for each in listed if each["serial_number"] == body.get("serial_number")]
    return str(found[0]) if found else None


def _submission_page(
    request: Request,
    clerk: Clerk,
    referral: dict[str, Any],
    typed: FormValues,
    form_key: str,
    answer: Answer | None = None,
    serial_holder: str | None = None,
) -> Response:
    problem, errors = with_date_errors(
        answer.problem if answer is not None else None, typed, ("submitted_on",)
    )
    return render_answer(
        request,
        "approval/submission_form.html",
        problem,
        errors=errors,
        referral=referral,
        serial_holder=serial_holder,
        form=typed,
        form_key=form_key,
        institutions=_institutions(request),
        names=names_of(request, clerk, [referral["person_id"]], purpose="审批：填写补助申请审批表"),
    )


@router.get("/applications/{application_id}/institution-change")
def institution_change_form(request: Request, clerk: SignedIn, application_id: UUID) -> Response:
    if not may_propose(clerk, "institution_change"):
        return RedirectResponse(f"/approval/applications/{application_id}", status_code=303)
    form = _get(request, clerk, f"/applications/{application_id}", "变更服务机构")
    defaults = {"decided_on": _default_day(request), **_own_role(clerk)}
    typed = kept_form(request, clerk) or FormValues.of(defaults)
    return _change_page(request, clerk, form, typed, new_form_key())


@router.post("/applications/{application_id}/institution-change")
def change_institution(request: Request, sent: Sent, application_id: UUID) -> Response:
    form = _get(request, sent.clerk, f"/applications/{application_id}", "变更服务机构")
    item = sent.form.get("item")
    body: dict[str, Any] = {
        "item": item,
        "from_institution_id": (form.get("institutions") or {}).get(item) or "",
        "to_institution_id": sent.form.get("to_institution_id"),
        "reason": sent.form.get("reason").strip(),
        "signatories": signatories(sent.form),
    }
    if decided_on := sent.form.get("decided_on").strip():
        body["decided_on"] = iso_date(decided_on)
    body = {name: value for name, value in body.items() if value != ""}
    answer = _post(request, sent, f"/applications/{application_id}/institution-changes", body)
    if answer.ok:
        done = "proposed" if answer.status == 202 else "signed"
        return RedirectResponse(f"/approval/applications/{application_id}?done={done}", status_code=303)
    return _change_page(request, sent.clerk, form, sent.form, sent.form_key, answer)


def _change_page(
    request: Request,
    clerk: Clerk,
    form: dict[str, Any],
    typed: FormValues,
    form_key: str,
    answer: Answer | None = None,
) -> Response:
    problem, errors = with_date_errors(answer.problem if answer is not None else None, typed, ("decided_on",))
    jurisdiction = request.app.state.jurisdiction
    designated = {
        institution.id: sorted(institution.designated_items)
        for institution in jurisdiction.service_institutions
    }
    return render_answer(
        request,
        "approval/institution_change.html",
        problem,
        errors=errors,
        application=form,
        form=typed,
        form_key=form_key,
        institutions=_institutions(request),
        designated=designated,
        signers=_signers(request, clerk),
        names=names_of(request, clerk, [form["person_id"]], purpose="审批：变更服务机构"),
    )
