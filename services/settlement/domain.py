"""The settlement book 费用结算: which payments the facts of the workflow make due (pure, no I/O).

Facts arrive from four producer streams in any interleaving; a fact whose partner has not
arrived yet (a service record before its approval) waits. Each payment is a ``Posting`` with a
deterministic id and key, so a replay of the same facts gives byte-identical postings.

Where several facts could make the same payment due (two surveys of one person in one year), the
first to arrive pays and the key stops the second. Facts of one stream arrive in that stream's
order, so the postings depend on the set of facts and each stream's order, never on how the
four streams interleave.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from uuid import UUID, uuid5

from services.settlement.facts import (
    ApplicationRefused,
    ApprovedItem,
    Fact,
    InstitutionChanged,
    ItemsApproved,
    PersonAssessed,
    PersonSurveyed,
    ServiceRecorded,
)
from services.settlement.policy import Cap, Free, Percentage, Policy, PolicySet, Subsidy, Unstated
from services.settlement.standards import Claim, StandardUnstated, amount_due, split_fen, subsidy_amount

__all__ = ["Posting", "SettlementBook", "Unsettled", "posting_id", "subsidy_amount"]

POSTING_NAMESPACE = UUID("5b0f3c2e-6a0d-5d43-9a57-2f1c8e4b7d10")
"""uuid5 namespace of posting ids: the id of a posting is uuid5(namespace, its key)."""

DEPLOYMENT_JURISDICTION = "liangjiang"
"""The jurisdiction this deployment settles: its facts are priced by its policies only."""

SUPPORT_SERVICE = "support_service"
FIXED_AMOUNT = "fixed_amount"
DISTRICT = "district"


# -- what the book answers -----------------------------------------------------------------------
@dataclass(frozen=True)
class Posting:
    """One payment: ``amount_fen`` from the fund (debit) to the payee (credit), and why."""

    posting_id: UUID
    rule: str
    key: str
    business_date: date
    debit_account: str
    credit_account: str
    amount_fen: int
    policy_id: str
    policy_version: int
    source_event_ids: tuple[str, ...]
    inputs: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Unsettled:
    """A fact that has not (yet) made a payment due, and why."""

    subject: str
    reason: str
    source_event_ids: tuple[str, ...]


def street_account(street: str) -> str:
    return f"street:{street}"


def assessment_institution_account(institution: str) -> str:
    return f"assessment_institution:{institution}"


def service_institution_account(institution: str) -> str:
    return f"service_institution:{institution}"


def person_account(person: str) -> str:
    return f"person:{person}"


def posting_id(key: str) -> UUID:
    return uuid5(POSTING_NAMESPACE, key)


@dataclass(frozen=True)
class _Due:
    """A payment a rule found due, before the policy in force prices it."""

    rule: str
    key: str
    credit_account: str
    business_date: date
    source_event_ids: tuple[str, ...]
    inputs: dict[str, object]
    area: str | None = None  # picks an area's funding split; the facts carry no county yet


@dataclass(frozen=True)
class _Match:
    """A signed service record that matches an approved item, with the policy in force."""

    service: ServiceRecorded
    approved: ApprovedItem
    policy: Policy
    day: date
    sources: tuple[str, ...]


class SettlementBook:
    """Feed it facts in any order; it returns the postings each fact newly makes due.

    Every payment is priced by the policy of ``jurisdiction`` in force on its business date, so
    replaying 2023 facts pays 2023 rates whatever policy is in force today.
    """

    def __init__(self, policies: PolicySet, jurisdiction: str = DEPLOYMENT_JURISDICTION) -> None:
        self._policies = policies
        self._jurisdiction = jurisdiction
        self._seen: set[str] = set()
        self._posted: set[str] = set()
        self._support_paid_items: dict[str, str] = {}
        self._first_needs_survey: dict[tuple[str, int], PersonSurveyed] = {}
        self._first_assessment: dict[tuple[str, int], PersonAssessed] = {}
        self._approvals: dict[str, ItemsApproved] = {}
        self._refusals: dict[str, ApplicationRefused] = {}
        self._waiting: dict[str, list[ServiceRecorded]] = {}
        self._changes: dict[tuple[str, str], list[InstitutionChanged]] = {}
        self._elsewhere: dict[str, list[ServiceRecorded]] = {}
        """Records from an institution the item was not approved at, by application: an institution
        change (whose event may arrive later, from another stream) can still make them count."""
        self._paid: dict[tuple[str, str], int] = {}
        self._unsettled: dict[str, Unsettled] = {}
        self._in_force: dict[date, Policy | None] = {}
        self._shares: dict[tuple[str, str | None], dict[str, Decimal]] = {}

    def feed(self, fact: Fact) -> list[Posting]:
        """Take in one fact (a second feed of the same event is ignored)."""
        if fact.event_id in self._seen:
            return []
        self._seen.add(fact.event_id)
        match fact:
            case PersonSurveyed():
                return self._on_survey(fact)
            case PersonAssessed():
                return self._on_assessment(fact)
            case ItemsApproved():
                return self._on_approval(fact)
            case ApplicationRefused():
                return self._on_refusal(fact)
            case ServiceRecorded():
                return self._on_service(fact)
            case InstitutionChanged():
                return self._on_institution_change(fact)
        raise TypeError(f"not a settlement fact: {fact!r}")

    def unsettled(self) -> list[Unsettled]:
        """Facts waiting for a partner or refused by a rule, by subject."""
        return [self._unsettled[subject] for subject in sorted(self._unsettled)]

    # -- survey and assessment fees -------------------------------------------------------------
    def _on_survey(self, survey: PersonSurveyed) -> list[Posting]:
        person_year = (survey.person, survey.year)
        postings = self._post(_survey_fee(survey))
        if survey.has_needs:
            self._first_needs_survey.setdefault(person_year, survey)
            assessment = self._first_assessment.get(person_year)
            if assessment is not None:
                postings += self._post(_management_fee(survey, assessment))
        return postings

    def _on_assessment(self, assessment: PersonAssessed) -> list[Posting]:
        person_year = (assessment.person, assessment.year)
        self._first_assessment.setdefault(person_year, assessment)
        postings = []
        if assessment.level == DISTRICT:
            postings += self._post(_assessment_fee(assessment))
        survey = self._first_needs_survey.get(person_year)
        if survey is not None:
            postings += self._post(_management_fee(survey, assessment))
        return postings

    def _post(self, due: _Due) -> list[Posting]:
        if due.key in self._posted:
            return []
        policy = self._policy_on(due.business_date, due.key, due.source_event_ids)
        if policy is None:
            return []
        fee = _FEES[due.rule](policy)
        if isinstance(fee, Unstated):
            self._note(due.key, f"{policy.id} states no {due.rule.replace('_', ' ')}: {fee.unstated}",
                       *due.source_event_ids)
            return []
        due = _Due(due.rule, due.key, due.credit_account, due.business_date, due.source_event_ids,
                   {**due.inputs, "fee_fen": fee}, due.area)
        return self._postings(due, policy, fee)

    # -- service subsidies ----------------------------------------------------------------------
    def _on_approval(self, approval: ItemsApproved) -> list[Posting]:
        if approval.application in self._approvals:
            return []
        self._approvals[approval.application] = approval
        postings = []
        for service in self._waiting.pop(approval.application, []):
            postings += self._settle(service, approval)
        return postings

    def _on_institution_change(self, change: InstitutionChanged) -> list[Posting]:
        self._changes.setdefault((change.application, change.item), []).append(change)
        approval = self._approvals.get(change.application)
        retry = self._elsewhere.pop(change.application, [])
        if approval is None:
            self._elsewhere[change.application] = retry
            return []
        postings = []
        for service in retry:
            postings += self._settle(service, approval)
        return postings

    def _on_refusal(self, refusal: ApplicationRefused) -> list[Posting]:
        self._refusals.setdefault(refusal.application, refusal)
        for service in self._waiting.pop(refusal.application, []):
            self._note(service.delivery, "the application was refused", service.event_id, refusal.event_id)
        return []

    def _on_service(self, service: ServiceRecorded) -> list[Posting]:
        approval = self._approvals.get(service.application)
        if approval is not None:
            return self._settle(service, approval)
        refusal = self._refusals.get(service.application)
        if refusal is not None:
            self._note(service.delivery, "the application was refused", service.event_id, refusal.event_id)
            return []
        self._waiting.setdefault(service.application, []).append(service)
        self._note(service.delivery, f"waiting for the approval of application {service.application}",
                   service.event_id)
        return []

    def _settle(self, service: ServiceRecorded, approval: ItemsApproved) -> list[Posting]:
        change = self._change_to(service)
        sources = (approval.event_id, service.event_id) + ((change.event_id,) if change else ())
        mismatch = _mismatch(service, approval, moved_here=change is not None)
        if mismatch is not None:
            self._note(service.delivery, mismatch, *sources)
            if mismatch.startswith(AT_ANOTHER_INSTITUTION):
                self._elsewhere.setdefault(service.application, []).append(service)
            return []
        day = max(service.signed_on, approval.approved_on)
        policy = self._policy_on(day, service.delivery, sources)
        if policy is None:
            return []
        standard = policy.item(service.item)
        if standard is None:
            self._note(service.delivery, f"{service.item} is not in the catalogue of {policy.id}", *sources)
            return []
        approved = approval.item(service.item)
        assert approved is not None  # _mismatch checked it
        self._unsettled.pop(service.delivery, None)
        match = _Match(service, approved, policy, day, sources)
        if standard.kind == SUPPORT_SERVICE:
            return self._support_service(match)
        return self._subsidy(match)

    def _change_to(self, service: ServiceRecorded) -> InstitutionChanged | None:
        """The approved change that moved the record's item to its institution before it was signed."""
        changes = self._changes.get((service.application, service.item), [])
        moved_here = [c for c in changes if c.to_institution == service.institution]
        return next((c for c in moved_here if c.approved_on <= service.signed_on), None)

    def _support_service(self, match: _Match) -> list[Posting]:
        service, policy = match.service, match.policy
        # 每人每年 200 元: one payment per person and year, however many support-service items
        # (one per disability category) the person receives; a second one is shown as unsettled.
        key = f"support_service:{service.person}:{service.year}"
        if key in self._posted:
            paid_item = self._support_paid_items.get(key)
            if paid_item != service.item:
                reason = f"support service already paid this year for {paid_item} (每人每年 200 元)"
                self._note(service.delivery, reason, *match.sources)
            return []
        fee = policy.fees.support_service_fen
        if isinstance(fee, Unstated):
            self._note(service.delivery, f"{policy.id} states no support service rate: {fee.unstated}",
                       *match.sources)
            return []
        self._support_paid_items[key] = service.item
        institution = service.institution  # the approved one, or where an approved change moved it
        inputs = {**_service_inputs(service), "fee_fen": fee}
        credit = service_institution_account(institution)
        due = _Due("support_service", key, credit, match.day, match.sources, inputs)
        return self._postings(due, policy, fee)

    def _subsidy(self, match: _Match) -> list[Posting]:
        service, approved = match.service, match.approved
        tier = match.policy.items[service.item].sole_standard()
        paid_key = (service.application, service.item)
        already_paid = self._paid.get(paid_key, 0)
        claim = Claim(service.charge_fen, service.insurance_paid_fen, already_paid)
        if approved.mode == FIXED_AMOUNT:
            standard, cap = _standard_of(tier), approved.amount_fen
            amount = subsidy_amount(service.charge_fen, service.insurance_paid_fen, cap, already_paid)
        elif tier is None:
            reason = (f"{service.item} has several standards by eligibility in {match.policy.id}; "
                      "the events do not carry the person's age, categories or economic status")
            self._note(service.delivery, reason, *match.sources)
            return []
        else:
            standard = cap = _standard_of(tier)
            try:
                amount = amount_due(tier.subsidy, claim)
            except StandardUnstated as unstated:
                self._note(service.delivery, f"{match.policy.id}: {unstated}", *match.sources)
                return []
        if amount == 0:
            reason = "nothing to pay: insurance paid the charge or the cap is used up"
            self._note(service.delivery, reason, *match.sources)
            return []
        self._paid[paid_key] = already_paid + amount
        # The record's institution: the approved one, or the one an approved change moved the item to.
        credit = (
            service_institution_account(service.institution)
            if approved.institution is not None
            else person_account(service.person)
        )
        inputs = {
            **_service_inputs(service),
            "subsidy_mode": approved.mode,
            "approved_amount_fen": approved.amount_fen,
            "standard_fen": standard,
            "cap_fen": cap,
            "already_paid_fen": already_paid,
            "self_paid_fen": claim.self_paid_fen,
        }
        key = f"service_subsidy:{service.delivery}"
        due = _Due("service_subsidy", key, credit, match.day, match.sources, inputs)
        return self._postings(due, match.policy, amount)

    # -- shared ---------------------------------------------------------------------------------
    def _policy_on(self, day: date, subject: str, sources: tuple[str, ...]) -> Policy | None:
        try:
            policy = self._in_force[day]
        except KeyError:  # the policy set never changes, so the policy in force on a day is cached
            policy = self._in_force[day] = self._policies.in_force(self._jurisdiction, day)
        if policy is None:
            self._note(subject, f"no settlement policy in force on {day.isoformat()}", *sources)
        return policy

    def _postings(self, due: _Due, policy: Policy, amount_fen: int) -> list[Posting]:
        """The payment, one posting per funding source of the policy's split (to the fen)."""
        self._posted.add(due.key)
        self._unsettled.pop(due.key, None)
        try:
            shares = self._shares[policy.id, due.area]
        except KeyError:
            shares = self._shares[policy.id, due.area] = policy.funding.split_for(due.area).shares
        if len(shares) == 1:
            return [_posting(due, policy.funding.account_of(next(iter(shares))), amount_fen, policy)]
        postings = []
        for source, part in split_fen(amount_fen, shares).items():
            if part == 0:
                continue
            inputs = {**due.inputs, "total_fen": amount_fen, "funding_source": source,
                      "share_percent": str(shares[source])}
            share_due = replace(due, key=f"{due.key}|{source}", inputs=inputs)
            postings.append(_posting(share_due, policy.funding.account_of(source), part, policy))
        return postings

    def _note(self, subject: str, reason: str, *sources: str) -> None:
        self._unsettled[subject] = Unsettled(subject, reason, tuple(sources))


def _posting(due: _Due, debit_account: str, amount_fen: int, policy: Policy) -> Posting:
    return Posting(
        posting_id=posting_id(due.key),
        rule=due.rule,
        key=due.key,
        business_date=due.business_date,
        debit_account=debit_account,
        credit_account=due.credit_account,
        amount_fen=amount_fen,
        policy_id=policy.id,
        policy_version=policy.version,
        source_event_ids=due.source_event_ids,
        inputs=due.inputs,
    )


def _standard_of(tier: object) -> int | None:
    """The stated standard (cap) of a tier, for the posting's inputs; None when unstated or absent."""
    subsidy: Subsidy | None = getattr(tier, "subsidy", None)
    match subsidy:
        case Free(standard_fen=int(cap)) | Cap(cap_fen=int(cap)) | Percentage(cap_fen=int(cap)):
            return cap
    return None


_FEES = {
    "survey_fee": lambda policy: policy.fees.survey_fee_fen,
    "management_fee": lambda policy: policy.fees.management_fee_fen,
    "assessment_fee": lambda policy: policy.fees.assessment_fee_fen,
}


def _survey_fee(survey: PersonSurveyed) -> _Due:
    return _Due(
        rule="survey_fee",
        key=f"survey_fee:{survey.person}:{survey.year}",
        credit_account=street_account(survey.street),
        business_date=survey.surveyed_on,
        source_event_ids=(survey.event_id,),
        inputs={"person_id": survey.person, "year": survey.year, "street": survey.street},
    )


def _management_fee(survey: PersonSurveyed, assessment: PersonAssessed) -> _Due:
    return _Due(
        rule="management_fee",
        key=f"management_fee:{survey.person}:{survey.year}",
        credit_account=street_account(survey.street),
        business_date=max(survey.surveyed_on, assessment.assessed_on),
        source_event_ids=(survey.event_id, assessment.event_id),
        inputs={
            "person_id": survey.person,
            "year": survey.year,
            "street": survey.street,
            "assessment_institution": assessment.institution,
        },
    )


def _assessment_fee(assessment: PersonAssessed) -> _Due:
    return _Due(
        rule="assessment_fee",
        key=f"assessment_fee:{assessment.person}:{assessment.year}",
        credit_account=assessment_institution_account(assessment.institution),
        business_date=assessment.assessed_on,
        source_event_ids=(assessment.event_id,),
        inputs={
            "person_id": assessment.person,
            "year": assessment.year,
            "institution": assessment.institution,
            "level": assessment.level,
        },
    )


def _service_inputs(service: ServiceRecorded) -> dict[str, object]:
    return {
        "person_id": service.person,
        "year": service.year,
        "item": service.item,
        "institution": service.institution,
        "application_id": service.application,
        "delivery_id": service.delivery,
        "charge_fen": service.charge_fen,
        "insurance_paid_fen": service.insurance_paid_fen,
    }


AT_ANOTHER_INSTITUTION = "approved at another institution"


def _mismatch(service: ServiceRecorded, approval: ItemsApproved, *, moved_here: bool = False) -> str | None:
    """Why a service record does not count for settlement, or None when it matches its approval."""
    if not service.signed:
        return "the service record is not signed by the person or guardian"
    if service.person != approval.person:
        return f"application {approval.application} is another person's"
    if service.year != approval.year:
        return f"service year {service.year} is not the application year {approval.year}"
    approved = approval.item(service.item)
    if approved is None:
        return f"{service.item} was not approved on application {approval.application}"
    if approved.institution is not None and approved.institution != service.institution and not moved_here:
        return (
            f"{AT_ANOTHER_INSTITUTION}: {service.item} was approved at {approved.institution}, "
            f"not at {service.institution}, and no approved institution change moved it there"
        )
    return None
