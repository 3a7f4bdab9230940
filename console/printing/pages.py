"""Printable forms as PDF: 附件1, 附件2, 附件3, 附件4 (issue 15, ADR 0017).

Each route gathers the form's data from the agencies' APIs with the clerk's own token and a purpose
(X-Purpose), so the services decide whom the clerk may print for and audit every read; the ``printing``
package lays the form out. A service's refusal shows as the console's refusal page, never a blank form.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar
from uuid import UUID

from fastapi import APIRouter, Request
from starlette.responses import Response

from console.agencies import Problem, ServiceRefused
from console.printing.annual_summary import PersonsUnreadable
from console.printing.annual_summary import annual_summary as gather_annual_summary
from console.printing.approval_form import approval_form, read_application
from console.printing.download import pdf_download
from console.printing.handbook import handbook as gather_handbook
from console.printing.service_card import NoCard, card_of_application, card_of_entitlements
from console.web import Clerk, SignedIn, console_of
from printing import (
    FontsMissing,
    ServiceCard,
    annual_summary_pdf,
    approval_form_pdf,
    handbook_pdf,
    service_card_pdf,
)

router = APIRouter(prefix="/print")

DELIVERY = "delivery"
PRINT_APPROVAL_FORM = "打印附件2补助申请审批表"
PRINT_HANDBOOK = "打印附件1精准康复服务手册"
PRINT_SERVICE_CARD = "打印附件4服务卡"
PRINT_ANNUAL_SUMMARY = "打印附件3汇总表"
Form = TypeVar("Form")


@router.get("/applications/{application_id}.pdf")
def application_pdf(request: Request, clerk: SignedIn, application_id: UUID) -> Response:
    """附件2 补助申请审批表 of one application, with the blocks signed so far (community, street, office)."""
    application = read_application(request, clerk, application_id, PRINT_APPROVAL_FORM)
    form = approval_form(request, clerk, application, PRINT_APPROVAL_FORM)
    filename = f"附件2-补助申请审批表-{form.street}街道-{form.serial_number}.pdf"
    return pdf_download(
        _printed(approval_form_pdf, form), filename, f"fujian2-application-{form.serial_number}.pdf"
    )


@router.get("/handbook/{person_id}.pdf")
def handbook_pdf_of(request: Request, clerk: SignedIn, person_id: UUID) -> Response:
    """附件1 精准康复服务手册 of one person: the pages the clerk's agency keeps filled, the others blank."""
    handbook = gather_handbook(request, clerk, person_id, PRINT_HANDBOOK)
    short = str(person_id)[:8]
    return pdf_download(
        _printed(handbook_pdf, handbook),
        f"附件1-精准康复服务手册-{short}.pdf",
        f"fujian1-handbook-{short}.pdf",
    )


@router.get("/service-cards/{application_id}.pdf")
def service_card_of_application(request: Request, clerk: SignedIn, application_id: UUID) -> Response:
    """附件4 服务卡 of an approved application: from approval for its clerks, from the items that reached
    a service institution for its staff."""
    try:
        if clerk.agency == DELIVERY:
            entitlements = _entitlements(request, clerk, application_id=str(application_id))
            card = card_of_entitlements(request, clerk, entitlements, PRINT_SERVICE_CARD)
        else:
            application = read_application(request, clerk, application_id, PRINT_SERVICE_CARD)
            card = card_of_application(request, clerk, application, PRINT_SERVICE_CARD)
    except NoCard as missing:
        raise ServiceRefused(Problem(404, "console.print.no_service_card", str(missing))) from missing
    return _card_download(card)


@router.get("/service-cards/number/{card_number}.pdf")
def service_card_by_number(request: Request, clerk: SignedIn, card_number: str) -> Response:
    """附件4 服务卡 found by its number (服务卡号, e.g. LJ2024-000017), as a clerk reads it off the card."""
    try:
        if clerk.agency == DELIVERY:
            entitlements = [
                entry
                for entry in _entitlements(request, clerk)
                if entry.get("service_card_number") == card_number
            ]
            card = card_of_entitlements(request, clerk, entitlements, PRINT_SERVICE_CARD)
        else:
            application = _approved_application(request, clerk, card_number)
            card = card_of_application(request, clerk, application, PRINT_SERVICE_CARD)
    except NoCard as missing:
        raise ServiceRefused(Problem(404, "console.print.no_service_card", str(missing))) from missing
    return _card_download(card)


@router.get("/annual-summary.pdf")
def annual_summary_pdf_of(
    request: Request,
    clerk: SignedIn,
    year: int | None = None,
    street: str = "",
    community: str = "",
    preparer: str = "",
    reviewer: str = "",
    filled_on: date | None = None,
) -> Response:
    """附件3 汇总表 of a street (or one community), A4 landscape; a street's own users default to it."""
    street = street or clerk.street or ""
    if not street:
        raise ServiceRefused(Problem(422, "console.print.street_required", "请选择街道（street）"))
    year = year or console_of(request).year()
    try:
        summary = gather_annual_summary(
            request,
            clerk,
            year=year,
            street=street,
            community=community or clerk.community,
            preparer=preparer,
            reviewer=reviewer,
            filled_on=filled_on,
            purpose=PRINT_ANNUAL_SUMMARY,
        )
    except PersonsUnreadable as gap:
        raise ServiceRefused(Problem(503, "console.print.persons_unreadable", str(gap))) from gap
    where = f"{street}街道" + (f"-{community}" if community else "")
    filename = f"附件3-康复需求和康复服务情况汇总表-{year}-{where}.pdf"
    return pdf_download(_printed(annual_summary_pdf, summary), filename, f"fujian3-summary-{year}.pdf")


def _card_download(card: ServiceCard) -> Response:
    number = card.card_number
    return pdf_download(
        _printed(service_card_pdf, card), f"附件4-服务卡-{number}.pdf", f"fujian4-card-{number}.pdf"
    )


def _entitlements(request: Request, clerk: Clerk, **params: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = console_of(request).agencies.get(
        DELIVERY, "/entitlements", user=clerk.name, purpose=PRINT_SERVICE_CARD, params=params
    )
    return found


def _approved_application(request: Request, clerk: Clerk, card_number: str) -> dict[str, Any]:
    """The approved application that holds ``card_number`` (LJ<year>-<sequence>: searched in its year)."""
    year = card_number.rsplit("-", 1)[0][-4:]
    params = {"status": "approved", "year": year if year.isdigit() else None}
    applications: list[dict[str, Any]] = console_of(request).agencies.every(
        "approval", "/applications", user=clerk.name, purpose=PRINT_SERVICE_CARD, params=params
    )
    for application in applications:
        if application.get("service_card_number") == card_number:
            return application
    raise NoCard(f"没有找到服务卡号为 {card_number} 的已批准申请")


def _printed(layout: Callable[[Form], bytes], form: Form) -> bytes:
    """The form's PDF; a host without the CJK fonts answers 503 with what to install, never a PDF of boxes."""
    try:
        return layout(form)
    except FontsMissing as missing:
        raise ServiceRefused(Problem(503, "console.print.fonts_missing", str(missing))) from missing
