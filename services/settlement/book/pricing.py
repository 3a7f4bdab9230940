"""Prices: a fee at the policy's rate; an item's record, insurance first, up to its standard or cap."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date
from decimal import Decimal

from services.settlement.book.dues import (
    Cumulated,
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
from services.settlement.book.facts import ApplicationDescribed, PersonSurveyed
from services.settlement.book.names import RULE_NAMES
from services.settlement.book.policy import (
    Cap,
    Fees,
    ItemStandard,
    Monthly,
    Percentage,
    Policy,
    Range,
    Standard,
    Unstated,
    fen_of,
)
from services.settlement.book.standards import (
    Claim,
    StandardUnstated,
    amount_due,
    bound_of,
    months_trained,
    subsidy_amount,
)

FIXED_AMOUNT = "fixed_amount"
ALLOWANCE = "allowance"
HARDSHIP = "hardship"
HOUSEHOLD = "household_registration"
RESIDENCE_PERMIT = "residence_permit"

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


def applicant_of(
    description: ApplicationDescribed | None, survey: PersonSurveyed | None, on_day: date
) -> Applicant | None:
    """The applicant on ``on_day`` (the first day of the service period): what the form 附件2 says, and
    what the year's survey recorded where the form is silent (the form states no age, sub-type, hardship
    beyond 低保 nor 居住证); None when settlement has neither."""
    if description is None and survey is None:
        return None
    form_categories = _codes(description.categories) if description is not None else frozenset()
    survey_categories = _codes(survey.categories) if survey is not None else frozenset()
    subtypes = _codes(survey.subtypes) if survey is not None else frozenset()
    age, may_be_one_less = (None, False) if survey is None else age_on(survey.birth_month, on_day)
    return Applicant(
        age_years=age,
        conditions=(form_categories or survey_categories) | subtypes,
        economic_status=_economic_status(description, survey),
        residence=RESIDENCE_PERMIT if survey is not None and survey.residence_permit else HOUSEHOLD,
        certified=_certified(description, survey),
        age_may_be_one_less=may_be_one_less,
        economic_status_recorded=_economic_status_recorded(description, survey),
    )


def _codes(text: str) -> frozenset[str]:
    return frozenset(code for code in text.split(",") if code)


def _economic_status(
    description: ApplicationDescribed | None, survey: PersonSurveyed | None
) -> frozenset[str]:
    """The form's 家庭经济状况 (else the survey's), with the hardship statuses the survey recorded: any of
    them is 困难 (``hardship``) as the seeds define it beyond 低保."""
    status = description.economic_status if description is not None else None
    if status is None and survey is not None:
        status = survey.economic_status
    statuses = set() if status is None or status == "other" else {status}
    hardship = _codes(survey.hardship) if survey is not None else frozenset()
    return frozenset(statuses | hardship | ({HARDSHIP} if hardship else set()))


def _economic_status_recorded(
    description: ApplicationDescribed | None, survey: PersonSurveyed | None
) -> bool:
    if description is not None and description.economic_status is not None:
        return True
    return survey is not None and (survey.economic_status is not None or bool(survey.hardship))


def _certified(description: ApplicationDescribed | None, survey: PersonSurveyed | None) -> bool:
    if description is not None:
        return description.certified
    return survey is None or survey.certified is not False


def age_on(birth_month: str | None, day: date) -> tuple[int | None, bool]:
    """周岁 on ``day`` from the birth month: (age, whether it may be one less). In the birth month itself
    the birthday may not have come yet, so the age is the one reached this month or one less."""
    if birth_month is None:
        return None, False
    year, month = (int(part) for part in birth_month.split("-"))
    months = (day.year - year) * 12 + day.month - month
    if months < 0:
        return None, False
    years, rest = divmod(months, 12)
    return years, rest == 0 and years > 0


def tier_of(item: ItemStandard, applicant: Applicant | None) -> Standard | Reason:
    """The item's tier: the sole one, or the one the applicant's recorded facts admit (the most specific
    where a general and a special tier both do: 500 yuan for a hardship family, not 400); else why none:
    ``tier_undecided`` while a fact is missing or leaves two tiers open, ``not_eligible`` when the recorded
    facts admit no tier."""
    sole = item.sole_standard()
    if sole is not None:
        return _sole_tier(sole, applicant)
    if applicant is None:
        return _undecided("结算尚未收到申请表或本年度需求调查，不知其年龄、残疾类别或经济状况")
    if applicant.age_years is None and any(tier.eligibility.age for tier in item.standards.values()):
        return _undecided("本年度需求调查未记录出生年月（或尚未收到），无法确定年龄段")
    admitted = _most_specific(item.standards_for(applicant))
    if applicant.age_may_be_one_less:
        younger = replace(applicant, age_years=(applicant.age_years or 1) - 1, age_may_be_one_less=False)
        if _most_specific(item.standards_for(younger)).keys() != admitted.keys():
            return _undecided(
                f"服务周期始于 {applicant.age_years} 周岁生日所在的月份，只知出生年月，无法确定是否已满该周岁"
            )
    if len(admitted) == 1:
        return next(iter(admitted.values()))
    if not admitted:
        return Reason("not_eligible", "按所记录的年龄、残疾类别、经济状况和户籍，没有一档标准适用")
    tiers = "、".join(tier.name for tier in admitted.values())
    return _undecided(f"按所记录的情况有多档标准适用（{tiers}），无法确定")


def _sole_tier(tier: Standard, applicant: Applicant | None) -> Standard | Reason:
    """An item with one tier: 区残联办's approval decides, unless the facts recorded about the person
    contradict a condition the tier states (困难 for a cataract, 精神残疾 for medication); facts not
    recorded leave the approval to decide, as it did before they were kept."""
    unmet = () if applicant is None else tier.eligibility.contradicted(applicant)
    if not unmet:
        return tier
    facts = "、".join(_FACT_NAMES[name] for name in unmet)
    return Reason("not_eligible", f"按所记录的{facts}，不符合「{tier.name}」的条件")


_FACT_NAMES = {
    "conditions": "残疾类别",
    "age": "年龄",
    "economic_status": "家庭经济状况",
    "residence": "户籍",
    "certificate": "持证情况",
}
"""Each condition of a tier by the fact it is checked against, as a reason names it."""


def _undecided(text: str) -> Reason:
    return Reason("tier_undecided", text)


def _most_specific(admitted: dict[str, Standard]) -> dict[str, Standard]:
    """The one tier stating every condition another admitted tier states, and more (特别规定优于一般规定);
    else all of them."""
    for code, tier in admitted.items():
        stated = tier.eligibility.stated()
        if all(other.eligibility.stated() < stated for key, other in admitted.items() if key != code):
            return {code: tier}
    return admitted


def price_subsidy(
    match: Match,
    already: Cumulated,
    periods: Sequence[Period],
    training: Sequence[Period] | None = None,
    cases: int = 1,
) -> Priced | Reason:
    """The subsidy a matched record makes due, given what the records before it paid (of its application's
    item, and of the item to the person in the year) and the service periods of its application's item's
    records counted so far (this one included); for an item paid for the months of training, the periods of
    the person's training that counts; for an amount per case 每例, the cases so far; or why nothing is."""
    service, policy = match.service, match.policy
    approved = match.approval.item(service.item)
    assert approved is not None  # the match checked it
    item = policy.items[service.item]
    found = tier_of(item, match.applicant)
    # A fixed amount the office approved stands for a tier the facts leave open, never for a sole tier the
    # recorded facts contradict.
    if isinstance(found, Reason) and (approved.mode != FIXED_AMOUNT or item.sole_standard() is not None):
        return Reason(found.code, f"《{policy.title}》中「{item.name}」{_tiered(item)}：{found.text}")
    tier = None if isinstance(found, Reason) else found
    outside = _outside_range(tier, approved.amount_fen)
    if outside is not None:
        return Reason("outside_range", f"《{policy.title}》「{item.name}」：{outside}")
    monthly = tier is not None and isinstance(tier.subsidy, Monthly)
    months = months_trained(periods, training) if monthly else None
    if months == 0 and training is not None:
        return _no_training(item, policy)
    claim = Claim(
        service.charge_fen, service.insurance_paid_fen, already.application_fen, months, cases=cases
    )
    try:
        bound = None if tier is None else bound_of(tier.subsidy, claim)
        if approved.mode == FIXED_AMOUNT:
            cap = _lower(approved.amount_fen, bound)
            amount = _fixed_amount_due(tier, claim, cap)
        else:
            assert tier is not None
            cap = bound if bound is not None else standard_of(tier)
            amount = amount_due(tier.subsidy, claim)
    except StandardUnstated as unstated:
        return Reason("standard_unstated", f"《{policy.title}》「{item.name}」：{unstated}")
    yearly = _yearly_cap(tier, bound)
    if yearly is not None:
        amount = min(amount, max(yearly - already.year_fen, 0))
    if amount == 0:
        return _nothing_to_pay(item, yearly, already.year_fen)
    credit = _payee(match, item, tier)
    inputs = {
        **service_inputs(service),
        "subsidy_mode": approved.mode,
        "approved_amount_fen": approved.amount_fen,
        "standard_fen": bound if bound is not None else standard_of(tier),
        "cap_fen": cap,
        "already_paid_fen": already.application_fen,
        "self_paid_fen": claim.self_paid_fen,
        **_months_inputs(tier, months),
        **_bound_inputs(approved.amount_fen, bound),
        **_yearly_inputs(yearly, already),
    }
    key = f"service_subsidy:{service.delivery}"
    due = Due("service_subsidy", key, credit, match.day, match.sources, inputs, match.approval.area)
    return Priced(due, policy, amount)


def _payee(match: Match, item: ItemStandard, tier: Standard | None) -> str:
    """Who a record's subsidy is paid to. The person: for an allowance 补贴 (transport, living), whoever
    recorded the months; for a 限额 item where the policy has the person advance the cost and claim it back
    (the tier's cap, or every tier's when the approval's fixed amount left the tier open); for an item
    approved without an institution. Else the record's institution: the approved one, or the one an approved
    change moved the item to."""
    service = match.service
    approved = match.approval.item(service.item)
    tiers = [tier] if tier is not None else list(item.standards.values())
    reimbursed = match.policy.caps_reimbursed_to_person and all(isinstance(t.subsidy, Cap) for t in tiers)
    if item.kind == ALLOWANCE or reimbursed or approved is None or approved.institution is None:
        return person_account(service.person)
    return service_institution_account(service.institution)


def _no_training(item: ItemStandard, policy: Policy) -> Reason:
    trained = policy.items[item.paid_for_months_of or ""].name
    text = f"「{item.name}」按在定点康复服务机构训练的月数支付：服务周期内没有已批准并记录的「{trained}」"
    return Reason("nothing_to_pay", text)


def _tiered(item: ItemStandard) -> str:
    return "的补助条件" if item.sole_standard() is not None else "按条件分档补助"


def _yearly_cap(tier: Standard | None, bound: int | None) -> int | None:
    """The cap per person per year 每人每年 of a tier stating one (600-1,200 yuan a year, 5,000 yuan a year,
    at most 10,000 yuan 全年 …): it bounds the item's records of the person's applications that year."""
    if tier is None or getattr(tier.subsidy, "per", None) != "person_year":
        return None
    return bound


def _nothing_to_pay(item: ItemStandard, yearly: int | None, paid_this_year: int) -> Reason:
    """Why a record pays nothing: the person's yearly cap used up (by this application or others), or
    insurance and the item's cap leaving nothing."""
    if yearly is not None and paid_this_year >= yearly:
        text = f"「{item.name}」每人每年最高 {_yuan(yearly)} 元，本年度已支付 {_yuan(paid_this_year)} 元"
        return Reason("nothing_to_pay", f"{text}，补助上限已用完")
    return Reason("nothing_to_pay", "无需补助：医保等已支付全部费用，或补助上限已用完")


def _yearly_inputs(yearly: int | None, already: Cumulated) -> dict[str, object]:
    """The yearly cap and what the item paid the person this year before this record, where the person's
    other applications paid part of it (within one application the item's own cap says as much)."""
    if yearly is None or already.year_fen == already.application_fen:
        return {}
    return {"yearly_cap_fen": yearly, "paid_this_year_fen": already.year_fen}


def _fixed_amount_due(tier: Standard | None, claim: Claim, cap: int | None) -> int:
    """What a fixed amount pays: the self-paid part up to it, except where the tier's arithmetic is not the
    self-paid cost: a share of it (80 %), or a flat monthly allowance that asks no cost."""
    left = None if cap is None else max(cap - claim.already_paid_fen, 0)
    match None if tier is None else tier.subsidy:
        case Percentage() as share if left is not None:
            return min(amount_due(share, claim), left)
        case Monthly(against_cost=False) if left is not None:
            return left
    return subsidy_amount(claim.charge_fen, claim.insurance_paid_fen, cap, claim.already_paid_fen)


def _outside_range(tier: Standard | None, approved_fen: int | None) -> str | None:
    """Why an approved amount lies below a range's floor (600-1,200 yuan a year); the ceiling bounds it."""
    if tier is None or not isinstance(tier.subsidy, Range) or approved_fen is None:
        return None
    low = fen_of(tier.subsidy.min_fen)
    if low is None or approved_fen >= low:
        return None
    return f"审批金额 {_yuan(approved_fen)} 元低于标准区间下限 {_yuan(low)} 元"


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
