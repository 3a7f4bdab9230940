"""附件2 of one application, gathered with the clerk's own token: the approval service's form and
blocks, the person's basic information from the registry (console.names)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import date
from typing import Any
from uuid import UUID

from fastapi import Request

from console.labels import (
    ATTACHMENT_LABELS,
    CATEGORY_LABELS,
    ECONOMIC_LABELS,
    ITEM_LABELS,
    STATUS_LABELS,
    SUBSIDY_LABELS,
)
from console.names import person_cards
from console.printing.people import person_of_card
from console.web import Clerk, console_of
from printing import ApprovalForm, ItemDecision, Person, RequestedItem, SignOff

APPROVAL = "approval"
EYES = {"left": "左眼", "right": "右眼"}


def institution_names(request: Request) -> dict[str, str]:
    jurisdiction = request.app.state.jurisdiction
    return {
        institution.id: institution.name
        for institution in (*jurisdiction.service_institutions, *jurisdiction.assessment_institutions)
    }


def designated_institutions(request: Request) -> dict[str, tuple[str, ...]]:
    """The pack's service institutions per catalogue item, by name: those the form offers to tick."""
    offered: dict[str, tuple[str, ...]] = request.app.state.jurisdiction.service_institutions_by_item()
    return offered


def read_application(request: Request, clerk: Clerk, application_id: UUID, purpose: str) -> dict[str, Any]:
    found: dict[str, Any] = console_of(request).agencies.get(
        APPROVAL, f"/applications/{application_id}", user=clerk.name, purpose=purpose
    )
    return found


def approval_form(
    request: Request, clerk: Clerk, application: Mapping[str, Any], purpose: str
) -> ApprovalForm:
    """What 附件2 shows of ``application`` (the approval service's view of it)."""
    person_id = UUID(str(application["person_id"]))
    card = person_cards(request, clerk, [person_id], purpose=purpose).get(person_id)
    names = institution_names(request)
    decision = application.get("decision")
    return ApprovalForm(
        year=int(application["application_year"]),
        street=str(application["street"]),
        serial_number=str(application["serial_number"]),
        person=_with_categories(person_of_card(card), application.get("disability_categories") or ()),
        economic_status=ECONOMIC_LABELS.get(application.get("economic_status") or "", ""),
        insurances=card.medical_insurance if card is not None else (),
        requested=tuple(_requested(item, names) for item in application.get("requested_items", [])),
        attachments=tuple(ATTACHMENT_LABELS.get(code, code) for code in application.get("attachments", [])),
        applicant_is_guardian=application.get("applicant_role") == "guardian",
        submitted_on=_date(application.get("submitted_on")),
        community=_review(application.get("community_review")),
        street_review=_review(application.get("street_review")),
        decision=_decision_block(decision),
        decisions=_decisions(decision),
        service_card_number=str(application.get("service_card_number") or ""),
        status=STATUS_LABELS.get(application.get("status") or "", ""),
        institution_choices=designated_institutions(request),
        title=request.app.state.jurisdiction.forms.application,
    )


def _with_categories(person: Person, declared: Iterable[str]) -> Person:
    """The categories the application declares when the registry's card shows none (survey down)."""
    if person.categories:
        return person
    return replace(person, categories=tuple(CATEGORY_LABELS.get(code, code) for code in declared))


def _requested(requested: Mapping[str, Any], names: Mapping[str, str]) -> RequestedItem:
    item = str(requested["item"])
    institution = requested.get("institution_id")
    return RequestedItem(
        item=item,
        label=ITEM_LABELS.get(item, item),
        institution=names.get(institution, institution) if institution else "",
        eyes=tuple(EYES.get(eye, eye) for eye in requested.get("eyes") or ()),
        nutrition_allowance=bool(requested.get("nutrition_allowance")),
        poor=requested.get("poor"),
    )


def _review(review: Mapping[str, Any] | None) -> SignOff | None:
    if not review:
        return None
    opinion = str(review.get("opinion") or "")
    if not review.get("endorsed"):
        opinion = f"不同意（已退回）：{opinion}"
    return SignOff(opinion, **_signatories(review), signed_on=_date(review.get("reviewed_on")))


def _decision_block(decision: Mapping[str, Any] | None) -> SignOff | None:
    if not decision:
        return None
    opinion = "" if decision.get("outcome") == "approved" else f"不予批准：{decision.get('reason') or ''}"
    return SignOff(opinion, **_signatories(decision), signed_on=_date(decision.get("decided_on")))


def _decisions(decision: Mapping[str, Any] | None) -> tuple[ItemDecision, ...]:
    if not decision:
        return ()
    approved = tuple(
        ItemDecision(
            item=str(entry["item"]),
            label=ITEM_LABELS.get(entry["item"], entry["item"]),
            approved=True,
            subsidy=SUBSIDY_LABELS.get(entry.get("subsidy_mode") or "", ""),
            amount_fen=entry.get("amount_fen"),
        )
        for entry in decision.get("approved_items") or ()
    )
    refused = tuple(
        ItemDecision(
            item=str(entry["item"]),
            label=ITEM_LABELS.get(entry["item"], entry["item"]),
            approved=False,
            reason=str(entry.get("reason") or ""),
        )
        for entry in decision.get("rejected_items") or ()
    )
    return approved + refused


def _signatories(block: Mapping[str, Any]) -> dict[str, str]:
    signatories = block.get("signatories") or {}
    return {role: str(signatories.get(role) or "") for role in ("responsible", "reviewer", "handler")}


def _date(value: object) -> date | None:
    return date.fromisoformat(str(value)[:10]) if value else None
