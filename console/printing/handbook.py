"""附件1 手册 of one person, each page from the agency that fills it, read with the clerk's own token:
the street office's registry for 残疾人基本信息 (other agencies: the card console.names releases), the
assessment institution's records for 康复需求评估与转介记录 and the service institution's for 康复服务记录.
A page the clerk's agency does not keep prints blank, as the paper 手册 is handed out at the survey and
filled in by each institution in turn.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any
from uuid import UUID

from fastapi import Request

from console.labels import ITEM_LABELS
from console.names import person_cards
from console.printing.approval_form import institution_names
from console.printing.people import person_of_card, person_of_record
from console.web import Clerk, console_of
from kernel.access.auth import AUDIT
from printing import AssessmentPage, Handbook, Person, ServicePage

SURVEY, ASSESSMENT, DELIVERY = "survey", "assessment", "delivery"
SIGNED_BY = {"guardian": "监护人（已签字确认）", "person": "残疾人本人（已签字确认）"}
"""Who signed the record: the service keeps the role; the name is on the signed paper."""


def handbook(request: Request, clerk: Clerk, person_id: UUID, purpose: str) -> Handbook:
    assessments: tuple[AssessmentPage, ...] = ()
    services: tuple[ServicePage, ...] = ()
    if clerk.agency in (ASSESSMENT, AUDIT):
        assessments = _assessments(request, clerk, person_id, purpose)
    if clerk.agency in (DELIVERY, AUDIT):
        services = _services(request, clerk, person_id, purpose)
    jurisdiction = request.app.state.jurisdiction
    return Handbook(
        person=_person(request, clerk, person_id, purpose),
        assessments=assessments,
        services=services,
        issuer=jurisdiction.issuing_federation,
        title=jurisdiction.forms.handbook,
        catalogue=jurisdiction.forms.catalogue,
    )


def _get(request: Request, clerk: Clerk, service: str, path: str, purpose: str, **params: Any) -> Any:
    return console_of(request).agencies.get(service, path, user=clerk.name, purpose=purpose, params=params)


def _person(request: Request, clerk: Clerk, person_id: UUID, purpose: str) -> Person:
    if clerk.agency == SURVEY:
        return person_of_record(_get(request, clerk, SURVEY, f"/persons/{person_id}", purpose))
    return person_of_card(person_cards(request, clerk, [person_id], purpose=purpose).get(person_id))


def _assessments(request: Request, clerk: Clerk, person_id: UUID, purpose: str) -> tuple[AssessmentPage, ...]:
    found = _get(request, clerk, ASSESSMENT, "/assessments", purpose, person_id=str(person_id), limit=50)
    records = [
        _get(request, clerk, ASSESSMENT, f"/assessments/{summary['assessment_id']}", purpose)
        for summary in sorted(found.get("items", []), key=lambda summary: str(summary["assessed_on"]))
    ]
    return tuple(_assessment_page(record) for record in records)


def _assessment_page(record: Mapping[str, Any]) -> AssessmentPage:
    referrals = record.get("referrals") or []
    escalate = [ITEM_LABELS.get(item, item) for item in record.get("items_to_escalate") or ()]
    opinion = str(record.get("opinion") or "")
    if escalate and not opinion:
        opinion = f"{'、'.join(escalate)}：本机构不具备评估能力，请到市级评估机构复评"
    return AssessmentPage(
        needs=tuple(ITEM_LABELS.get(item, item) for item in record.get("assessed_needs") or ()),
        referral_needed=bool(record.get("referred", record.get("referral_needed"))),
        referred_to=tuple(str(referral["to_institution"]["name"]) for referral in referrals),
        institution=str(record["institution"]["name"]),
        assessor=str(record.get("assessor") or ""),
        assessed_on=_date(record.get("assessed_on")),
        opinion=opinion,
    )


def _services(request: Request, clerk: Clerk, person_id: UUID, purpose: str) -> tuple[ServicePage, ...]:
    records = _get(request, clerk, DELIVERY, "/deliveries", purpose, person_id=str(person_id))
    names = institution_names(request)
    return tuple(
        ServicePage(
            item=ITEM_LABELS.get(record["item"], record["item"]),
            frequency=str(record.get("frequency") or ""),
            period_start=_date(record.get("period_start")),
            period_end=_date(record.get("period_end")),
            institution=names.get(record["institution_id"], record["institution_id"]),
            staff=str(record.get("staff") or ""),
            signed_by=SIGNED_BY.get(record.get("signed_by") or "", ""),
            signed_on=_date(record.get("signed_on")),
        )
        for record in sorted(records, key=lambda record: str(record["period_start"]))
    )


def _date(value: object) -> date | None:
    return date.fromisoformat(str(value)[:10]) if value else None
