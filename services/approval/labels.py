"""Chinese names the form 附件2 uses for codes, so that error messages read as the users speak."""

from __future__ import annotations

from collections.abc import Iterable

from kernel.reference.catalogue import CATEGORY_NAMES, ITEM_NAMES, items_text

__all__ = [
    "ATTACHMENT_NAMES",
    "CATEGORY_NAMES",
    "ITEM_NAMES",
    "LEVEL_NAMES",
    "ROLE_NAMES",
    "STATUS_NAMES",
    "attachments_text",
    "categories_text",
    "items_text",
    "status_text",
]

STATUS_NAMES = {
    "incomplete": "资料不全",
    "awaiting_community_review": "待社区审核",
    "awaiting_street_review": "待街道审核",
    "awaiting_decision": "待区残联办审批",
    "awaiting_quota": "等待名额",
    "returned": "已退回",
    "approved": "已批准",
    "rejected": "未批准",
}
LEVEL_NAMES = {"community": "社区居委会", "street": "街道办事处", "district_office": "区残联办"}
ROLE_NAMES = {"responsible": "负责人", "reviewer": "复核人", "handler": "经办人"}
ATTACHMENT_NAMES = {
    "id_card_copy": "身份证复印件",
    "disability_certificate_copy": "残疾人证复印件",
    "household_register_copy": "户口簿复印件",
    "service_handbook": "残疾人精准康复服务手册",
    "subsistence_certificate_copy": "低保证复印件",
}


def attachments_text(attachments: Iterable[str]) -> str:
    """Attachments 申请需附资料 as the form prints them, joined with 、."""
    return "、".join(ATTACHMENT_NAMES.get(name, name) for name in attachments)


def categories_text(categories: Iterable[str]) -> str:
    """Disability categories 残疾类别 in the form's order (视力 first, 精神 last), joined with 、."""
    order = list(CATEGORY_NAMES)
    ranked = sorted(categories, key=lambda code: order.index(code) if code in order else len(order))
    return "、".join(CATEGORY_NAMES.get(code, code) for code in ranked)


def status_text(status: str) -> str:
    """An application's status as a reviewer says it."""
    return STATUS_NAMES.get(str(status), str(status))


NAMED_LEVEL_ENDINGS = ("区", "县", "市", "镇", "乡")
"""An area whose name already says its level (Anyang's nine 县、市、区, a 镇) is named as it is."""


def area_name(name: str) -> str:
    """A street as clerks say it (鸳鸯 -> 鸳鸯街道); a county or town keeps its own name (滑县, 文峰区),
    as the console names it (console/labels.py)."""
    return name if name.endswith(NAMED_LEVEL_ENDINGS) else f"{name}街道"
