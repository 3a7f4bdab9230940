"""The Chinese names the book's reasons use: posting rules as the policies name the money, catalogue items
as 附件2 lists them (documents/labels.py re-exports them for the documents)."""

from __future__ import annotations

from collections.abc import Mapping

from kernel.reference.catalogue import SHAPINGBA_MEASURES

RULE_NAMES = {
    "survey_fee": "需求调查工作经费",
    "management_fee": "康复管理经费",
    "assessment_fee": "评估、转介经费",
    "support_service": "支持性服务补贴",
    "service_subsidy": "康复服务项目补助",
}
"""Each posting rule as the policy texts name the money."""

ITEM_NAMES = {
    "cataract_surgery": "白内障复明手术",
    "assistive_device_fitting": "辅助器具免费适配",
    "self_purchased_device_subsidy": "自费购买辅助器具补贴",
    "orientation_mobility_training": "盲人定向行走及适应训练",
    "low_vision_training": "低视力视功能训练",
    "support_service_midlife_blind": "支持性服务（中途盲者心理疏导）",
    "support_service_mental": "支持性服务（精神残疾人生活自理、心理疏导）",
    "children_rehab_training": "儿童康复训练",
    **SHAPINGBA_MEASURES,
}
"""Catalogue items as 附件2 lists them (服务项目 of 《两江新区残疾人基本康复服务目录》), and Shapingba's
measures as 沙府办发〔2023〕100号 names them."""


def item_name(item: str) -> str:
    return ITEM_NAMES.get(item, item)


def named(names: Mapping[str, str], code: str) -> str:
    """An institution by its name from the reference data; its id when the reference data lacks it."""
    return names.get(code, code)
