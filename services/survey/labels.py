"""The forms' Chinese labels of the vocabularies (附件1, 附件2), and the spellings a sheet may use for them.

``LABELS`` print a code as the forms do; ``ALIASES`` read what a street office types into a sheet
cell back to the code. Codes themselves (``vision``, ``grade_2``...) are accepted too.
"""

from __future__ import annotations

from collections.abc import Mapping

from kernel.reference.catalogue import CATEGORY_NAMES, SHAPINGBA_MEASURES

SEX_LABELS = {"male": "男", "female": "女"}
CATEGORY_LABELS = CATEGORY_NAMES
GRADE_LABELS = {
    "grade_1": "一级",
    "grade_2": "二级",
    "grade_3": "三级",
    "grade_4": "四级",
    "ungraded": "未定级",
}
ECONOMIC_LABELS = {"subsistence_allowance": "低保家庭", "low_income": "低收入家庭", "other": "其他"}
INSURANCE_LABELS = {
    "urban_employee": "城镇职工基本医疗保险",
    "urban_rural_resident": "城乡居民基本医疗保险",
    "medical_aid": "医疗救助",
    "other": "其他保险",
    "none": "无医疗保险",
}
ITEM_LABELS = {
    "cataract_surgery": "白内障复明手术",
    "assistive_device_fitting": "辅助器具免费适配",
    "self_purchased_device_subsidy": "自费购买辅助器具补贴",
    "orientation_mobility_training": "盲人定向行走及适应训练",
    "low_vision_training": "低视力视功能训练",
    "support_service_midlife_blind": "中途盲者心理疏导",
    "support_service_mental": "精神残疾人生活自理及心理疏导",
    "children_rehab_training": "儿童康复训练",
    **SHAPINGBA_MEASURES,
}
"""附件2 康复需求项目 (the form writes the last support service as 生活自理、心理疏导), and Shapingba's
measures as 沙府办发〔2023〕100号 names them."""

SUBTYPE_LABELS = {"low_vision": "低视力", "blind": "盲", "autism": "孤独症"}
"""What a category leaves open where a standard differs (沙府办发〔2023〕100号)."""
HARDSHIP_LABELS = {
    "extreme_poverty_support": "纳入特困人员供养范围",
    "scattered_orphan": "散居孤儿",
    "de_facto_unsupported": "事实无人抚养儿童",
    "institution_raised": "儿童福利机构、未成年人救助保护机构收留抚养",
    "poverty_relapse_monitoring": "防止返贫监测对象家庭",
}
"""Family hardship 家庭经济困难 beyond 低保/低收入, as the children's programmes list it."""

YES, NO = "有", "无"


def _aliases(labels: Mapping[str, str], extra: Mapping[str, str]) -> dict[str, str]:
    table = {code: code for code in labels}
    table.update({label: code for code, label in labels.items()})
    table.update(extra)
    return table


SEX_ALIASES = _aliases(SEX_LABELS, {"男性": "male", "女性": "female"})
CATEGORY_ALIASES = _aliases(
    CATEGORY_LABELS, {f"{label}残疾": code for code, label in CATEGORY_LABELS.items()}
)
GRADE_ALIASES = _aliases(
    GRADE_LABELS,
    {
        **{f"{digit}级": f"grade_{digit}" for digit in "1234"},
        "未评级": "ungraded",
    },
)
ECONOMIC_ALIASES = _aliases(ECONOMIC_LABELS, {"低保": "subsistence_allowance", "低收入": "low_income"})
INSURANCE_ALIASES = _aliases(
    INSURANCE_LABELS,
    {
        "城镇职工": "urban_employee",
        "城镇职工医保": "urban_employee",
        "城乡居民": "urban_rural_resident",
        "城乡居民医保": "urban_rural_resident",
        "其他": "other",
        "无": "none",
    },
)
ITEM_ALIASES = _aliases(
    ITEM_LABELS,
    {
        "白内障": "cataract_surgery",
        "辅助器具适配": "assistive_device_fitting",
        "辅具适配": "assistive_device_fitting",
        "盲人定向行走": "orientation_mobility_training",
        "定向行走": "orientation_mobility_training",
        "低视力训练": "low_vision_training",
        "支持性服务(1)": "support_service_midlife_blind",
        "支持性服务(1)中途盲者心理疏导": "support_service_midlife_blind",
        "精神残疾人生活自理心理疏导": "support_service_mental",
        "支持性服务(2)": "support_service_mental",
        "支持性服务(2)精神残疾人生活自理及心理疏导": "support_service_mental",
        "残疾儿童康复训练": "children_rehab_training",
    },
)
SUBTYPE_ALIASES = _aliases(SUBTYPE_LABELS, {"盲人": "blind", "全盲": "blind", "孤独症谱系障碍": "autism"})
HARDSHIP_SHORT = {
    "extreme_poverty_support": "特困供养",
    "scattered_orphan": "散居孤儿",
    "de_facto_unsupported": "事实无人抚养",
    "institution_raised": "机构收留抚养",
    "poverty_relapse_monitoring": "防止返贫监测对象",
}
"""How a sheet's cell names each hardship status (the full names hold a 、, the cell's separator)."""
HARDSHIP_ALIASES = _aliases(
    HARDSHIP_SHORT,
    {
        **{label: code for code, label in HARDSHIP_LABELS.items() if "、" not in label},
        "特困": "extreme_poverty_support",
        "特困人员": "extreme_poverty_support",
        "孤儿": "scattered_orphan",
        "事实无人抚养儿童": "de_facto_unsupported",
        "防返贫监测对象": "poverty_relapse_monitoring",
        "防止返贫监测对象家庭": "poverty_relapse_monitoring",
    },
)
YES_WORDS = frozenset({"有", "是", "√", "✓", "Y", "y", "yes", "true", "1"})
NO_WORDS = frozenset({"无", "否", "没有", "×", "N", "n", "no", "false", "0"})
