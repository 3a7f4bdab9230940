"""Prices: a fee at the policy's rate; an item's record, insurance first, up to its standard or cap."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal

from services.settlement.book.dues import (
    Due,
    Match,
    Priced,
    Reason,
    person_account,
    service_inputs,
    service_institution_account,
    standard_of,
)
from services.settlement.book.eligibility import Applicant
from services.settlement.book.facts import ApplicationDescribed
from services.settlement.book.names import RULE_NAMES
from services.settlement.book.policy import Fees, ItemStandard, Monthly, Policy, Standard, Unstated, fen_of
from services.settlement.book.standards import (
    Claim,
    StandardUnstated,
    amount_due,
    bound_of,
    months_trained,
    subsidy_amount,
)

FIXED_AMOUNT = "fixed_amount"

Period = tuple[date | None, date | None]
"""A record's service period 服务周期 (start, end); None for a record logged before periods were kept."""

_FEES: dict[str, Callable[[Fees], int | Unstated]] = {
    "survey_fee": lambda fees: fees.survey_fee_fen,
    "management_fee": lambda fees: fees.management_fee_fen,
    "assessment_fee": lambda fees: fees.assessment_fee_fen,
}
"""The policy's figure of each fee rule."""


def price_fee(due: Due, policy: Policy) -> Priced | Reason:
    """A survey, management or assessment fee at the policy's rate; or why the policy states none."""
    fee = _FEES[due.rule](policy.fees)
    if isinstance(fee, Unstated):
        return Reason("fee_unstated", f"《{policy.title}》未规定{RULE_NAMES[due.rule]}标准：{fee.unstated}")
    inputs = {**due.inputs, "fee_fen": fee}
    # Built field by field: NamedTuple._replace is several times slower, and fees are priced by the thousand.
    priced = Due(
        due.rule, due.key, due.credit_account, due.business_date, due.source_event_ids, inputs, due.area
    )
    return Priced(priced, policy, fee)


def applicant_of(description: ApplicationDescribed) -> Applicant:
    """The applicant as the form 附件2 describes them (the form states no age; residence is assumed 户籍)."""
    status = description.economic_status
    return Applicant(
        age_years=None,
        conditions=frozenset(category for category in description.categories.split(",") if category),
        economic_status=frozenset() if status is None or status == "other" else frozenset({status}),
        certified=description.certified,
    )


def tier_of(item: ItemStandard, applicant: Applicant | None) -> Standard | str:
    """The item's tier: the sole one, or the one the applicant's form admits; else why there is none."""
    sole = item.sole_standard()
    if sole is not None:
        return sole
    if applicant is None:
        return "结算尚未收到申请表，不知其年龄、残疾类别或经济状况"
    admitted = item.standards_for(applicant)
    if len(admitted) == 1:
        return next(iter(admitted.values()))
    if not admitted:
        return "按申请表所填情况，没有一档标准适用"
    tiers = "、".join(tier.name for tier in admitted.values())
    return f"按申请表所填情况有多档标准适用（{tiers}），申请表不填年龄，无法确定"


def price_subsidy(match: Match, already_paid: int, periods: Sequence[Period]) -> Priced | Reason:
    """The subsidy a matched record makes due, given what the item already paid and the service periods
    of the item's records counted so far (this one included); or why nothing is."""
    service, policy = match.service, match.policy
    approved = match.approval.item(service.item)
    assert approved is not None  # the match checked it
    found = tier_of(policy.items[service.item], match.applicant)
    if isinstance(found, str) and approved.mode != FIXED_AMOUNT:
        item = policy.items[service.item].name
        return Reason("tier_undecided", f"《{policy.title}》中「{item}」按条件分档补助：{found}")
    tier = None if isinstance(found, str) else found
    months = months_trained(periods) if tier is not None and isinstance(tier.subsidy, Monthly) else None
    claim = Claim(service.charge_fen, service.insurance_paid_fen, already_paid, months)
    try:
        bound = None if tier is None else bound_of(tier.subsidy, claim)
        if approved.mode == FIXED_AMOUNT:
            cap = _lower(approved.amount_fen, bound)
            amount = subsidy_amount(service.charge_fen, service.insurance_paid_fen, cap, already_paid)
        else:
            assert tier is not None
            cap = bound if bound is not None else standard_of(tier)
            amount = amount_due(tier.subsidy, claim)
    except StandardUnstated as unstated:
        item = policy.items[service.item].name
        return Reason("standard_unstated", f"《{policy.title}》「{item}」：{unstated}")
    if amount == 0:
        return Reason("nothing_to_pay", "无需补助：医保等已支付全部费用，或补助上限已用完")
    # The record's institution: the approved one, or the one an approved change moved the item to.
    credit = (
        service_institution_account(service.institution)
        if approved.institution is not None
        else person_account(service.person)
    )
    inputs = {
        **service_inputs(service),
        "subsidy_mode": approved.mode,
        "approved_amount_fen": approved.amount_fen,
        "standard_fen": bound if bound is not None else standard_of(tier),
        "cap_fen": cap,
        "already_paid_fen": already_paid,
        "self_paid_fen": claim.self_paid_fen,
        **_months_inputs(tier, months),
        **_bound_inputs(approved.amount_fen, bound),
    }
    key = f"service_subsidy:{service.delivery}"
    due = Due("service_subsidy", key, credit, match.day, match.sources, inputs, match.approval.area)
    return Priced(due, policy, amount)


def _lower(approved_fen: int | None, bound: int | None) -> int | None:
    """A fixed amount never pays above the standard (定额不超过目录标准): the lower of the two known."""
    if approved_fen is None or bound is None:
        return approved_fen if bound is None else bound
    return min(approved_fen, bound)


def _months_inputs(tier: Standard | None, months: int | None) -> dict[str, object]:
    if months is None or tier is None or not isinstance(tier.subsidy, Monthly):
        return {}
    return {"months_trained": months, "monthly_standard_fen": fen_of(tier.subsidy.monthly_fen)}


def _bound_inputs(approved_fen: int | None, bound: int | None) -> dict[str, object]:
    """Why a fixed amount is paid below what was approved: the standard bounds it (定额不超过目录标准)."""
    if approved_fen is None or bound is None or approved_fen <= bound:
        return {}
    return {
        "standard_bound": f"审批定额 {_yuan(approved_fen)} 元高于目录标准 {_yuan(bound)} 元：按目录标准支付"
    }


def _yuan(fen: int) -> str:
    return f"{Decimal(fen) / 100:,.2f}"
