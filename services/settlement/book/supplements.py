"""Supplements: amounts due to the person beside a delivered item when the form ticks them
(Liangjiang's 低保人员营养费 beside the cataract surgery), priced apart from the item's own subsidy."""

from __future__ import annotations

from services.settlement.book.dues import Due, Match, Priced, Reason, person_account, service_inputs
from services.settlement.book.facts import ApplicationDescribed
from services.settlement.book.policy import Supplement
from services.settlement.book.standards import Claim, StandardUnstated, amount_due

SUPPLEMENT = "supplement"


def supplement_key(code: str, application: str) -> str:
    """One supplement per form 附件2 that ticks it (the tick is once on the form, whatever the eyes)."""
    return f"{SUPPLEMENT}:{code}:{application}"


def price_supplement(
    code: str, match: Match | None, description: ApplicationDescribed | None
) -> Priced | Reason | None:
    """The supplement ``code`` of the item a matched record (the application's first that counts) delivered:
    due to the person when the form ticks it and the recorded facts admit them; None when nothing asks for
    it (no record counts, or the form does not tick it); a Reason when it is asked for and cannot be paid."""
    if match is None or description is None:
        return None
    service, policy = match.service, match.policy
    supplement: Supplement | None = policy.items[service.item].supplements.get(code)
    if supplement is None or not description.ticked(service.item, supplement.form_tick):
        return None
    if match.applicant is None or not supplement.eligibility.admits(match.applicant):
        return Reason("not_eligible", f"「{supplement.name}」：按申请表所记录的家庭经济状况，不符合条件")
    try:
        amount = amount_due(supplement.subsidy, Claim(0))
    except StandardUnstated as unstated:
        return Reason("standard_unstated", f"《{policy.title}》「{supplement.name}」：{unstated}")
    inputs = {**service_inputs(service), "supplement": supplement.name, "amount_fen": amount}
    key = supplement_key(code, service.application)
    sources = (*match.sources, description.event_id)
    # 营养费 is the person's own: paid to them, not to the hospital that operated.
    due = Due(
        "service_subsidy",
        key,
        person_account(service.person),
        match.day,
        sources,
        inputs,
        match.approval.area,
    )
    return Priced(due, policy, amount)
