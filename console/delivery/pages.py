"""The service institution's pages: the approved items it is to serve (entitlements, by service card
服务卡号), the records it kept, and the 康复服务记录 form (项目, 频次, 周期, staff, signed by the person or
guardian). A record the service refuses by a rule comes back as typed with its reason at the field, and
the service keeps it: 被退回的服务记录 lists them, each re-opening the form filled in from it to resend.
A kept record is corrected 更正 by the institution that recorded it: the form filled in from it, a reason
and a confirmation; settlement then claws back or tops up the difference.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from console.agencies import Answer, Problem, ServiceRefused, ServiceUnavailable
from console.approval.forms import fen
from console.approval.persons import names_of
from console.assessment.pages import matches
from console.delivery.refused import REFUSED_PURPOSE, refused_form, resendable
from console.messages import plain
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
from kernel.domain.clock import CHINA_STANDARD_TIME, cn_date

router = APIRouter(prefix="/delivery")

DELIVERY = "delivery"


def _get(request: Request, clerk: Clerk, path: str, purpose: str, **params: Any) -> Any:
    return console_of(request).agencies.get(DELIVERY, path, user=clerk.name, purpose=purpose, params=params)


def _every(request: Request, clerk: Clerk, path: str, purpose: str, **params: Any) -> list[Any]:
    return console_of(request).agencies.every(DELIVERY, path, user=clerk.name, purpose=purpose, params=params)


def _post(request: Request, sent: Sent, body: dict[str, Any]) -> Answer:
    return send_form(request, sent, DELIVERY, "/deliveries", body)


def _institutions(request: Request) -> dict[str, str]:
    return {
        institution.id: institution.name
        for institution in request.app.state.jurisdiction.service_institutions
    }


def _institution(clerk: Clerk) -> str | None:
    return clerk.scope.value if clerk.scope.kind == "institution" else None


@router.get("")
def worklist(request: Request, clerk: SignedIn) -> Response:
    """待服务项目: approved items fixed to this institution now, and the records kept for each."""
    return _worklist_page(request, clerk)


@router.post("")
def search_worklist(request: Request, sent: Sent) -> Response:
    """The worklist narrowed to the items and records whose 姓名 or 服务卡号 holds what was typed: by POST,
    so nothing typed appears in an address; among the page's own items (the institution's)."""
    return _worklist_page(request, sent.clerk, sent.form.get("q").strip())


def found(query: str, name: str, card: str) -> bool:
    """Whether a row's 姓名 (as released) or 服务卡号 holds the typed text (spaces and case ignored)."""
    typed = "".join(query.split()).upper()
    return not typed or matches(query, name) or typed in card.upper()


def _worklist_page(request: Request, clerk: Clerk, query: str = "") -> Response:
    purpose = "服务：待服务项目"
    entitlements = _every(request, clerk, "/entitlements", purpose)
    records = _every(request, clerk, "/deliveries", purpose, institution_id=_institution(clerk))
    refused = _get(request, clerk, "/deliveries/refused", purpose, institution_id=_institution(clerk))
    kept: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for record in records:
        kept.setdefault((record["application_id"], record["item"]), []).append(record)
    mine = _institution(clerk)
    to_serve = [
        entitlement
        for entitlement in entitlements
        if entitlement.get("current_institution_id")
        and (mine is None or entitlement["current_institution_id"] == mine)
    ]
    to_serve.sort(
        key=lambda entitlement: (
            bool(kept.get((entitlement["application_id"], entitlement["item"]))),
            entitlement["service_card_number"],
        )
    )
    cards = {
        entitlement["application_id"]: entitlement["service_card_number"] for entitlement in entitlements
    }
    names = names_of(request, clerk, [item["person_id"] for item in (*to_serve, *records)], purpose=purpose)
    records = sorted(records, key=lambda record: record["signed_on"], reverse=True)
    return render(
        request,
        "delivery/worklist.html",
        to_serve=to_serve,
        kept=kept,
        records=records,
        q=query,
        shown_to_serve=[
            entry
            for entry in to_serve
            if found(query, names[entry["person_id"]], entry["service_card_number"])
        ],
        shown_records=[
            record
            for record in records
            if found(query, names[record["person_id"]], cards.get(record["application_id"], ""))
        ],
        cards=cards,
        institutions=_institutions(request),
        refused=len(refused),
        names=names,
    )


@router.get("/refused")
def refused_records(request: Request, clerk: SignedIn, show: str = "", done: str = "") -> Response:
    """被退回的服务记录: records a rule refused, newest first, with the reason; each to correct and resend, or
    to dismiss 撤销. ``show=dismissed``: the dismissed ones, kept for audit, with who, when and why."""
    dismissed = show == "dismissed"
    refused = _get(
        request,
        clerk,
        "/deliveries/refused",
        REFUSED_PURPOSE,
        institution_id=_institution(clerk),
        dismissed=dismissed,
    )
    entitlements = _get(request, clerk, "/entitlements", REFUSED_PURPOSE)
    shown = [entry["record"]["person_id"] for entry in refused]
    return render(
        request,
        "delivery/refused.html",
        refused=refused,
        dismissed=dismissed,
        done=done,
        resendable={entry["refusal_id"] for entry in refused if resendable(entry, entitlements)},
        cards={entry["application_id"]: entry["service_card_number"] for entry in entitlements},
        institutions=_institutions(request),
        names=names_of(request, clerk, shown, purpose=REFUSED_PURPOSE),
    )


@router.get("/refused/{refusal_id}/dismiss")
def dismissal_form(request: Request, clerk: SignedIn, refusal_id: UUID) -> Response:
    """撤销 a refused record: what it was and why it was refused, confirmed before it leaves the list."""
    found = _get(request, clerk, f"/deliveries/refused/{refusal_id}", REFUSED_PURPOSE)
    typed = kept_form(request, clerk) or FormValues.of({})
    return _dismissal_page(request, clerk, found, typed, new_form_key())


@router.post("/refused/{refusal_id}/dismiss")
def dismiss(request: Request, sent: Sent, refusal_id: UUID) -> Response:
    body: dict[str, Any] = {}
    if reason := sent.form.get("reason").strip():
        body["reason"] = reason
    answer = send_form(request, sent, DELIVERY, f"/deliveries/refused/{refusal_id}/dismissal", body)
    if answer.ok:
        return RedirectResponse("/delivery/refused?done=dismissed", status_code=303)
    found = _get(request, sent.clerk, f"/deliveries/refused/{refusal_id}", REFUSED_PURPOSE)
    return _dismissal_page(request, sent.clerk, found, sent.form, sent.form_key, answer)


def _dismissal_page(
    request: Request,
    clerk: Clerk,
    found: dict[str, Any],
    form: FormValues,
    form_key: str,
    answer: Answer | None = None,
) -> Response:
    problem = answer.problem if answer is not None else None
    return render_answer(
        request,
        "delivery/dismiss_refused.html",
        problem,
        entry=found,
        form=form,
        form_key=form_key,
        names=names_of(request, clerk, [found["record"]["person_id"]], purpose=REFUSED_PURPOSE),
    )


def _entitlement(request: Request, clerk: Clerk, application_id: UUID, item: str) -> dict[str, Any]:
    found = _get(request, clerk, "/entitlements", "康复服务记录", application_id=application_id)
    for entitlement in found:
        if entitlement["item"] == item:
            return dict(entitlement)
    raise ServiceRefused(
        Problem(404, "console.not_entitled", "该申请没有批准此项目，或批准尚未送达服务记录系统")
    )


@router.get("/entitlements/{application_id}/{item}/record")
def record_form(
    request: Request, clerk: SignedIn, application_id: UUID, item: str, refused: UUID | None = None
) -> Response:
    """The 康复服务记录 form: blank, or (``refused``) filled in from a refused record with its reason at
    the field, to be sent again as a new record (a new Idempotency-Key)."""
    entitlement = _entitlement(request, clerk, application_id, item)
    defaults = {"signed_by": "person", "insurance_paid": "0", "signed_on": default_date(entitlement["year"])}
    form = kept_form(request, clerk) or FormValues.of(defaults)
    if refused is None:
        return _record_page(request, clerk, entitlement, form, new_form_key())
    earlier = _get(request, clerk, f"/deliveries/refused/{refused}", REFUSED_PURPOSE)
    return _record_page(request, clerk, entitlement, refused_form(earlier), new_form_key(), earlier=earlier)


@router.post("/entitlements/{application_id}/{item}/record")
def record(request: Request, sent: Sent, application_id: UUID, item: str) -> Response:
    try:
        entitlement = _entitlement(request, sent.clerk, application_id, item)
    except ServiceUnavailable as unavailable:
        problem = Problem(503, "console.service_unavailable", f"{unavailable}；填写的内容仍在本页")
        stand_in = {"application_id": str(application_id), "item": item, "service_card_number": ""}
        answer = Answer(503, problem=problem)
        return _record_page(request, sent.clerk, stand_in, sent.form, sent.form_key, answer)
    form = sent.form
    body = _record_body(
        form,
        application_id=str(application_id),
        person_id=entitlement["person_id"],
        institution_id=_institution(sent.clerk) or entitlement.get("current_institution_id"),
        item=item,
    )
    answer = _post(request, sent, body)
    if answer.ok:
        return RedirectResponse(
            f"/delivery/deliveries/{answer.body['delivery_id']}?done=recorded", status_code=303
        )
    # A refusal is kept by the service with its key: the corrected record goes with a new one. A service
    # that did not answer may have kept the record: the same key then records it once.
    form_key = sent.form_key if answer.status == 503 else new_form_key()
    return _record_page(request, sent.clerk, entitlement, form, form_key, answer)


def _record_body(form: FormValues, **fixed: Any) -> dict[str, Any]:
    """The 康复服务记录 as the service takes it: ``fixed`` (application, person, institution, item) and what
    the clerk typed; dates as typed in Chinese or ISO, amounts in yuan sent in fen."""
    body: dict[str, Any] = dict(fixed)
    for name in ("frequency", "staff", "signed_by"):
        if value := form.get(name).strip():
            body[name] = value
    for name in ("period_start", "period_end", "signed_on"):
        if value := form.get(name).strip():
            body[name] = iso_date(value)
    for name in ("charge", "insurance_paid"):
        if (amount := fen(form.get(name))) is not None:
            body[f"{name}_fen"] = amount
    return body


def _record_page(
    request: Request,
    clerk: Clerk,
    entitlement: dict[str, Any],
    form: FormValues,
    form_key: str,
    answer: Answer | None = None,
    earlier: dict[str, Any] | None = None,
) -> Response:
    problem = answer.problem if answer is not None else None
    errors = _form_errors(problem, form)
    if earlier is not None and earlier.get("field"):
        errors = {earlier["field"]: [plain(earlier["reason"], earlier["field"])]}
    shown = [entitlement["person_id"]] if entitlement.get("person_id") else []
    return render_answer(
        request,
        "delivery/record_form.html",
        problem,
        entitlement=entitlement,
        form=form,
        form_key=form_key,
        errors=errors,
        institutions=_institutions(request),
        earlier=earlier,
        names=names_of(request, clerk, shown, purpose="服务：康复服务记录"),
    )


DATES = ("period_start", "period_end", "signed_on")


def _form_errors(problem: Problem | None, form: FormValues) -> dict[str, list[str]]:
    """The service's errors at the form's fields, the console's own on a date typed that is no date;
    amounts are typed in yuan (``charge``, ...)."""
    errors = with_date_errors(problem, form, DATES)[1]
    for api_name, field in (("charge_fen", "charge"), ("insurance_paid_fen", "insurance_paid")):
        if api_name in errors:
            errors.setdefault(field, []).extend(errors.pop(api_name))
    return errors


def _kept(request: Request, clerk: Clerk, delivery_id: UUID) -> tuple[dict[str, Any], dict[str, Any]]:
    """A kept record and the approved item it was recorded under."""
    kept = _get(request, clerk, f"/deliveries/{delivery_id}", "查看康复服务记录")
    found = _get(request, clerk, "/entitlements", "查看康复服务记录", application_id=kept["application_id"])
    entitlement: dict[str, Any] = next((entry for entry in found if entry["item"] == kept["item"]), {})
    return kept, entitlement


def _corrects(clerk: Clerk, kept: dict[str, Any]) -> bool:
    """Only the institution that recorded it corrects a record."""
    return _institution(clerk) == str(kept["institution_id"])


@router.get("/deliveries/{delivery_id}")
def delivery(request: Request, clerk: SignedIn, delivery_id: UUID, done: str = "") -> Response:
    """一份康复服务记录 as kept (as last corrected, with its corrections)."""
    kept, entitlement = _kept(request, clerk, delivery_id)
    return render(
        request,
        "delivery/delivery.html",
        record=kept,
        corrected_at=[_beijing(correction["corrected_at"]) for correction in kept.get("corrections", [])],
        entitlement=entitlement,
        done=done,
        corrects=_corrects(clerk, kept),
        institutions=_institutions(request),
        names=names_of(request, clerk, [kept["person_id"]], purpose="服务：查看康复服务记录"),
    )


def _beijing(moment: str) -> str:
    """When a correction was saved, in Beijing time as the clerk saw the clock: 2026年12月8日 05:16."""
    local = datetime.fromisoformat(moment).astimezone(CHINA_STANDARD_TIME)
    return f"{cn_date(local.date())} {local:%H:%M}"


CORRECTION_CONFIRMED = "confirmed"


@router.get("/deliveries/{delivery_id}/correct")
def correction_form(request: Request, clerk: SignedIn, delivery_id: UUID) -> Response:
    """更正 a kept record: the form filled in from it, a reason, a confirmation."""
    kept, entitlement = _kept(request, clerk, delivery_id)
    if not _corrects(clerk, kept):
        raise ServiceRefused(
            Problem(403, "console.not_recording_institution", "只有记录此服务的机构可以更正")
        )
    form = kept_form(request, clerk) or refused_form({"record": kept})
    return _correction_page(request, clerk, kept, entitlement, form, new_form_key())


@router.post("/deliveries/{delivery_id}/correct")
def correct(request: Request, sent: Sent, delivery_id: UUID) -> Response:
    kept, entitlement = _kept(request, sent.clerk, delivery_id)
    form = sent.form
    if CORRECTION_CONFIRMED not in form.all("confirm"):
        message = "请勾选确认：更正后将按更正后的内容重新结算"
        problem = Problem(422, "console.correction.confirmation", message, (("confirm", message),))
        answer = Answer(422, problem=problem)
        return _correction_page(request, sent.clerk, kept, entitlement, form, sent.form_key, answer)
    fixed = {name: kept[name] for name in ("application_id", "person_id", "institution_id", "item")}
    body = _record_body(form, **fixed)
    if reason := form.get("reason").strip():
        body["reason"] = reason
    answer = send_form(request, sent, DELIVERY, f"/deliveries/{delivery_id}/corrections", body)
    if answer.ok:
        return RedirectResponse(f"/delivery/deliveries/{delivery_id}?done=corrected", status_code=303)
    # A refused correction is not kept: sent again corrected, it goes with a new key.
    form_key = sent.form_key if answer.status == 503 else new_form_key()
    return _correction_page(request, sent.clerk, kept, entitlement, form, form_key, answer)


def _correction_page(
    request: Request,
    clerk: Clerk,
    kept: dict[str, Any],
    entitlement: dict[str, Any],
    form: FormValues,
    form_key: str,
    answer: Answer | None = None,
) -> Response:
    problem = answer.problem if answer is not None else None
    return render_answer(
        request,
        "delivery/correct.html",
        problem,
        record=kept,
        entitlement=entitlement,
        form=form,
        form_key=form_key,
        errors=_form_errors(problem, form),
        institutions=_institutions(request),
        names=names_of(request, clerk, [kept["person_id"]], purpose="服务：更正康复服务记录"),
    )
