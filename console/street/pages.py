"""The street office's pages 街道: worklist, the street's persons, one person, register, correct, survey.

Every read and command goes to the survey service as the signed-in clerk; a read of personal data
says why (X-Purpose), so the service's audit log names the clerk and the purpose.
"""

from __future__ import annotations

from dataclasses import replace
from difflib import get_close_matches
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from console.agencies import Answer, Problem, ServiceRefused, ServiceUnavailable
from console.labels import cn_date
from console.street.forms import (
    UNBORN,
    community_choices,
    corrections,
    date_errors,
    default_date,
    person_body,
    person_form,
    survey_body,
    survey_form_of,
    with_date_errors,
)
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

router = APIRouter(prefix="/street")

SURVEY = "survey"
PAGE = 500
SEARCH_PATH = "/persons:search"
SHOWN = 20
"""Persons the worklist shows of each list; 查看全部 pages through the rest."""
LIST_PAGE = 50
"""Persons on one page of 查看全部."""
WAITING_TITLES = {
    "unsurveyed": "待调查（本年度尚未调查）",
    "not_assessed": "有需求未评估",
    "not_applied": "已转介未申请",
}
STAGES_SHOWN = ("not_assessed", "not_applied")
"""The street's follow-ups after the survey: 有需求未评估, 已转介未申请."""


def _get(request: Request, clerk: Clerk, path: str, purpose: str, **params: Any) -> Any:
    return console_of(request).agencies.get(SURVEY, path, user=clerk.name, purpose=purpose, params=params)


def _post(request: Request, sent: Sent, path: str, body: dict[str, Any]) -> Answer:
    return send_form(request, sent, SURVEY, path, body)


def _area(clerk: Clerk) -> dict[str, str | None]:
    return {"street": clerk.street, "community": clerk.community}


@router.get("")
def worklist(request: Request, clerk: SignedIn, year: int | None = None) -> Response:
    """工作台: the year's counts and who is waiting for what: the survey, the assessment, the application.

    Where each person with needs stands after the survey (assessed, referred, applied for) comes from
    the registry, which follows the assessment and approval events (docs/adr/0016).
    """
    year = year or console_of(request).year()
    purpose = "工作台：本年度调查进度"
    persons = _get(request, clerk, "/persons", purpose, limit=PAGE, **_area(clerk))
    surveys = _get(request, clerk, "/surveys", purpose, year=year, limit=PAGE, **_area(clerk))
    waiting = {
        stage: _get(request, clerk, "/worklist", purpose, year=year, stage=stage, limit=SHOWN, **_area(clerk))
        for stage in STAGES_SHOWN
    }
    surveyed = {item["person_id"] for item in surveys["items"]}
    unsurveyed = [person for person in persons["items"] if person["person_id"] not in surveyed]
    stages = waiting["not_assessed"]["counts"]
    counts = {
        "registered": persons["total"],
        "surveyed": surveys["total"],
        "with_needs": stages["with_needs"],
        "unsurveyed": max(persons["total"] - surveys["total"], 0),
        "not_assessed": stages["not_assessed"],
        "not_applied": stages["not_applied"],
        "awaiting_decision": stages["awaiting_decision"],
    }
    return render(
        request,
        "street/worklist.html",
        year=year,
        counts=counts,
        unsurveyed=unsurveyed[:SHOWN],
        not_assessed=waiting["not_assessed"]["persons"],
        not_applied=waiting["not_applied"]["persons"],
        shown=SHOWN,
        partial=persons["total"] > PAGE or surveys["total"] > PAGE,
    )


@router.get("/worklist/{stage}")
def waiting_list(
    request: Request, clerk: SignedIn, stage: str, year: int | None = None, offset: int = 0
) -> Response:
    """查看全部: every person of one of the worklist's lists (待调查, 有需求未评估, 已转介未申请), a page of
    LIST_PAGE at a time."""
    if stage not in WAITING_TITLES:
        raise ServiceRefused(Problem(404, "console.not_found", "没有这个名单"))
    year = year or console_of(request).year()
    offset = max(offset, 0)
    purpose = "工作台：本年度调查进度"
    if stage == "unsurveyed":
        surveyed = {
            item["person_id"] for item in _all(request, clerk, "/surveys", purpose, year=year, **_area(clerk))
        }
        everyone = _all(request, clerk, "/persons", purpose, **_area(clerk))
        left = [person for person in everyone if person["person_id"] not in surveyed]
        entries, total = left[offset : offset + LIST_PAGE], len(left)
    else:
        page = _get(
            request,
            clerk,
            "/worklist",
            purpose,
            year=year,
            stage=stage,
            limit=LIST_PAGE,
            offset=offset,
            **_area(clerk),
        )
        entries, total = page["persons"], page["total"]
    return render(
        request,
        "street/waiting.html",
        stage=stage,
        title=WAITING_TITLES[stage],
        year=year,
        entries=entries,
        total=total,
        offset=offset,
        limit=LIST_PAGE,
    )


def _all(request: Request, clerk: Clerk, path: str, purpose: str, **params: Any) -> list[dict[str, Any]]:
    """Every item of a paged ``{"items", "total"}`` answer, page after page."""
    found: list[dict[str, Any]] = []
    while True:
        page = _get(request, clerk, path, purpose, limit=PAGE, offset=len(found), **params)
        found.extend(page["items"])
        if not page["items"] or len(found) >= page["total"]:
            return found


@router.get("/persons")
def persons(request: Request, clerk: SignedIn, offset: int = 0) -> Response:
    """人员名单: the street's persons, a page of LIST_PAGE at a time (a search is a POST, below)."""
    offset = max(offset, 0)
    page = _get(request, clerk, "/persons", "查找人员", limit=LIST_PAGE, offset=offset, **_area(clerk))
    found = {"items": page["items"], "total": page["total"], "offset": offset, "limit": LIST_PAGE}
    return render(request, _persons_template(request), q="", **found)


@router.post("/persons")
def search_persons(request: Request, sent: Sent) -> Response:
    """人员名单 searched by the form, by part of the 姓名 or the 身份证号 (whole or its last digits): by
    POST to the registry too, so nothing typed ever appears in an address, and within the clerk's street."""
    q = sent.form.get("q").strip()
    template = _persons_template(request)
    if not q:
        return persons(request, sent.clerk)
    body = {"limit": LIST_PAGE, **_area(sent.clerk), **_search_terms(q)}
    try:
        page = console_of(request).agencies.read(
            SURVEY, SEARCH_PATH, body, user=sent.clerk.name, purpose="查找人员"
        )
    except ServiceRefused as refused:
        if refused.problem.status != 422:
            raise
        return render(
            request, template, q=q, items=[], total=0, offset=0, limit=LIST_PAGE, refused=refused.problem
        )
    return render(request, template, q=q, items=page["items"], total=page["total"], offset=0, limit=LIST_PAGE)


def _persons_template(request: Request) -> str:
    """htmx refreshes only the table."""
    return "street/person_rows.html" if request.headers.get("HX-Request") else "street/persons.html"


def _search_terms(q: str) -> dict[str, str]:
    """Digits (the last may be X) are an ID number, whole or its end; anything else part of a name."""
    digits = q[:-1] if q[-1:] in "xX" else q
    return {"id_number": q.upper()} if digits.isascii() and digits.isdigit() else {"name": q}


@router.get("/persons/new")
def new_person(request: Request, clerk: SignedIn) -> Response:
    form = kept_form(request, clerk) or FormValues.of(
        {**_area(clerk), "ethnicity": "汉族", "registered_on": cn_date(today())}
    )
    return _person_page(request, clerk, form, new_form_key())


@router.post("/persons/new")
def register(request: Request, sent: Sent) -> Response:
    """登记: a 社区 the street has never registered anyone in is confirmed first (a typo would otherwise
    make a community of its own); a date the console cannot read is said at its field together with
    every mistake the survey service finds in the rest (sent with a birth date it always refuses)."""
    if unconfirmed := _new_community(request, sent):
        return _person_page(request, sent.clerk, sent.form, sent.form_key, unconfirmed)
    wrong = date_errors(sent.form, PERSON_DATES)
    body = person_body(sent.form)
    if "birth_date" in wrong:
        body["birth_date"] = UNBORN
    answer = _post(request, sent, "/persons", body)
    if not answer.ok:
        return _person_page(request, sent.clerk, sent.form, sent.form_key, answer, wrong=wrong)
    return RedirectResponse(f"/street/persons/{answer.body['person_id']}?done=registered", status_code=303)


PERSON_DATES = ("birth_date", "registered_on")
NEW_COMMUNITY = "new_community"
"""The box that confirms a 社区 the street has no one registered in yet; its value is the name confirmed."""
KNOWN_PURPOSE = "登记人员：本街道已登记的社区"


def known_communities(request: Request, clerk: Clerk, street: str | None) -> list[str] | None:
    """The 社区 the registry holds persons of, in ``street`` (every street's for a district clerk who has
    not chosen one): what the 社区 field suggests. None: the registry could not be read."""
    if clerk.community:
        return [clerk.community]
    params = {"street": street or clerk.street} if street or clerk.street else {}
    try:
        found = _get(request, clerk, "/communities", KNOWN_PURPOSE, **params)
    except (ServiceRefused, ServiceUnavailable):  # a suggestion is never worth a failed page
        return None
    return [entry["community"] for entry in found["communities"]]


def _new_community(request: Request, sent: Sent, current: str = "") -> Answer | None:
    """A refusal asking to confirm a typed 社区 that no one of the street is registered in, unless the pack
    lists the communities (then chosen from a list), it is the person's current one, or it is confirmed."""
    form, clerk = sent.form, sent.clerk
    typed, street = form.get("community").strip(), clerk.street or form.get("street").strip()
    jurisdiction = request.app.state.jurisdiction
    listed = community_choices(jurisdiction.communities.listed, jurisdiction.streets, clerk.street)
    if listed is not None or not typed or not street or typed == current or form.get(NEW_COMMUNITY) == typed:
        return None
    known = known_communities(request, clerk, street)
    if known is None or typed in known:  # unknown when the registry is down: the command says so
        return None
    close = get_close_matches(typed, known, n=3, cutoff=0.5)
    guess = f"是否应为{'、'.join(f'“{name}”' for name in close)}？" if close else ""
    message = (
        f"本街道还没有登记过“{typed}”的人员。{guess}请从已有的社区中选择并改正；"
        f"如确是新的社区，请勾选下方的确认后再提交"
    )
    return Answer(422, problem=Problem(422, "console.community.new", message, (("community", message),)))


def _person_page(
    request: Request,
    clerk: Clerk,
    form: FormValues,
    form_key: str,
    answer: Answer | None = None,
    wrong: dict[str, list[str]] | None = None,
    **extra: Any,
) -> Response:
    """The person form; ``wrong``: the console's own errors (unreadable dates), put over the service's."""
    problem = answer.problem if answer is not None else None
    errors = problem.by_field() if problem is not None else {}
    if wrong and problem is not None:
        errors.update(wrong)
        problem = replace(problem, detail=next(iter(wrong.values()))[0])
    jurisdiction = request.app.state.jurisdiction
    communities = community_choices(
        jurisdiction.communities.listed, jurisdiction.streets, clerk.street, form.get("community")
    )
    street = clerk.street or form.get("street").strip() or None
    typed = form.get("community").strip()
    new = (problem is not None and problem.code == "console.community.new") or form.get(
        NEW_COMMUNITY
    ) == typed
    return render_answer(
        request,
        "street/person_form.html",
        problem,
        errors=errors,
        form=form,
        form_key=form_key,
        communities=communities,
        known_communities=(known_communities(request, clerk, street) or []) if communities is None else [],
        new_community=typed if new and typed else "",  # once confirmed, kept confirmed
        **extra,
    )


@router.get("/persons/{person_id}")
def person(request: Request, clerk: SignedIn, person_id: UUID, done: str = "") -> Response:
    """一人一档: basic information and every survey of one person."""
    record = _get(request, clerk, f"/persons/{person_id}", "查看人员档案")
    year = console_of(request).year()
    current = _current_survey(record, year)
    return render(request, "street/person.html", person=record, year=year, current=current, done=done)


def _current_survey(record: dict[str, Any], year: int) -> dict[str, Any] | None:
    return next(
        (s for s in record.get("surveys", []) if s["survey_year"] == year and not s.get("superseded_by")),
        None,
    )


@router.get("/persons/{person_id}/handbook")
def handbook(request: Request, clerk: SignedIn, person_id: UUID) -> Response:
    """附件1《精准康复服务手册》 page 1 as the service fills it in, to print."""
    page = _get(request, clerk, f"/persons/{person_id}/handbook", "打印精准康复服务手册")
    return render(request, "street/handbook.html", handbook=page, person_id=person_id)


@router.get("/persons/{person_id}/correct")
def correction_form(request: Request, clerk: SignedIn, person_id: UUID) -> Response:
    record = _get(request, clerk, f"/persons/{person_id}", "更正基本信息")
    form = kept_form(request, clerk) or person_form(record)
    return _person_page(request, clerk, form, new_form_key(), person=record)


@router.post("/persons/{person_id}/correct")
def correct(request: Request, sent: Sent, person_id: UUID) -> Response:
    try:
        record = _get(request, sent.clerk, f"/persons/{person_id}", "更正基本信息")
    except ServiceUnavailable as unavailable:
        answer = Answer(
            503, problem=Problem(503, "console.service_unavailable", f"{unavailable}；填写的内容仍在本页")
        )
        stand_in = {"person_id": str(person_id), "name": ""}
        return _person_page(request, sent.clerk, sent.form, sent.form_key, answer, person=stand_in)
    if unconfirmed := _new_community(request, sent, current=record.get("community") or ""):
        return _person_page(request, sent.clerk, sent.form, sent.form_key, unconfirmed, person=record)
    answer = _post(
        request, sent, f"/persons/{person_id}/corrections", corrections(person_form(record), sent.form)
    )
    if not answer.ok:
        wrong = date_errors(sent.form, PERSON_DATES)
        return _person_page(request, sent.clerk, sent.form, sent.form_key, answer, wrong, person=record)
    return RedirectResponse(f"/street/persons/{person_id}?done=corrected", status_code=303)


@router.get("/persons/{person_id}/survey")
def survey_form(request: Request, clerk: SignedIn, person_id: UUID) -> Response:
    record = _get(request, clerk, f"/persons/{person_id}", "康复需求调查")
    year = console_of(request).year()
    current = _current_survey(record, year)
    defaults = {"survey_year": year, "surveyed_on": default_date(year), "surveyor": clerk.name}
    if current is not None:  # a second survey in a year corrects the first, starting from what it recorded
        defaults.update(survey_form_of(current), supersedes=current["survey_id"])
    form = kept_form(request, clerk) or FormValues.of(defaults)
    return _survey_page(request, record, form, new_form_key(), current)


@router.post("/persons/{person_id}/survey")
def record_survey(request: Request, sent: Sent, person_id: UUID) -> Response:
    answer = _post(request, sent, f"/persons/{person_id}/surveys", survey_body(sent.form))
    if answer.ok:
        return RedirectResponse(f"/street/persons/{person_id}?done=surveyed", status_code=303)
    try:
        record = _get(request, sent.clerk, f"/persons/{person_id}", "康复需求调查")
    except (ServiceRefused, ServiceUnavailable):
        record = {"person_id": str(person_id), "name": ""}
    current = _current_survey(record, console_of(request).year())
    return _survey_page(request, record, sent.form, sent.form_key, current, answer)


def _survey_page(
    request: Request,
    record: dict[str, Any],
    form: FormValues,
    form_key: str,
    current: dict[str, Any] | None,
    answer: Answer | None = None,
) -> Response:
    problem, errors = with_date_errors(answer.problem if answer is not None else None, form, ("surveyed_on",))
    return render_answer(
        request,
        "street/survey_form.html",
        problem,
        errors=errors,
        person=record,
        form=form,
        form_key=form_key,
        current=current,
    )
