"""A service's message as a clerk reads it: the API's field names in Chinese, amounts in 元.

The services answer in Chinese but name fields as their API does (``reason``, ``approved_items``) and
count money in fen (分). Every problem the console shows passes through ``plain`` once
(``console.agencies.Problem.of``), so no form has to translate its own messages.
"""

from __future__ import annotations

import re

from console.labels import yuan

__all__ = ["FIELD_LABELS", "field_of", "plain"]

FIELD_LABELS = {
    "amount_fen": "金额",
    "approved_items": "同意的项目",
    "rejected_items": "不予批准的项目",
    "reason": "理由",
    "outcome": "审批结果",
    "subsidy_mode": "补贴方式",
    "decided_on": "审批日期",
    "signatories": "签字人",
    "responsible": "负责人",
    "reviewer": "复核人",
    "handler": "经办人",
    "item": "项目",
    "institution_id": "服务机构",
    "from_institution_id": "原服务机构",
    "to_institution_id": "新的服务机构",
    "endorsed": "是否同意",
    "opinion": "意见",
    "reviewed_on": "签署日期",
    "level": "审核层级",
    "proposal_id": "签字栏",
    "serial_number": "序号",
    "application_year": "年度",
    "requested_items": "康复需求项目",
    "attachments": "申请需附资料",
    "added_on": "补交日期",
    "economic_status": "家庭经济状况",
    "disability_categories": "残疾类别",
    "certified": "持证情况",
    "applicant_role": "申请人签字",
    "submitted_on": "申请日期",
    "person_id": "人员",
    "referral_id": "转介",
    "application_id": "申请",
    "assessor": "评估人",
    "assessed_on": "评估时间",
    "assessed_needs": "评估的康复需求",
    "referral_needed": "是否需转介",
    "to_kind": "转介去向",
    "items": "项目",
    "issued_on": "转介日期",
    "frequency": "服务频次",
    "period_start": "服务周期起",
    "period_end": "服务周期止",
    "staff": "服务人员",
    "signed_by": "签字人",
    "signed_on": "签字日期",
    "charge_fen": "收费金额",
    "insurance_paid_fen": "医保等已支付",
    "survey_year": "调查年度",
    "surveyed_on": "调查日期",
    "surveyor": "调查人",
    "needed_items": "需求项目",
    "has_needs": "康复需求",
    "home_visit_required": "行动不便",
    "id_number": "身份证号",
    "certificate_number": "残疾人证号",
    "disability_grade": "残疾等级",
    "disability_subtypes": "残疾细类",
    "medical_insurance": "医疗保险",
    "registered_on": "登记日期",
    "birth_date": "出生日期",
}
"""API field names as the forms label them, for the names a message mentions in its text."""

NAME = r"[a-z][a-z0-9]*(?:_[a-z0-9]+)+|[a-z]+"
"""An API field name (snake_case, or one lowercase word) inside a Chinese message."""
FIELD_IN_TEXT = re.compile(rf"(?<![A-Za-z0-9_.])(?:{NAME})(?:\.(?:{NAME}|\d+))*(?![A-Za-z0-9_])")
NAMED_ONLY = re.compile(rf"[（(]\s*((?:{NAME})(?:\.(?:{NAME}|\d+))*)\s*(?:[，,]\s*单位分\s*)?[）)]")
"""A parenthesis that only names the field the Chinese word before it already says: ``理由（reason）``."""
FEN_WITH_UNIT = re.compile(r"(-?\d[\d,]*)\s*分(?!钟|类|级|别|配|数)")
BOUND = re.compile(r"(应不大于|应不小于|应大于|应小于|不超过|不少于|至多|至少|为)\s*(-?\d+)(?![\d.,元分])")
WHOLE_BODY = re.compile(r"(?<![A-Za-z0-9_])body\s*[：:]\s*")
"""A message about the whole request (``body：…``): about the form itself, named by no field."""
CJK_SPACE = re.compile(r"(?<=[\u3000-\u9fff\uff00-\uffef])\s+(?=[\u3000-\u9fff\uff00-\uffef])")


def field_of(name: str) -> str:
    """The form field of a problem's field: the whole body (``body``) is the form itself."""
    return "" if name == "body" else name


def plain(message: str, field: str = "") -> str:
    """``message`` with the API's field names in Chinese and amounts in fen as 元.

    Amounts: every ``N 分``; a bare bound (``应不大于 100000000``) when ``field`` is one in fen."""
    text = FEN_WITH_UNIT.sub(lambda found: yuan(int(found.group(1).replace(",", ""))), message)
    if field.rsplit(".", 1)[-1].endswith("_fen"):
        text = BOUND.sub(lambda found: f"{found.group(1)} {_bound(found.group(2))}", text)
    text = WHOLE_BODY.sub("", text)
    text = NAMED_ONLY.sub(lambda found: "" if _known(found.group(1)) else found.group(0), text)
    text = FIELD_IN_TEXT.sub(lambda found: _label(found.group(0)) or found.group(0), text)
    return CJK_SPACE.sub("", text)


def _bound(fen: str) -> str:
    """A bound in fen as 元; 0 is 0 in any unit."""
    return fen if fen == "0" else yuan(int(fen))


def _known(name: str) -> bool:
    return _label(name) is not None


def _label(name: str) -> str | None:
    """``approved_items.0.amount_fen`` -> 金额 (the last part a label is known for); None if unknown."""
    parts = [part for part in name.split(".") if not part.isdigit()]
    for part in reversed(parts):
        if part in FIELD_LABELS:
            return FIELD_LABELS[part]
    return None
