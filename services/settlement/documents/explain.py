"""Why a posting's amount is what it is 记账说明: rule, policy clause and figure, inputs, sums, sources."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from rehab_contracts import EventEnvelope
from sqlalchemy import Engine

from kernel.domain.clock import CHINA_STANDARD_TIME, business_date
from services.settlement.book.adjustments import CLAW_BACK, TOP_UP, base_rule
from services.settlement.book.dues import Posting
from services.settlement.book.policy import (
    Cap,
    DeploymentInput,
    FixedAmount,
    Free,
    Monthly,
    Percentage,
    Policy,
    PolicySet,
    Range,
    Unstated,
    fen_of,
)
from services.settlement.documents.labels import (
    LEVELS,
    SUBSIDY_MODES,
    AccountNames,
    event_name,
    item_name,
    rule_name,
)
from services.settlement.ledger.archive import archived_events
from services.settlement.ledger.queries import find_posting
from services.settlement.ledger.report import yuan

INPUT_LABELS = {
    "person_id": "人员编号",
    "year": "年度",
    "street": "街道",
    "assessment_institution": "评估机构",
    "institution": "机构",
    "level": "评估机构级别",
    "item": "服务项目",
    "application_id": "申请编号",
    "delivery_id": "服务记录编号",
    "charge_fen": "收费总额",
    "insurance_paid_fen": "医保等先行支付",
    "self_paid_fen": "自付部分",
    "subsidy_mode": "补贴方式",
    "approved_amount_fen": "审批金额（定额）",
    "supplement": "随项目补助",
    "amount_fen": "定额",
    "standard_fen": "目录标准",
    "standard_bound": "标准上限",
    "months_trained": "训练月数",
    "monthly_standard_fen": "每月补助标准",
    "cap_fen": "补助上限",
    "already_paid_fen": "本申请此项目已付补助",
    "fee_fen": "标准",
    "total_fen": "应付总额",
    "funding_source": "资金来源",
    "share_percent": "分担比例（%）",
    "adjustment": "调整方向",
    "correcting_event_id": "更正事件",
    "adjusts_posting_ids": "被调整的记账",
    "posted_before_fen": "此前已记",
    "due_now_fen": "更正后应付",
}
"""The inputs a rule records, in the order they are printed, with their Chinese names."""


@dataclass(frozen=True)
class SourceEvent:
    """An archived event a posting rests on."""

    event_id: str
    event_type: str
    business_date: date
    received_at: datetime | None


@dataclass(frozen=True)
class PolicyBasis:
    """The clause of the policy the rule applied, and its figure as the policy states it."""

    policy_id: str
    version: int
    title: str
    source: str
    effective_from: date
    clause: str
    figure: str
    note: str | None = None


@dataclass(frozen=True)
class Explanation:
    posting: Posting
    debit_name: str
    credit_name: str
    basis: PolicyBasis
    inputs: tuple[tuple[str, str, str], ...]
    """(input name, Chinese label, value as printed)."""
    arithmetic: tuple[str, ...]
    sources: tuple[SourceEvent, ...]

    @property
    def rule_name(self) -> str:
        return rule_name(self.posting.rule)


def explain(
    posting: Posting,
    policy: Policy | None,
    sources: Sequence[tuple[EventEnvelope, datetime | None]],
    names: AccountNames,
) -> Explanation:
    """The explanation of a posting from its recorded inputs and the policy it names (pure)."""
    return Explanation(
        posting=posting,
        debit_name=names(posting.debit_account),
        credit_name=names(posting.credit_account),
        basis=_basis(posting, policy),
        inputs=_inputs(posting.inputs, names),
        arithmetic=tuple(_arithmetic(posting, policy)),
        sources=tuple(
            SourceEvent(
                str(envelope.event_id), envelope.event_type, business_date(envelope.occurred_at), received_at
            )
            for envelope, received_at in sources
        ),
    )


def explain_posting(
    engine: Engine, posting_id: UUID, policies: PolicySet, names: AccountNames
) -> Explanation | None:
    """Explain a posting of the live ledger, with the archived events it rests on; None when unknown."""
    posting = find_posting(engine, posting_id)
    if posting is None:
        return None
    sources = archived_events(engine, posting.source_event_ids)
    return explain(posting, policies.get(posting.policy_id), sources, names)


# -- the policy clause -------------------------------------------------------------------------
def _basis(posting: Posting, policy: Policy | None) -> PolicyBasis:
    if policy is None:
        return PolicyBasis(
            posting.policy_id,
            posting.policy_version,
            "（未找到政策文件）",
            "",
            date.min,
            "",
            "",
            note="没有加载该编号的政策文件；以下数据取自记账时记录的输入",
        )
    clause, figure = _clause(posting, policy)
    note = None
    if policy.version != posting.policy_version:
        note = (
            f"政策文件现为第 {policy.version} 版；本笔记账按第 {posting.policy_version} 版计算"
            "（所用数据见下方“计算所用数据”）"
        )
    return PolicyBasis(
        policy.id,
        posting.policy_version,
        policy.title,
        chinese_dates(policy.source),
        policy.effective_from,
        clause,
        figure,
        note,
    )


def _clause(posting: Posting, policy: Policy) -> tuple[str, str]:
    rule = base_rule(posting.rule)
    if rule in FEE_CLAUSES:
        field = "support_service_fen" if rule == "support_service" else f"{rule}_fen"
        return FEE_CLAUSES[rule], _figure(getattr(policy.fees, field), "元/人")
    if rule == "service_subsidy":
        return _item_clause(posting, policy)
    return rule, ""


ADJUSTMENT_DIRECTIONS = {TOP_UP: "补付", CLAW_BACK: "追回"}

FEE_CLAUSES = {
    "survey_fee": "需求调查工作经费：每完成 1 名残疾人康复需求调查，按每人标准付给街道",
    "management_fee": "康复管理经费：经调查有康复需求并完成评估的残疾人，每人按标准付给街道",
    "assessment_fee": "评估、转介经费：区级指定定点评估机构每评估 1 人，按标准支付",
    "support_service": "支持性服务补贴：每人每年按标准付给项目实施机构",
}
"""The fee rules as the policies state them (the figure follows from the policy in force)."""

SUBSIDY_CLAUSES: dict[type, str] = {
    Free: "免费：医保等先行支付后，补助自付部分，以标准为限",
    FixedAmount: "定额：按定额补助，不论收费多少",
    Cap: "限额：补助自付部分，每期以限额为限",
    Percentage: "按比例：补助自付部分的一定比例，以限额为限",
    Monthly: "按月：每月补助标准乘以服务月数，以月数上限为限",
    Range: "区间：由区残联办在上下限之间决定补助金额",
}
"""How each kind of subsidy 补助方式 is computed (book/policy.py)."""


def _item_clause(posting: Posting, policy: Policy) -> tuple[str, str]:
    code = str(posting.inputs.get("item", ""))
    item = policy.item(code)
    if item is None:
        return f"「{item_name(code)}」不在《{policy.title}》的服务目录中", ""
    supplement = posting.inputs.get("supplement")
    if supplement is not None:
        amount = _fen(posting.inputs, "amount_fen")
        figure = "" if amount is None else f"{yuan(amount)} 元/份申请"
        return f"{item.name}：{supplement}（申请表勾选此项、符合条件的，随项目付给本人，定额）", figure
    tier = item.sole_standard()
    if posting.inputs.get("subsidy_mode") == "fixed_amount":
        approved = posting.inputs.get("approved_amount_fen")
        figure = f"区残联办审批定额 {yuan(int(approved))} 元" if isinstance(approved, int) else ""
        return f"{item.name}（定额补助：按区残联办审批金额，医保等先行支付后补助自付部分）", figure
    if tier is None:
        return f"{item.name}（按条件分档补助）", ""
    subsidy = tier.subsidy
    doc = SUBSIDY_CLAUSES.get(type(subsidy), "")
    figure_value = next(
        (
            getattr(subsidy, name)
            for name in ("standard_fen", "cap_fen", "amount_fen", "monthly_fen")
            if hasattr(subsidy, name)
        ),
        None,
    )
    insurance = "医保等先行支付" if policy.insurance_first is True else ""
    clause = "；".join(part for part in (f"{item.name}：{tier.name}", doc, insurance) if part)
    if isinstance(subsidy, Free) and fen_of(subsidy.standard_fen) is None:
        return clause, free_without_standard(subsidy.standard_fen)
    return clause, "" if figure_value is None else _figure(figure_value, "元")


def free_without_standard(standard: object) -> str:
    """A 免费 item whose standard neither the policy nor the deployment gives, in words: book/standards.py
    (``amount_due``) then pays the whole self-paid part, limited only by the approval."""
    return (
        f"{_unfilled(standard)}；在此之前按免费项目支付："
        "医保等先行支付后的自付部分全额补助，以申请核定的金额为限"
    )


def _unfilled(value: object) -> str:
    if isinstance(value, DeploymentInput):
        return f"本地区尚未填写该项补助标准（部署参数），应为{value.deployment_input}"
    if isinstance(value, Unstated):
        return f"政策未载明该项补助标准（{value.unstated}）"
    return "本地区尚未公布该项目的补助标准"


_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")


def chinese_dates(text: str) -> str:
    """ISO dates in a policy's text (its source: 印发 2024-08-27) as a clerk writes them (2024年8月27日)."""
    return _ISO_DATE.sub(lambda found: f"{found[1]}年{int(found[2])}月{int(found[3])}日", text)


def _figure(value: object, unit: str) -> str:
    if isinstance(value, Unstated):
        return _unfilled(value)
    if isinstance(value, DeploymentInput):
        given = value.fen
        return _unfilled(value) if given is None else _figure(given, unit)
    if isinstance(value, int):
        return f"{yuan(value)} {unit}"
    return str(value)


# -- inputs and arithmetic -----------------------------------------------------------------------
def _inputs(inputs: Mapping[str, object], names: AccountNames) -> tuple[tuple[str, str, str], ...]:
    ordered = [name for name in INPUT_LABELS if name in inputs]
    ordered += sorted(name for name in inputs if name not in INPUT_LABELS)
    return tuple((name, INPUT_LABELS.get(name, name), _value(name, inputs[name], names)) for name in ordered)


def _value(name: str, value: object, names: AccountNames) -> str:
    if value is None:
        return "—"
    if name.endswith("_fen") and isinstance(value, int):
        return f"{yuan(value)} 元"
    if name in ("institution", "assessment_institution"):  # by name only: CODED keeps the code for auditors
        return names.institution(str(value))
    if name == "item":
        return item_name(str(value))
    if name == "subsidy_mode":
        return SUBSIDY_MODES.get(str(value), str(value))
    if name == "level":
        return LEVELS.get(str(value), str(value))
    if name == "adjustment":
        return ADJUSTMENT_DIRECTIONS.get(str(value), str(value))
    if isinstance(value, list):
        return ", ".join(str(part) for part in value)
    return str(value)


def _arithmetic(posting: Posting, policy: Policy | None = None) -> list[str]:
    inputs = posting.inputs
    if "adjustment" in inputs:
        return _adjustment_arithmetic(posting)
    total: int | None
    if "supplement" in inputs:
        total = _fen(inputs, "amount_fen")
        lines = [
            f"{inputs['supplement']} = 定额 {yuan(total or 0)} 元 × 1 份申请 = {yuan(total or 0)} 元"
            "（与项目的收费、医保支付无关）"
        ]
    elif posting.rule == "service_subsidy":
        lines = _subsidy_arithmetic(inputs)
        total = _fen(inputs, "total_fen") or _subsidy_total(inputs)
    else:
        fee = _fen(inputs, "fee_fen")
        total = fee
        lines = [f"{rule_name(posting.rule)} = 标准 {yuan(fee or 0)} 元/人 × 1 人 = {yuan(fee or 0)} 元"]
    if "share_percent" in inputs:
        lines.append(
            f"{_source_name(policy, inputs.get('funding_source'))} 分担 = {yuan(total or 0)} 元 × "
            f"{inputs['share_percent']}% "
            f"= {yuan(posting.amount_fen)} 元（按最大余数法精确到分）"
        )
    lines.append(f"记账金额 = {yuan(posting.amount_fen)} 元")
    return lines


def _source_name(policy: Policy | None, source: object) -> str:
    """A funding source by the name its policy gives it (中央和省财政), else its code."""
    found = None if policy is None else policy.funding.sources.get(str(source))
    return str(source) if found is None else found.name


def _adjustment_arithmetic(posting: Posting) -> list[str]:
    inputs = posting.inputs
    before, now = _fen(inputs, "posted_before_fen") or 0, _fen(inputs, "due_now_fen") or 0
    direction = ADJUSTMENT_DIRECTIONS.get(str(inputs.get("adjustment")), "")
    # The correcting event's and the adjusted postings' ids are inputs (the page's ids line), not words.
    return [
        f"服务记录的更正到达后重新结算：更正后应付 {yuan(now)} 元",
        f"被调整的记账已记 {yuan(before)} 元（原记账不改动）",
        f"调整 = {yuan(now)} − {yuan(before)} = {yuan(now - before)} 元 → {direction}",
        f"记账金额 = {yuan(posting.amount_fen)} 元",
    ]


def _subsidy_arithmetic(inputs: Mapping[str, object]) -> list[str]:
    charge, insurance = _fen(inputs, "charge_fen") or 0, _fen(inputs, "insurance_paid_fen") or 0
    self_paid = _fen(inputs, "self_paid_fen")
    self_paid = max(charge - insurance, 0) if self_paid is None else self_paid
    lines = [f"自付部分 = 收费总额 {yuan(charge)} − 医保等先行支付 {yuan(insurance)} = {yuan(self_paid)} 元"]
    cap, already = _fen(inputs, "cap_fen"), _fen(inputs, "already_paid_fen") or 0
    if cap is None:
        lines.append(f"补助 = 自付部分 = {yuan(self_paid)} 元（目录标准未载明，以审批为限）")
    else:
        left = cap - already
        lines.append(f"补助上限余额 = 上限 {yuan(cap)} − 已付 {yuan(already)} = {yuan(left)} 元")
        lines.append(
            f"补助 = min(自付部分 {yuan(self_paid)}, 上限余额 {yuan(left)}) = "
            f"{yuan(max(min(self_paid, left), 0))} 元；其余由本人负担"
        )
    return lines


def _subsidy_total(inputs: Mapping[str, object]) -> int:
    charge, insurance = _fen(inputs, "charge_fen") or 0, _fen(inputs, "insurance_paid_fen") or 0
    self_paid = max(charge - insurance, 0)
    cap, already = _fen(inputs, "cap_fen"), _fen(inputs, "already_paid_fen") or 0
    return self_paid if cap is None else max(min(self_paid, cap - already), 0)


def _fen(inputs: Mapping[str, object], name: str) -> int | None:
    value = inputs.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


# -- text --------------------------------------------------------------------------------------
CODED = ("institution", "assessment_institution", "item", "subsidy_mode")
"""Inputs shown by their Chinese names; the printed text (``rehab explain``, for auditors) adds the code."""


def _code(name: str, inputs: Mapping[str, object]) -> str:
    value = inputs.get(name)
    return f"  [{value}]" if name in CODED and value is not None else ""


def render_explanation(explanation: Explanation) -> str:
    """The explanation as text for people (a stable rendering: same posting, same bytes)."""
    posting, basis = explanation.posting, explanation.basis
    lines = [
        f"记账说明 posting {posting.posting_id}",
        f"  规则 rule:        {explanation.rule_name}（{posting.rule}）",
        f"  金额 amount:      {yuan(posting.amount_fen)} 元（{posting.amount_fen} 分）",
        f"  业务日期 date:    {posting.business_date.isoformat()}",
        f"  借 debit（付款）: {explanation.debit_name}  [{posting.debit_account}]",
        f"  贷 credit（收款）:{explanation.credit_name}  [{posting.credit_account}]",
        f"  记账键 key:       {posting.key}",
        "",
        f"政策 policy: {basis.policy_id} 第 {basis.version} 版  {basis.title}",
    ]
    if basis.source:
        lines.append(f"  依据: {basis.source}，自 {basis.effective_from.isoformat()} 起施行")
    if basis.clause:
        lines.append(f"  条款: {basis.clause}")
    if basis.figure:
        lines.append(f"  标准: {basis.figure}")
    if basis.note:
        lines.append(f"  注意: {basis.note}")
    lines += ["", "输入 inputs:"]
    width = max((len(label) for _, label, _ in explanation.inputs), default=0)
    lines += [
        f"  {label}{'　' * (width - len(label))}  {value}{_code(name, posting.inputs)}"
        for name, label, value in explanation.inputs
    ]
    lines += [
        "",
        "计算 arithmetic:",
        *(f"  {line}" for line in explanation.arithmetic),
        "",
        "来源事件 source events:",
    ]
    for source in explanation.sources:
        received = ""
        if source.received_at is not None:
            moment = source.received_at.astimezone(CHINA_STANDARD_TIME)
            received = f"  结算收到 {moment.isoformat(timespec='seconds')}"
        lines.append(
            f"  {event_name(source.event_type)}（{source.event_type}）  {source.event_id}  "
            f"业务日期 {source.business_date.isoformat()}{received}"
        )
    missing = set(posting.source_event_ids) - {source.event_id for source in explanation.sources}
    lines += [f"  (not in the archive: {event_id})" for event_id in sorted(missing)]
    return "\n".join(lines) + "\n"
