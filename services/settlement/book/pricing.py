"""Prices: a fee at the policy's rate; an item's record, insurance first, up to its standard or cap."""

from __future__ import annotations

from collections.abc import Callable

from services.settlement.book.dues import (
    Due,
    Match,
    Priced,
    person_account,
    service_inputs,
    service_institution_account,
    standard_of,
)
from services.settlement.book.policy import Fees, Policy, Unstated
from services.settlement.book.standards import Claim, StandardUnstated, amount_due, subsidy_amount

FIXED_AMOUNT = "fixed_amount"

_FEES: dict[str, Callable[[Fees], int | Unstated]] = {
    "survey_fee": lambda fees: fees.survey_fee_fen,
    "management_fee": lambda fees: fees.management_fee_fen,
    "assessment_fee": lambda fees: fees.assessment_fee_fen,
}
"""The policy's figure of each fee rule."""


def price_fee(due: Due, policy: Policy) -> Priced | str:
    """A survey, management or assessment fee at the policy's rate; or why the policy states none."""
    fee = _FEES[due.rule](policy.fees)
    if isinstance(fee, Unstated):
        return f"{policy.id} states no {due.rule.replace('_', ' ')}: {fee.unstated}"
    inputs = {**due.inputs, "fee_fen": fee}
    # Built field by field: NamedTuple._replace is several times slower, and fees are priced by the thousand.
    priced = Due(
        due.rule, due.key, due.credit_account, due.business_date, due.source_event_ids, inputs, due.area
    )
    return Priced(priced, policy, fee)


def price_subsidy(match: Match, already_paid: int) -> Priced | str:
    """The subsidy a matched record makes due, given what the item already paid; or why nothing is."""
    service = match.service
    approved = match.approval.item(service.item)
    assert approved is not None  # the match checked it
    tier = match.policy.items[service.item].sole_standard()
    claim = Claim(service.charge_fen, service.insurance_paid_fen, already_paid)
    if approved.mode == FIXED_AMOUNT:
        standard, cap = standard_of(tier), approved.amount_fen
        amount = subsidy_amount(service.charge_fen, service.insurance_paid_fen, cap, already_paid)
    elif tier is None:
        return (
            f"{service.item} has several standards by eligibility in {match.policy.id}; "
            "the events do not carry the person's age, categories or economic status"
        )
    else:
        standard = cap = standard_of(tier)
        try:
            amount = amount_due(tier.subsidy, claim)
        except StandardUnstated as unstated:
            return f"{match.policy.id}: {unstated}"
    if amount == 0:
        return "nothing to pay: insurance paid the charge or the cap is used up"
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
        "standard_fen": standard,
        "cap_fen": cap,
        "already_paid_fen": already_paid,
        "self_paid_fen": claim.self_paid_fen,
    }
    key = f"service_subsidy:{service.delivery}"
    return Priced(Due("service_subsidy", key, credit, match.day, match.sources, inputs), match.policy, amount)
