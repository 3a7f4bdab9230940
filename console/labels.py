"""What a clerk reads instead of codes: Chinese names of the vocabularies, dates as people write them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from kernel.access.auth import AUDIT, Role, Scope
from services.survey.labels import (
    CATEGORY_LABELS,
    ECONOMIC_LABELS,
    GRADE_LABELS,
    INSURANCE_LABELS,
    ITEM_LABELS,
    SEX_LABELS,
)

__all__ = [
    "AGENCY_LABELS",
    "CATEGORY_LABELS",
    "ECONOMIC_LABELS",
    "GRADE_LABELS",
    "INSURANCE_LABELS",
    "ITEM_LABELS",
    "ROLE_LABELS",
    "SEX_LABELS",
    "cn_date",
    "labels_of",
    "scope_label",
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


def cn_date(value: object) -> str:
    """``2024-03-05`` -> ``2024年3月5日``; blank for nothing; other text as it is."""
    if value in (None, ""):
        return ""
    try:
        day = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
    except ValueError:
        return str(value)
    return f"{day.year}年{day.month}月{day.day}日"


def labels_of(codes: Iterable[str] | None, table: dict[str, str], joiner: str = "、") -> str:
    """Codes as their Chinese labels, joined as the forms write lists."""
    return joiner.join(table.get(code, code) for code in codes or ())


def scope_label(scope: Scope) -> str:
    if scope.kind == "district":
        return "全区"
    if scope.kind == "street":
        return f"{scope.value}街道"
    if scope.kind == "community":
        street, _, community = scope.value.partition("/")
        return f"{street}街道{community}"
    return scope.value
