"""One person's whole journey, and forgetting a person (issue 12).

一人一档: the survey (registration, needs surveys by year), the assessment (records, referrals,
escalations), the application 附件2 (items, decisions), its sign-offs, the service records and the
payments, each read from its agency with the clerk's own token (journey.py). 删除个人信息: a street
office's 负责人 destroys the person's data key through the survey service, after retyping the ID number.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from console.agencies import Answer, Problem, ServiceUnavailable
from console.assessment.pages import MODE_LABELS
from console.names import UNSEEN_NAME, PersonCard, person_cards
from console.person.forget import CONFIRMATION_FIELD, in_chinese, matches, mismatch, offered
from console.person.journey import PURPOSE, Journey, read_journey
from console.settlement.accounts import account_label, account_labels, rule_label
from console.web import (
    Clerk,
    FormValues,
    Sent,
    SignedIn,
    console_of,
    new_form_key,
    render,
    render_answer,
    send_form,
)

router = APIRouter(prefix="/persons")

SURVEY = "survey"
FORGET_PURPOSE = "删除个人信息：核对身份"


@router.get("/{person_id}")
def journey(request: Request, clerk: SignedIn, person_id: UUID, done: str = "") -> Response:
    """一人一档: every agency's part of the person's year that this clerk may read."""
    found = read_journey(console_of(request).agencies, clerk, person_id)
    return render(
        request,
        "person/journey.html",
        journey=found,
        person=found.person,
        card=_card(request, clerk, found),
        may_forget=offered(clerk, found.person),
        done=done,
        institutions=_institutions(request),
        accounts=account_labels(request),
        MODES=MODE_LABELS,
        rule_label=rule_label,
        account_label=account_label,
    )


def _card(request: Request, clerk: Clerk, found: Journey) -> PersonCard | None:
    """The page's header: the registry's own record when the clerk reads it (forgotten: （已删除）), else
    the card the registry releases to the clerk's agency, else none (the page says （姓名不可见））."""
    if found.person is not None:
        person = found.person
        return PersonCard(found.person_id, str(person["name"]), person["street"], person["community"])
    try:
        cards = person_cards(request, clerk, [found.person_id], purpose=PURPOSE)
    except ServiceUnavailable:
        return None
    return cards.get(found.person_id)


def _institutions(request: Request) -> dict[str, str]:
    jurisdiction = request.app.state.jurisdiction
    return {
        institution.id: institution.name
        for institution in (*jurisdiction.assessment_institutions, *jurisdiction.service_institutions)
    }


@router.get("/{person_id}/forget")
def forget_form(request: Request, clerk: SignedIn, person_id: UUID) -> Response:
    """删除个人信息: what it does, that it cannot be undone, and the ID number retyped to confirm."""
    person = _person(request, clerk, person_id)
    if person.get("forgotten"):
        return RedirectResponse(f"/persons/{person_id}", status_code=303)
    return _forget_page(request, clerk, person, FormValues(), new_form_key())


@router.post("/{person_id}/forget")
def forget(request: Request, sent: Sent, person_id: UUID) -> Response:
    """Send the survey service the command, only once the retyped ID number is the person's."""
    try:
        person = _person(request, sent.clerk, person_id)
    except ServiceUnavailable as unavailable:
        problem = Problem(503, "console.service_unavailable", f"{unavailable}；未执行删除")
        stand_in = {"person_id": str(person_id), "name": UNSEEN_NAME}
        return _forget_page(request, sent.clerk, stand_in, sent.form, sent.form_key, problem)
    typed = sent.form.get(CONFIRMATION_FIELD)
    if not matches(typed, person):
        return _forget_page(request, sent.clerk, person, sent.form, sent.form_key, mismatch(typed))
    answer = send_form(request, sent, SURVEY, f"/persons/{person_id}/forget", {})
    if not answer.ok:
        return _forget_page(request, sent.clerk, person, sent.form, sent.form_key, _refusal(answer))
    console_of(request).sessions.forget_forms(str(person_id))
    return RedirectResponse(f"/persons/{person_id}?done=forgotten", status_code=303)


def _person(request: Request, clerk: Clerk, person_id: UUID) -> dict[str, Any]:
    agencies = console_of(request).agencies
    record: dict[str, Any] = agencies.get(
        SURVEY, f"/persons/{person_id}", user=clerk.name, purpose=FORGET_PURPOSE
    )
    return record


def _refusal(answer: Answer) -> Problem:
    assert answer.problem is not None
    return in_chinese(answer.problem)


def _forget_page(
    request: Request,
    clerk: Clerk,
    person: dict[str, Any],
    form: FormValues,
    form_key: str,
    problem: Problem | None = None,
) -> Response:
    return render_answer(
        request,
        "person/forget.html",
        problem,
        person=person,
        form=form,
        form_key=form_key,
        may_forget=offered(clerk, person),
    )
