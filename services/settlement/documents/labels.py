"""The words users know: Chinese names of rules, catalogue items and ledger accounts, and yuan amounts."""

from __future__ import annotations

from collections.abc import Iterable

from kernel.reference import Jurisdiction
from services.settlement.book.adjustments import base_rule
from services.settlement.book.names import ITEM_NAMES, RULE_NAMES, item_name
from services.settlement.book.policy import Policy

__all__ = [
    "ADJUSTMENT_NAME",
    "EVENT_NAMES",
    "ITEM_NAMES",
    "LEVELS",
    "RULE_NAMES",
    "SEXES",
    "SUBSIDY_MODES",
    "AccountNames",
    "event_name",
    "item_name",
    "rule_name",
    "yuan_plain",
]

SUBSIDY_MODES = {"free": "免费", "fixed_amount": "定额补助"}
LEVELS = {"district": "区级（一级）", "city": "市级（二级）"}
SEXES = {"male": "男", "female": "女"}


ADJUSTMENT_NAME = "（调整）"
"""Appended to the rule of an adjustment posting: ``survey_fee_adjustment`` is 需求调查工作经费（调整）."""


def rule_name(rule: str) -> str:
    base = base_rule(rule)
    name = RULE_NAMES.get(base, base)
    return name + ADJUSTMENT_NAME if base != rule else name


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
