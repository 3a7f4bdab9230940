"""The price of a catalogue item's service record: insurance first, up to the standard or fixed amount."""

from __future__ import annotations

from services.settlement.book.dues import (
    Due,
    Match,
    Priced,
    person_account,
    service_inputs,
    service_institution_account,
    standard_of,
)
from services.settlement.book.standards import Claim, StandardUnstated, amount_due, subsidy_amount

FIXED_AMOUNT = "fixed_amount"


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
