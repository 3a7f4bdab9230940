"""What a clerk reads instead of codes: Chinese names of the vocabularies, dates as people write them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime

from kernel.access.auth import AUDIT, Role, Scope
from kernel.domain.clock import CHINA_STANDARD_TIME
from kernel.domain.clock import cn_date as day_in_chinese
from kernel.reference import Jurisdiction
from services.survey.labels import (
    CATEGORY_LABELS,
    ECONOMIC_LABELS,
    GRADE_LABELS,
    HARDSHIP_LABELS,
    INSURANCE_LABELS,
    ITEM_LABELS,
    SEX_LABELS,
    SUBTYPE_LABELS,
)

__all__ = [
    "AGENCY_LABELS",
    "ATTACHMENT_LABELS",
    "BLOCK_LABELS",
    "CATEGORY_LABELS",
    "ECONOMIC_LABELS",
    "GRADE_LABELS",
    "HARDSHIP_LABELS",
    "INSURANCE_LABELS",
    "ITEM_LABELS",
    "NAMED_LEVEL_ENDINGS",
    "ROLE_LABELS",
    "SEX_LABELS",
    "SIGNER_LABELS",
    "STATUS_LABELS",
    "SUBSIDY_LABELS",
    "SUBTYPE_LABELS",
    "area_name",
    "catalogue_of",
    "cn_date",
    "labels_of",
    "offered",
    "scope_label",
    "yuan",
]

AGENCY_LABELS = {
    "survey": "街道",
    "assessment": "定点康复评估机构",
    "approval": "社区 · 街道 · 区残联办（审批）",
    "delivery": "定点康复服务机构",
    "settlement": "区残联办 · 财政（结算）",
    AUDIT: "审计",
}
ROLE_LABELS = {
    Role.STAFF: "工作人员",
    Role.HANDLER: "经办人",
    Role.REVIEWER: "复核人",
    Role.RESPONSIBLE: "负责人",
    Role.AUDITOR: "审计人员",
}

STATUS_LABELS = {
    "incomplete": "资料不全",
    "awaiting_community_review": "待社区审核",
    "awaiting_street_review": "待街道审核",
    "awaiting_decision": "待区残联办审批",
    "awaiting_quota": "等待名额",
    "returned": "已退回",
    "approved": "已批准",
    "rejected": "未批准",
}
"""Where an application 附件2 stands."""
BLOCK_LABELS = {
    "community": "社区意见",
    "street": "街道意见",
    "decision": "残联办意见",
    "institution_change": "变更服务机构",
}
SIGNER_LABELS = {"responsible": "负责人", "reviewer": "复核人", "handler": "经办人"}
SUBSIDY_LABELS = {"free": "免费", "fixed_amount": "定额补助"}
ATTACHMENT_LABELS = {
    "id_card_copy": "身份证复印件",
    "disability_certificate_copy": "残疾人证复印件",
    "household_register_copy": "户口簿复印件",
    "service_handbook": "残疾人精准康复服务手册",
    "subsistence_certificate_copy": "低保证复印件",
}


def yuan(fen: object) -> str:
    """An amount in fen as 元 (120000 -> 1,200.00元); blank for nothing."""
    if fen in (None, ""):
        return ""
    try:
        value = int(str(fen))
    except ValueError:
        return str(fen)
    sign = "-" if value < 0 else ""
    whole, cents = divmod(abs(value), 100)
    return f"{sign}{whole:,}.{cents:02d}元"


def cn_date(value: object) -> str:
    """``2024-03-05`` -> ``2024年3月5日``; a moment (``2026-12-07T17:30:00+00:00``) on Beijing's calendar
    (2026年12月8日), not the UTC day's; blank for nothing; other text as it is."""
    if value in (None, ""):
        return ""
    try:
        return day_in_chinese(_day_of(value))
    except ValueError:
        return str(value)


def _day_of(value: object) -> date:
    if isinstance(value, datetime) or (isinstance(value, str) and len(value) > 10):
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
        return moment.astimezone(CHINA_STANDARD_TIME).date() if moment.tzinfo is not None else moment.date()
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def labels_of(codes: Iterable[str] | None, table: dict[str, str], joiner: str = "、") -> str:
    """Codes as their Chinese labels, joined as the forms write lists."""
    return joiner.join(table.get(code, code) for code in codes or ())


def scope_label(scope: Scope, institutions: Mapping[str, str] | None = None) -> str:
    """全区, 鸳鸯街道, 鸳鸯街道鸳鸯第一社区, or an institution's name (from the jurisdiction)."""
    if scope.kind == "institution":
        return (institutions or {}).get(scope.value, scope.value)
    if scope.kind == "district":
        return "全区"
    if scope.kind == "street":
        return area_name(scope.value)
    if scope.kind == "community":
        street, _, community = scope.value.partition("/")
        return f"{area_name(street)}{community}"
    return scope.value


NAMED_LEVEL_ENDINGS = ("区", "县", "市", "镇", "乡")
"""An area whose name already says its level (Anyang's nine 县、市、区, a 镇) is named as it is."""


def area_name(name: str) -> str:
    """A street as clerks say it (鸳鸯 -> 鸳鸯街道); a county or town keeps its own name (滑县, 文峰区)."""
    return name if name.endswith(NAMED_LEVEL_ENDINGS) else f"{name}街道"


def catalogue_of(jurisdiction: Jurisdiction) -> dict[str, str]:
    """The items of the pack's catalogue (those its designated institutions assess or serve), by their
    Chinese names; every item the contracts know when the pack designates no institution yet."""
    designated = {
        item for institution in jurisdiction.assessment_institutions for item in institution.designated_items
    }
    designated |= {
        item for institution in jurisdiction.service_institutions for item in institution.designated_items
    }
    return {item: label for item, label in ITEM_LABELS.items() if not designated or item in designated}


def offered(catalogue: Mapping[str, str], chosen: Iterable[str] = ()) -> dict[str, str]:
    """The items a form offers: the pack's catalogue, and any item already chosen (a correction of a record
    made before the catalogue changed keeps what it had)."""
    return {**catalogue, **{item: ITEM_LABELS.get(item, item) for item in chosen if item not in catalogue}}
