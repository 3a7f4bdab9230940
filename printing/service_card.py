"""附件4 《残疾人精准康复服务卡》 (Zhuhai's plan, 珠海 2017-2020): the card 区残联 issues after approval.

The seed names the card and what it is for («发放《残疾人精准康复服务卡》», «持……服务卡到……定点康复
机构接受康复服务») but prints no layout; the card shows what a service institution checks: its number,
the person, the approved items with their subsidy, the institution and how long the card is valid.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from printing.person import Person
from printing.render import html_of, pdf_of


@dataclass(frozen=True)
class CardItem:
    """An approved item 享受的康复项目."""

    label: str
    subsidy: str
    """免费 or 定额补助."""
    amount_fen: int | None = None
    institution: str = ""


@dataclass(frozen=True)
class ServiceCard:
    card_number: str
    person: Person
    items: tuple[CardItem, ...]
    valid_from: date
    valid_until: date
    issuer: str
    """The federation that issues the card (e.g. 珠海市香洲区残疾人联合会)."""
    issued_on: date | None = None
    application_serial_number: str = ""
    title: str = "残疾人精准康复服务卡"
    """The card's name as the place words it (the pack's ``forms.service_card``; Zhuhai's 附件4's)."""
    area_label: str = "街道"
    """What the person's area is called beside its 社区, as the seed's forms print 「街道 社区」: 街道, or
    区（县） where the pack's areas are counties (Zhuhai's 香洲区)."""


def service_card_html(card: ServiceCard) -> str:
    return html_of("service_card.html", card=card, person=card.person)


def service_card_pdf(card: ServiceCard) -> bytes:
    """The card on an A4 sheet, its front and its notes inside a cut line."""
    return pdf_of(service_card_html(card))
