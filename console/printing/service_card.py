"""附件4 服务卡 of an approved application, from the approval service (approval users) or from the items
as they reached delivery (service institutions), the person from the registry (console.names); its name
and issuer from the deployment's pack.

The card is valid from the day 区残联办 approved to the end of the application year: the institution a
person chose is fixed for that year (「当年度原则上不作变更」).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any
from uuid import UUID

from fastapi import Request

from console.labels import ITEM_LABELS, SUBSIDY_LABELS
from console.names import person_cards
from console.printing.approval_form import institution_names
from console.printing.people import person_of_card
from console.web import Clerk
from printing import CardItem, ServiceCard

AREA_LABELS = {"street": "街道", "county": "区（县）"}
"""The card's label of the person's area, by the pack's ``area_kind``."""


class NoCard(Exception):
    """The application has no service card (not approved, or nothing of it reached the institution)."""


def issuer(request: Request, area: str | None) -> str:
    """The federation office that issues the cards of a person of ``area``, as the deployment's pack
    names it (Zhuhai: the person's 区残联)."""
    issuing: str = request.app.state.jurisdiction.card_issuer_of(area)
    return issuing


def card_of_application(
    request: Request, clerk: Clerk, application: Mapping[str, Any], purpose: str
) -> ServiceCard:
    """The card of an application as the approval service shows it."""
    decision = application.get("decision") or {}
    number = application.get("service_card_number")
    if not number or decision.get("outcome") != "approved":
        raise NoCard("该申请尚未批准，没有服务卡")
    names = institution_names(request)
    now = application.get("institutions") or {}
    items = tuple(
        _item(entry, now.get(entry["item"]) or entry.get("institution_id"), names)
        for entry in decision.get("approved_items") or ()
    )
    approved_on = date.fromisoformat(str(decision["decided_on"]))
    return _card(request, clerk, application["person_id"], str(number), items, approved_on, purpose)


def card_of_entitlements(
    request: Request, clerk: Clerk, entitlements: Sequence[Mapping[str, Any]], purpose: str
) -> ServiceCard:
    """The card as a service institution sees it: the approved items of one card that reached it."""
    if not entitlements:
        raise NoCard("没有找到本机构可见的服务卡项目")
    names = institution_names(request)
    first = entitlements[0]
    items = tuple(
        _item(entry, entry.get("current_institution_id") or entry.get("institution_id"), names)
        for entry in entitlements
    )
    approved_on = date.fromisoformat(str(first["approved_on"]))
    number = str(first["service_card_number"])
    return _card(request, clerk, first["person_id"], number, items, approved_on, purpose)


def _item(entry: Mapping[str, Any], institution: str | None, names: Mapping[str, str]) -> CardItem:
    item = str(entry["item"])
    return CardItem(
        label=ITEM_LABELS.get(item, item),
        subsidy=SUBSIDY_LABELS.get(entry.get("subsidy_mode") or "", ""),
        amount_fen=entry.get("amount_fen"),
        institution=names.get(institution, institution) if institution else "",
    )


def _card(
    request: Request,
    clerk: Clerk,
    person_id: object,
    number: str,
    items: tuple[CardItem, ...],
    approved_on: date,
    purpose: str,
) -> ServiceCard:
    person = UUID(str(person_id))
    card = person_cards(request, clerk, [person], purpose=purpose).get(person)
    return ServiceCard(
        card_number=number,
        person=person_of_card(card),
        items=items,
        valid_from=approved_on,
        valid_until=date(approved_on.year, 12, 31),
        issuer=issuer(request, card.street if card else None),
        issued_on=approved_on,
        title=request.app.state.jurisdiction.forms.service_card,
        area_label=AREA_LABELS[request.app.state.jurisdiction.area_kind],
    )
