"""Closed vocabularies of the forms (附件1-3) as stable snake_case codes; the Chinese term is the label."""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class Sex(StrEnum):
    """性别: male 男, female 女."""

    MALE = "male"
    FEMALE = "female"


class DisabilityCategory(StrEnum):
    """残疾类别 (several at once = 多重残疾): vision 视力, hearing 听力, speech 言语,
    physical 肢体, intellectual 智力, mental 精神."""

    VISION = "vision"
    HEARING = "hearing"
    SPEECH = "speech"
    PHYSICAL = "physical"
    INTELLECTUAL = "intellectual"
    MENTAL = "mental"


class DisabilitySubtype(StrEnum):
    """What a category leaves open where a seed pays differently: low_vision 低视力 and blind 盲 (both 视力
    残疾), autism 孤独症 (the children's programmes name it beside the categories)."""

    LOW_VISION = "low_vision"
    BLIND = "blind"
    AUTISM = "autism"


class DisabilityGrade(StrEnum):
    """残疾等级: grade_1 一级 (most severe) to grade_4 四级, or ungraded 未定级."""

    GRADE_1 = "grade_1"
    GRADE_2 = "grade_2"
    GRADE_3 = "grade_3"
    GRADE_4 = "grade_4"
    UNGRADED = "ungraded"


class EconomicStatus(StrEnum):
    """家庭经济状况: subsistence_allowance 低保家庭, low_income 低收入家庭, other 其他."""

    SUBSISTENCE_ALLOWANCE = "subsistence_allowance"
    LOW_INCOME = "low_income"
    OTHER = "other"


class HardshipStatus(StrEnum):
    """Family hardship 家庭经济困难 beyond 低保/低收入, as the children's programmes list it
    (沙府办发〔2023〕100号): institution_raised 儿童福利机构、未成年人救助保护机构收留抚养,
    scattered_orphan 散居孤儿, de_facto_unsupported 事实无人抚养,
    extreme_poverty_support 纳入特困人员供养范围,
    poverty_relapse_monitoring 乡村振兴部门认定的防止返贫监测对象家庭. Several may hold at once."""

    INSTITUTION_RAISED = "institution_raised"
    SCATTERED_ORPHAN = "scattered_orphan"
    DE_FACTO_UNSUPPORTED = "de_facto_unsupported"
    EXTREME_POVERTY_SUPPORT = "extreme_poverty_support"
    POVERTY_RELAPSE_MONITORING = "poverty_relapse_monitoring"


class MedicalInsurance(StrEnum):
    """享受医疗保险情况: urban_employee 城镇职工基本医疗保险, urban_rural_resident 城乡居民基本医疗保险,
    medical_aid 医疗救助, other 其他保险, none 无医疗保险."""

    URBAN_EMPLOYEE = "urban_employee"
    URBAN_RURAL_RESIDENT = "urban_rural_resident"
    MEDICAL_AID = "medical_aid"
    OTHER = "other"
    NONE = "none"


class CatalogueItem(StrEnum):
    """Items of the basic rehabilitation catalogue 基本康复服务目录: Liangjiang 附件2 and children's training.

    cataract_surgery 白内障复明手术; assistive_device_fitting 辅助器具免费适配;
    self_purchased_device_subsidy 自费购买辅助器具补贴; orientation_mobility_training
    盲人定向行走及适应训练; low_vision_training 低视力视功能训练; support_service_midlife_blind
    支持性服务(1) 中途盲者心理疏导; support_service_mental 支持性服务(2) 精神残疾人生活自理、心理疏导;
    children_rehab_training 儿童康复训练 (Shapingba, Anyang); Shapingba's measures (沙府办发〔2023〕100号):
    children_transport_living_allowance 残疾儿童交通、生活补贴, suspected_disability_diagnosis 疑似残疾儿童
    诊断补贴, mental_medication_aid 精神残疾人服药救助, mental_inpatient_aid 精神残疾人住院补贴,
    inpatient_medical_aid 困难残疾人住院医疗救助, family_inpatient_medical_aid 困难残疾人配偶及未成年子女
    住院医疗救助.
    """

    CATARACT_SURGERY = "cataract_surgery"
    ASSISTIVE_DEVICE_FITTING = "assistive_device_fitting"
    SELF_PURCHASED_DEVICE_SUBSIDY = "self_purchased_device_subsidy"
    ORIENTATION_MOBILITY_TRAINING = "orientation_mobility_training"
    LOW_VISION_TRAINING = "low_vision_training"
    SUPPORT_SERVICE_MIDLIFE_BLIND = "support_service_midlife_blind"
    SUPPORT_SERVICE_MENTAL = "support_service_mental"
    CHILDREN_REHAB_TRAINING = "children_rehab_training"
    CHILDREN_TRANSPORT_LIVING_ALLOWANCE = "children_transport_living_allowance"
    SUSPECTED_DISABILITY_DIAGNOSIS = "suspected_disability_diagnosis"
    MENTAL_MEDICATION_AID = "mental_medication_aid"
    MENTAL_INPATIENT_AID = "mental_inpatient_aid"
    INPATIENT_MEDICAL_AID = "inpatient_medical_aid"
    FAMILY_INPATIENT_MEDICAL_AID = "family_inpatient_medical_aid"


SUPPORT_SERVICE_ITEMS: Final = frozenset(
    {CatalogueItem.SUPPORT_SERVICE_MIDLIFE_BLIND, CatalogueItem.SUPPORT_SERVICE_MENTAL}
)
"""The 支持性服务 items: one application per certificate, per disability category, per year."""


class Eye(StrEnum):
    """Eye operated on in cataract surgery: left 左眼, right 右眼."""

    LEFT = "left"
    RIGHT = "right"


class InstitutionLevel(StrEnum):
    """Level of an assessment institution: district 区级 (一级), city 市级 (二级, takes escalations)."""

    DISTRICT = "district"
    CITY = "city"


class AssessmentMode(StrEnum):
    """Where the assessment took place: at_institution 到机构, home_visit 入户, group 集中评估."""

    AT_INSTITUTION = "at_institution"
    HOME_VISIT = "home_visit"
    GROUP = "group"


class ReferralTarget(StrEnum):
    """Whom a referral 转介 goes to: service_institution 定点康复服务机构, or assessment_institution
    = escalation to a city-level 定点康复评估机构 when the district level cannot assess."""

    SERVICE_INSTITUTION = "service_institution"
    ASSESSMENT_INSTITUTION = "assessment_institution"


class ReviewLevel(StrEnum):
    """Level that reviews an application before 区残联办 decides: community 居委会, street 街道办事处."""

    COMMUNITY = "community"
    STREET = "street"


class SubsidyMode(StrEnum):
    """补贴方式 decided by 区残联办: free 免费, fixed_amount 定额补助."""

    FREE = "free"
    FIXED_AMOUNT = "fixed_amount"


class Attachment(StrEnum):
    """申请需附资料: id_card_copy 身份证复印件, disability_certificate_copy 残疾证复印件,
    household_register_copy 户口簿复印件, service_handbook 精准康复服务手册,
    subsistence_certificate_copy 低保证复印件 (低保 applicants)."""

    ID_CARD_COPY = "id_card_copy"
    DISABILITY_CERTIFICATE_COPY = "disability_certificate_copy"
    HOUSEHOLD_REGISTER_COPY = "household_register_copy"
    SERVICE_HANDBOOK = "service_handbook"
    SUBSISTENCE_CERTIFICATE_COPY = "subsistence_certificate_copy"


class SignerRole(StrEnum):
    """Who signs an application or a service record: person 残疾人本人, guardian 监护人."""

    PERSON = "person"
    GUARDIAN = "guardian"
