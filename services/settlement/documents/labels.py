"""The words users know: Chinese names of rules, catalogue items and ledger accounts, and yuan amounts."""

from __future__ import annotations

from collections.abc import Iterable

from kernel.reference import Jurisdiction
from services.settlement.book.adjustments import base_rule
from services.settlement.book.policy import Policy

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
}
"""Catalogue items as 附件2 lists them (服务项目 of 《两江新区残疾人基本康复服务目录》)."""

SUBSIDY_MODES = {"free": "免费", "fixed_amount": "定额补助"}
LEVELS = {"district": "区级（一级）", "city": "市级（二级）"}
SEXES = {"male": "男", "female": "女"}


ADJUSTMENT_NAME = "（调整）"
"""Appended to the rule of an adjustment posting: ``survey_fee_adjustment`` is 需求调查工作经费（调整）."""


def rule_name(rule: str) -> str:
    base = base_rule(rule)
    name = RULE_NAMES.get(base, base)
    return name + ADJUSTMENT_NAME if base != rule else name


def item_name(item: str) -> str:
    return ITEM_NAMES.get(item, item)


def yuan_plain(fen: int) -> str:
    """Integer fen as yuan with two decimals and no thousands separator, e.g. 123456 -> '1234.56'."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole}.{cents:02d}"


class AccountNames:
    """Names of ledger accounts: funds from the policies, institutions from the jurisdiction."""

    def __init__(self, jurisdiction: Jurisdiction, policies: Iterable[Policy] = ()) -> None:
        self._jurisdiction = jurisdiction
        self._funds = {
            source.account: source.name for policy in policies for source in policy.funding.sources.values()
        }

    def institution(self, institution_id: str) -> str:
        """An assessment or service institution's name, or its id when the reference data lacks it."""
        found = self._jurisdiction.service_institution(institution_id) or (
            self._jurisdiction.assessment_institution(institution_id)
        )
        return institution_id if found is None else found.name

    def __call__(self, account: str) -> str:
        kind, _, name = account.partition(":")
        if kind == "fund":
            return self._funds.get(account, account)
        if kind == "street":
            return f"{name}街道"
        if kind in ("assessment_institution", "service_institution"):
            return self.institution(name)
        if kind == "person":
            return f"残疾人（编号 {name}）"
        return account


EVENT_NAMES = {
    "survey.person_registered": "残疾人基本信息登记",
    "survey.person_details_corrected": "基本信息更正",
    "survey.need_surveyed": "康复需求调查",
    "assessment.assessment_completed": "康复需求评估",
    "assessment.referral_issued": "转介",
    "approval.application_submitted": "补助申请",
    "approval.application_reviewed": "申请审核",
    "approval.application_approved": "残联办审批同意",
    "approval.application_rejected": "残联办审批不同意",
    "delivery.service_delivered": "康复服务记录（签字确认）",
}
"""Archived event types as the workflow steps users know."""


def event_name(event_type: str) -> str:
    return EVENT_NAMES.get(event_type, event_type)
