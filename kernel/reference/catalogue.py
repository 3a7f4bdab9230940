"""Chinese names of the catalogue items 基本康复服务目录 and the disability categories 残疾类别, as the
forms 附件1 and 附件2 print them."""

from __future__ import annotations

from collections.abc import Iterable

SHAPINGBA_MEASURES = {
    "children_transport_living_allowance": "残疾儿童交通、生活补贴",
    "suspected_disability_diagnosis": "疑似残疾儿童诊断补贴",
    "mental_medication_aid": "精神残疾人服药救助",
    "mental_inpatient_aid": "精神残疾人住院补贴",
    "inpatient_medical_aid": "困难残疾人住院医疗救助",
    "family_inpatient_medical_aid": "困难残疾人配偶及未成年子女住院医疗救助",
}
"""Shapingba's measures as 沙府办发〔2023〕100号 names them, the same wherever an item is named."""

ITEM_NAMES = {
    "cataract_surgery": "白内障复明手术",
    "assistive_device_fitting": "辅助器具免费适配",
    "self_purchased_device_subsidy": "自费购买辅助器具补贴",
    "orientation_mobility_training": "盲人定向行走及适应训练",
    "low_vision_training": "低视力视功能训练",
    "support_service_midlife_blind": "支持性服务：中途盲者心理疏导",
    "support_service_mental": "支持性服务：精神残疾人生活自理、心理疏导",
    "children_rehab_training": "儿童康复训练",
    **SHAPINGBA_MEASURES,
}

CATEGORY_NAMES = {
    "vision": "视力",
    "hearing": "听力",
    "speech": "言语",
    "physical": "肢体",
    "intellectual": "智力",
    "mental": "精神",
}


def item_name(item: str) -> str:
    """One item as the forms print it (an unknown code as itself)."""
    return ITEM_NAMES.get(item, item)


def items_text(items: Iterable[str]) -> str:
    """Items as a user reads them, joined with 、: ``低视力视功能训练、白内障复明手术``."""
    return "、".join(item_name(item) for item in items)
