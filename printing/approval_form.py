"""附件2 《…残疾人精准康复服务补助申请审批表》 of one application, titled as the place names it.

Laid out as the seed's form (渝两江管发〔2024〕18号, 附件2): 年度, 街道, 序号; the applicant's basic
information, 家庭经济状况, 享受医疗保险情况 and 监护人; the six 康复需求项目 with their choices; the
applicant's signature; 社区意见, 街道意见 and 残联办意见, each with its signatories, date and seal box;
the 填表说明 with the attachments handed in ticked.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from printing.person import CATEGORIES, GRADES, Person
from printing.render import html_of, pdf_of

ECONOMIC_STATUSES = ("低保家庭", "低收入家庭", "其他")
INSURANCES = (
    "城镇职工基本医疗保险",
    "城乡居民基本医疗保险",
    "医疗救助",
    "其他保险",
    "无医疗保险",
)
"""享受医疗保险情况, as the form words them after 享受 (无医疗保险 stands alone)."""
ATTACHMENTS = (
    "身份证复印件",
    "残疾人证复印件",
    "户口簿复印件",
    "残疾人精准康复服务手册",
    "低保证复印件",
)
"""申请需附资料 (填表说明 3)."""
EYES = ("左眼", "右眼")


@dataclass(frozen=True)
class CatalogueLine:
    """One line of 康复需求项目 as the seed prints it."""

    item: str
    """The catalogue item's code."""
    text: str
    offers_institutions: bool = False
    """The line offers the item's designated institutions to tick (4. and 5. of the seed's form)."""
    sub_item: bool = False
    """(1) and (2) of 支持性服务."""


CATALOGUE = (
    CatalogueLine("cataract_surgery", "1. 白内障复明手术"),
    CatalogueLine("assistive_device_fitting", "2. 辅助器具免费适配"),
    CatalogueLine("self_purchased_device_subsidy", "3. 自费购买辅助器具补贴"),
    CatalogueLine("orientation_mobility_training", "4. 盲人定向行走及适应训练", offers_institutions=True),
    CatalogueLine("low_vision_training", "5. 低视力视功能训练", offers_institutions=True),
    CatalogueLine("support_service_midlife_blind", "（1）中途盲者心理疏导", sub_item=True),
    CatalogueLine("support_service_mental", "（2）精神残疾人生活自理、心理疏导", sub_item=True),
)
SUPPORT_SERVICES = ("support_service_midlife_blind", "support_service_mental")
GENERIC_TITLE = "残疾人精准康复服务补助申请审批表"
"""The form's name without a place, for a form built without the pack's title."""
TITLE_BREAK = "申请审批表"


@dataclass(frozen=True)
class RequestedItem:
    """A ticked 康复需求项目 with its choices."""

    item: str
    """Catalogue code (cataract_surgery, ...)."""
    label: str
    """Its Chinese name, printed when the seed's form has no line for it."""
    institution: str = ""
    """The service institution chosen (服务机构), by name."""
    eyes: tuple[str, ...] = ()
    """左眼 / 右眼 (白内障复明手术)."""
    nutrition_allowance: bool = False
    """低保人员营养费 (白内障复明手术)."""
    poor: bool | None = None
    """贫困残疾人 (True) or 非贫困残疾人 (False) rate (自费购买辅助器具补贴)."""


@dataclass(frozen=True)
class ItemDecision:
    """残联办's decision on one item: 免费 or 定额补助 and its amount, or 不予批准 with the reason."""

    item: str
    label: str
    approved: bool
    subsidy: str = ""
    """免费 or 定额补助."""
    amount_fen: int | None = None
    reason: str = ""


@dataclass(frozen=True)
class SignOff:
    """One level's block: its opinion, the names who signed, the date. ``reviewer`` is absent at the
    community level (the seed's 社区意见 has 负责人 and 经办人 only)."""

    opinion: str = ""
    responsible: str = ""
    reviewer: str = ""
    handler: str = ""
    signed_on: date | None = None


@dataclass(frozen=True)
class ApprovalForm:
    """What 附件2 shows for one application."""

    year: int
    street: str
    serial_number: str
    person: Person
    economic_status: str = ""
    """One of ``ECONOMIC_STATUSES``."""
    insurances: tuple[str, ...] = ()
    """Each one of ``INSURANCES``."""
    requested: tuple[RequestedItem, ...] = ()
    attachments: tuple[str, ...] = ()
    """The attachments handed in, each one of ``ATTACHMENTS``."""
    applicant_is_guardian: bool = False
    submitted_on: date | None = None
    community: SignOff | None = None
    street_review: SignOff | None = None
    decision: SignOff | None = None
    decisions: tuple[ItemDecision, ...] = ()
    service_card_number: str = ""
    status: str = ""
    """Where the application stands (已批准, 待街道审核 ...), printed small under the title."""
    institution_choices: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """The designated service institutions per item (the pack's), offered to tick where a line does."""
    title: str = GENERIC_TITLE
    """The form's title as the place names it (the pack's ``forms.application``)."""

    @property
    def title_lines(self) -> tuple[str, ...]:
        """The title on two lines, broken before 申请审批表 as the seed's form prints it."""
        head, found, tail = self.title.rpartition(TITLE_BREAK)
        return (head, found + tail) if found and head else (self.title,)

    def requested_item(self, item: str) -> RequestedItem | None:
        return next((requested for requested in self.requested if requested.item == item), None)

    def institutions_for(self, line: CatalogueLine) -> tuple[str, ...]:
        """The jurisdiction's institutions for a line that offers them, and the one chosen if it is not
        among them; none for a line that does not."""
        if not line.offers_institutions:
            return ()
        offered = tuple(self.institution_choices.get(line.item, ()))
        chosen = self.requested_item(line.item)
        if offered and chosen is not None and chosen.institution and chosen.institution not in offered:
            offered = (*offered, chosen.institution)
        return offered

    @property
    def support_service(self) -> RequestedItem | None:
        """The 支持性服务 asked for (its institution fills line 6's 服务机构)."""
        return next(
            (self.requested_item(item) for item in SUPPORT_SERVICES if self.requested_item(item)), None
        )

    @property
    def other_items(self) -> tuple[RequestedItem, ...]:
        """Items asked for that the Liangjiang form has no line for (e.g. 儿童康复训练)."""
        known = {line.item for line in CATALOGUE}
        return tuple(requested for requested in self.requested if requested.item not in known)

    @property
    def approved(self) -> tuple[ItemDecision, ...]:
        return tuple(decision for decision in self.decisions if decision.approved)

    @property
    def refused(self) -> tuple[ItemDecision, ...]:
        return tuple(decision for decision in self.decisions if not decision.approved)


def approval_form_html(form: ApprovalForm) -> str:
    return html_of(
        "approval_form.html",
        form=form,
        person=form.person,
        CATALOGUE=CATALOGUE,
        CATEGORIES=CATEGORIES,
        GRADES=GRADES,
        ECONOMIC_STATUSES=ECONOMIC_STATUSES,
        INSURANCES=INSURANCES,
        ATTACHMENTS=ATTACHMENTS,
        EYES=EYES,
    )


def approval_form_pdf(form: ApprovalForm) -> bytes:
    """附件2 on one A4 sheet, two when a long decision needs it."""
    return pdf_of(approval_form_html(form))
