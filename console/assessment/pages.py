"""The assessment institution's pages: persons to assess (its worklist), the 康复需求评估与转介记录 form,
one record as the handbook prints it, a referral to a service institution or an escalation to a
city-level assessment institution. Every call goes to the assessment service as the signed-in clerk.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from console.agencies import Answer, Problem, ServiceRefused, ServiceUnavailable
from console.labels import ITEM_LABELS, cn_date
from console.names import UNSEEN_NAME, display_name, person_cards
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

router = APIRouter(prefix="/assessment")

ASSESSMENT = "assessment"
STATUS_LABELS = {
    "awaiting_assessment": "待评估",
    "awaiting_referral": "待转介",
    "awaiting_city_assessment": "已转市级复评",
    "assessed": "已评估",
}
MODE_LABELS = {"at_institution": "到机构评估", "home_visit": "入户评估", "group": "集中评估"}


def _get(request: Request, clerk: Clerk, path: str, purpose: str, **params: Any) -> Any:
    return console_of(request).agencies.get(ASSESSMENT, path, user=clerk.name, purpose=purpose, params=params)


def _post(request: Request, sent: Sent, path: str, body: dict[str, Any]) -> Answer:
    return send_form(request, sent, ASSESSMENT, path, body)


def _institution(clerk: Clerk) -> str | None:
    return clerk.scope.value if clerk.scope.kind == "institution" else None


def _year(request: Request, year: int | None) -> int:
    return year or console_of(request).year()


@router.get("")
def worklist(request: Request, clerk: SignedIn, year: int | None = None, show: str = "open") -> Response:
    """待评估: persons with needs waiting for this institution's assessment or referral."""
    return _worklist_page(request, clerk, _year(request, year), show)


@router.post("")
def search_worklist(request: Request, sent: Sent) -> Response:
    """The worklist narrowed to the persons whose 姓名 holds what was typed: by POST, so no name typed ever
    appears in an address; among the names the registry released for the page (the institution's scope)."""
    form = sent.form
    typed = form.get("year").strip()
    year = int(typed) if typed.isascii() and typed.isdigit() else None  # not ² (a digit int() refuses)
    show = "all" if form.get("show") == "all" else "open"
    return _worklist_page(request, sent.clerk, _year(request, year), show, query=form.get("q").strip())


def _worklist_page(request: Request, clerk: Clerk, work_year: int, show: str, query: str = "") -> Response:
    page = _get(
        request,
        clerk,
        "/worklist",
        "工作台：待评估人员",
        year=work_year,
        status="all" if show == "all" else "open",
        institution_id=_institution(clerk),
        limit=200,
    )
    counts: dict[str, int] = {}
    for entry in page["items"]:
        counts[entry["status"]] = counts.get(entry["status"], 0) + 1
    cards = person_cards(
        request, clerk, [entry["person_id"] for entry in page["items"]], purpose="工作台：待评估人员"
    )
    names = {entry["person_id"]: display_name(cards, entry["person_id"]) for entry in page["items"]}
    shown = [entry for entry in page["items"] if matches(query, names[entry["person_id"]])]
    return render(
        request,
        "assessment/worklist.html",
        year=work_year,
        show=show,
        page=page,
        shown=shown,
        q=query,
        counts=counts,
        names=names,
        STATUS=STATUS_LABELS,
    )


def matches(query: str, name: str) -> bool:
    """Whether a worklist row's 姓名 holds the typed text (spaces ignored); a name not released never does."""
    typed = "".join(query.split())
    return not typed or (name != UNSEEN_NAME and typed in "".join(name.split()))


def _entry(request: Request, clerk: Clerk, person_id: UUID, year: int) -> dict[str, Any]:
    """The person's worklist entry (the survey's needs and mobility): what the form starts from."""
    page = _get(
        request,
        clerk,
        "/worklist",
        "康复需求评估",
        year=year,
        status="all",
        institution_id=_institution(clerk),
        limit=500,
    )
    for entry in page["items"]:
        if entry["person_id"] == str(person_id):
            return dict(entry)
    raise ServiceRefused(Problem(404, "console.not_on_worklist", "此人不在本机构本年度的待评估名单中"))


@router.get("/persons/{person_id}/assess")
def assessment_form(request: Request, clerk: SignedIn, person_id: UUID, year: int | None = None) -> Response:
    work_year = _year(request, year)
    entry = _entry(request, clerk, person_id, work_year)
    defaults: dict[str, Any] = {
        "assessed_on": default_date(work_year),
        "assessed_needs": entry["needed_items"],
        "mode": "home_visit" if entry["home_visit_required"] else "at_institution",
        "referral_needed": "yes",
        "assessor": clerk.name,
    }
    form = kept_form(request, clerk) or FormValues.of(defaults)
    return _assessment_page(request, clerk, entry, form, new_form_key())


@router.post("/persons/{person_id}/assess")
def assess(request: Request, sent: Sent, person_id: UUID, year: int | None = None) -> Response:
    work_year = _year(request, year)
    form = sent.form
    body: dict[str, Any] = {
        "person_id": str(person_id),
        "assessment_year": work_year,
        "institution_id": _institution(sent.clerk) or form.get("institution_id"),
        "assessed_needs": form.all("assessed_needs"),
        "referral_needed": form.get("referral_needed") == "yes",
    }
    for name in ("assessor", "assessed_on", "mode", "opinion"):
        if value := form.get(name).strip():
            body[name] = iso_date(value) if name == "assessed_on" else value
    answer = _post(request, sent, "/assessments", body)
    if answer.ok:
        assessment_id = answer.body["assessment_id"]
        return RedirectResponse(f"/assessment/assessments/{assessment_id}?done=assessed", status_code=303)
    try:
        entry = _entry(request, sent.clerk, person_id, work_year)
    except (ServiceRefused, ServiceUnavailable):
        entry = {"person_id": str(person_id), "year": work_year, "street": "", "community": ""}
    return _assessment_page(request, sent.clerk, entry, form, sent.form_key, answer)


def _assessment_page(
    request: Request,
    clerk: Clerk,
    entry: dict[str, Any],
    form: FormValues,
    form_key: str,
    answer: Answer | None = None,
) -> Response:
    problem, errors = with_date_errors(answer.problem if answer is not None else None, form, ("assessed_on",))
    cards = person_cards(request, clerk, [entry["person_id"]], purpose="康复需求评估")
    return render_answer(
        request,
        "assessment/assessment_form.html",
        problem,
        errors=errors,
        entry=entry,
        name=display_name(cards, entry["person_id"]),
        form=form,
        form_key=form_key,
        MODES=MODE_LABELS,
    )


@router.get("/assessments/{assessment_id}")
def record(request: Request, clerk: SignedIn, assessment_id: UUID, done: str = "") -> Response:
    """康复需求评估与转介记录 as the handbook prints it, its referrals, and the referral form."""
    found = _get(request, clerk, f"/assessments/{assessment_id}", "查看评估与转介记录")
    left = open_items(found)
    defaults: dict[str, Any] = {
        "issued_on": default_date(found["assessment_year"]),
        "to_kind": _default_kind(found),
    }
    if len(left) == 1:  # the one item still to refer is ticked
        defaults["items"] = left
    form = kept_form(request, clerk) or FormValues.of(defaults)
    return _record_page(request, clerk, found, form, new_form_key(), done=done)


def _default_kind(found: dict[str, Any]) -> str:
    escalated = {
        item for referral in _referrals(found, "assessment_institution") for item in referral["items"]
    }
    to_escalate = set(found.get("items_to_escalate") or []) - escalated
    return "assessment_institution" if to_escalate else "service_institution"


def _referrals(found: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [referral for referral in found.get("referrals", []) if referral["to_kind"] == kind]


def open_items(found: dict[str, Any]) -> list[str]:
    """The assessed needs no referral covers yet: the only ones the referral form offers (an item already
    referred would be refused)."""
    referred = {item for referral in found.get("referrals", []) for item in referral["items"]}
    return [item for item in found["assessed_needs"] if item not in referred]


def referred_to(found: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each referred item's referral (the first that covers it): to whom and when, for the page's words."""
    done: dict[str, dict[str, Any]] = {}
    for referral in found.get("referrals", []):
        for item in referral["items"]:
            done.setdefault(item, referral)
    return done


@router.get("/assessments/{assessment_id}/referrals")
def referral_form(request: Request, clerk: SignedIn, assessment_id: UUID) -> Response:
    """The record with its referral form (where a referral kept through a login comes back filled in)."""
    return record(request, clerk, assessment_id)


@router.post("/assessments/{assessment_id}/referrals")
def refer(request: Request, sent: Sent, assessment_id: UUID) -> Response:
    form = sent.form
    body: dict[str, Any] = {"to_kind": form.get("to_kind"), "items": form.all("items")}
    target = form.get("to_institution_id") if body["to_kind"] != "assessment_institution" else ""
    target = target or form.get("to_city_institution_id")
    if target:
        body["to_institution_id"] = target
    if issued_on := form.get("issued_on").strip():
        body["issued_on"] = iso_date(issued_on)
    answer = _post(request, sent, f"/assessments/{assessment_id}/referrals", body)
    if answer.ok:
        done = "escalated" if body["to_kind"] == "assessment_institution" else "referred"
        return RedirectResponse(f"/assessment/assessments/{assessment_id}?done={done}", status_code=303)
    found = _get(request, sent.clerk, f"/assessments/{assessment_id}", "转介")
    return _record_page(request, sent.clerk, found, form, sent.form_key, answer, refusal=True)


def referable_items(found: dict[str, Any]) -> list[str]:
    """The assessed needs still to refer to a service institution: not escalated, not referred yet."""
    referred = {
        item
        for referral in found.get("referrals", [])
        if referral["to_kind"] == "service_institution"
        for item in referral["items"]
    }
    escalate = set(found.get("items_to_escalate", []))
    return [item for item in found["assessed_needs"] if item not in escalate and item not in referred]


def designated_for(found: dict[str, Any], institutions: Iterable[Any]) -> list[tuple[str, str, list[str]]]:
    """The service institutions the pack designates for an item the record still refers, each with those
    items of it (id, name, items): the referral's dropdown offers no institution that would be refused."""
    referable = referable_items(found)
    return [
        (
            institution.id,
            institution.name,
            [item for item in referable if item in institution.designated_items],
        )
        for institution in institutions
        if institution.designated_items & set(referable)
    ]


MISSING = "缺少必填字段"
INSTITUTION_FIELDS = {
    "service_institution": "to_institution_id",
    "assessment_institution": "to_city_institution_id",
}
"""The dropdown the form names the institution with, by 转介去向 (the API has one field for both)."""
INSTITUTION_LABELS = {"to_institution_id": "定点康复服务机构", "to_city_institution_id": "市级评估机构"}


def referral_errors(problem: Problem, form: FormValues, found: dict[str, Any]) -> dict[str, list[str]]:
    """The service's refusal of a referral in the form's words: the institution's error at the dropdown
    the 转介去向 chosen names, "请选择" where the service says a field is missing, and an item referred
    before said as to whom and when rather than by the referral's id and the institution's code."""
    errors = with_date_errors(problem, form, ("issued_on",))[1]
    field = INSTITUTION_FIELDS.get(form.get("to_kind"), "to_institution_id")
    if "to_institution_id" in errors:
        errors[field] = errors.pop("to_institution_id")
    for name, wanted in (*INSTITUTION_LABELS.items(), ("to_kind", "转介去向"), ("items", "转介项目")):
        if name in errors:
            errors[name] = [f"请选择{wanted}" if message == MISSING else message for message in errors[name]]
    if problem.code == "assessment.items.already_referred":
        done = referred_to(found)
        errors["items"] = [
            f"{ITEM_LABELS.get(item, item)}已于{cn_date(done[item]['issued_on'])}转介至"
            f"{done[item]['to_institution']['name']}，无需再次转介"
            for item in form.all("items")
            if item in done
        ] or errors.get("items", [])
    return errors


def _record_page(
    request: Request,
    clerk: Clerk,
    found: dict[str, Any],
    form: FormValues,
    form_key: str,
    answer: Answer | None = None,
    done: str = "",
    refusal: bool = False,
) -> Response:
    problem = answer.problem if answer is not None else None
    errors = referral_errors(problem, form, found) if refusal and problem is not None else None
    if errors and problem is not None and problem.code == "assessment.items.already_referred":
        problem = replace(problem, detail="；".join(errors["items"]))
    jurisdiction = request.app.state.jurisdiction
    cards = person_cards(request, clerk, [found["person_id"]], purpose="查看评估与转介记录")
    return render_answer(
        request,
        "assessment/record.html",
        problem,
        **({"errors": errors} if errors is not None else {}),
        record=found,
        open_items=open_items(found),
        referred_to=referred_to(found),
        name=display_name(cards, found["person_id"]),
        form=form,
        form_key=form_key,
        done=done,
        MODES=MODE_LABELS,
        service_institutions=designated_for(found, jurisdiction.service_institutions),
        city_institutions=[
            institution for institution in jurisdiction.assessment_institutions if institution.level == "city"
        ],
    )
