"""What a rule finds due, before and after pricing: postings, accounts, ids, and record matching."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from hashlib import sha1
from types import MappingProxyType
from typing import NamedTuple
from uuid import UUID

from services.settlement.book.eligibility import Applicant
from services.settlement.book.facts import ItemsApproved, PersonAssessed, PersonSurveyed, ServiceRecorded
from services.settlement.book.names import item_name, named
from services.settlement.book.policy import Cap, Free, Percentage, Policy, Subsidy, fen_of

POSTING_NAMESPACE = UUID("5b0f3c2e-6a0d-5d43-9a57-2f1c8e4b7d10")
"""uuid5 namespace of posting ids: the id of a posting is uuid5(namespace, its key)."""

AT_ANOTHER_INSTITUTION = "other_institution"
"""The code of a record from an institution the item was not (or no longer) approved at."""


class Posting(NamedTuple):
    """One payment: ``amount_fen`` from the fund (debit) to the payee (credit), and why.

    An adjustment 调整 (rule ``<rule>_adjustment``) corrects earlier postings of the same subject:
    a top-up debits the fund and credits the payee, a claw-back 追回 debits the payee and credits
    the fund; its inputs name the correcting event and the postings it adjusts.

    A named tuple, like the dues below: immutable values that a replay makes by the hundred thousand
    (a frozen dataclass costs three times as much to make).
    """

    rule: str
    key: str
    business_date: date
    debit_account: str
    credit_account: str
    amount_fen: int
    policy_id: str
    policy_version: int
    source_event_ids: tuple[str, ...]
    inputs: Mapping[str, object] = MappingProxyType({})

    @property
    def posting_id(self) -> UUID:
        """The posting's id follows from its key: uuid5(POSTING_NAMESPACE, key)."""
        return UUID(posting_id_text(self.key))


@dataclass(frozen=True)
class Unsettled:
    """A fact that has not (yet) made a payment due, and why: ``reason`` in Chinese for people, ``code``
    stable for programs (``awaiting_approval``, ``fee_unstated`` …), ``person`` whom it concerns."""

    subject: str
    reason: str
    source_event_ids: tuple[str, ...]
    code: str = "unsettled"
    person: str | None = None


class Reason(NamedTuple):
    """Why a fact makes no payment: a stable code for programs and a Chinese sentence for people."""

    code: str
    text: str


class Due(NamedTuple):
    """A payment a rule found due, before the policy in force prices it."""

    rule: str
    key: str
    credit_account: str
    business_date: date
    source_event_ids: tuple[str, ...]
    inputs: dict[str, object]
    area: str | None = None  # picks an area's funding split: the street or county the application was made in


class Priced(NamedTuple):
    """A due payment with its amount and the policy that priced it."""

    due: Due
    policy: Policy
    amount_fen: int


class Cumulated(NamedTuple):
    """What the records before a record in turn already paid: of its application's item (that item's cap),
    and of the item to the person in the year, over all their applications (a cap 每人每年)."""

    application_fen: int
    year_fen: int


class Match(NamedTuple):
    """A signed service record that matches an approved item, with the policy in force."""

    service: ServiceRecorded
    approval: ItemsApproved
    policy: Policy
    day: date
    sources: tuple[str, ...]
    applicant: Applicant | None = None
    """The applicant as the application's form describes them, when settlement has the form."""


def street_account(street: str) -> str:
    return f"street:{street}"


def assessment_institution_account(institution: str) -> str:
    return f"assessment_institution:{institution}"


def service_institution_account(institution: str) -> str:
    return f"service_institution:{institution}"


def person_account(person: str) -> str:
    return f"person:{person}"


_NAMESPACE_BYTES = POSTING_NAMESPACE.bytes


def posting_id_text(key: str) -> str:
    """uuid5(POSTING_NAMESPACE, key) as text, computed without a UUID object (a replay makes one per
    posting): SHA-1 of namespace and key, version 5 and the RFC 4122 variant set in its bits."""
    digest = bytearray(sha1(_NAMESPACE_BYTES + key.encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50
    digest[8] = (digest[8] & 0x3F) | 0x80
    hex_ = digest.hex()
    return f"{hex_[:8]}-{hex_[8:12]}-{hex_[12:16]}-{hex_[16:20]}-{hex_[20:]}"


def posting(due: Due, debit_account: str, amount_fen: int, policy: Policy) -> Posting:
    return Posting(
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


def standard_of(tier: object) -> int | None:
    """The stated standard (cap) of a tier, for the posting's inputs; None when unstated or absent."""
    subsidy: Subsidy | None = getattr(tier, "subsidy", None)
    match subsidy:
        case Free(standard_fen=figure) | Cap(cap_fen=figure) | Percentage(cap_fen=figure):
            return fen_of(figure)
    return None


def survey_fee(survey: PersonSurveyed) -> Due:
    return Due(
        rule="survey_fee",
        key=f"survey_fee:{survey.person}:{survey.year}",
        credit_account=street_account(survey.street),
        business_date=survey.surveyed_on,
        source_event_ids=(survey.event_id,),
        inputs={"person_id": survey.person, "year": survey.year, "street": survey.street},
    )


def management_fee(survey: PersonSurveyed, assessment: PersonAssessed) -> Due:
    return Due(
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


def assessment_fee(assessment: PersonAssessed) -> Due:
    return Due(
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


def service_inputs(service: ServiceRecorded) -> dict[str, object]:
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


def mismatch(
    service: ServiceRecorded,
    approval: ItemsApproved,
    institution_on_day: str | None,
    institutions: Mapping[str, str] = MappingProxyType({}),
) -> Reason | None:
    """Why a service record does not count for settlement, or None when it matches its approval.

    ``institution_on_day`` is the institution in charge of the item over the record's service period:
    the approved one, or the one approved institution changes moved the item to by its first day.
    ``institutions`` names them (id -> name, from the reference data).
    """
    if not service.signed:
        return Reason("record_unsigned", "服务记录未经本人或监护人签字确认")
    if service.person != approval.person:
        return Reason("other_person", "服务记录与所依据的补助申请不是同一人")
    if service.year != approval.year:
        return Reason("other_year", f"服务年度 {service.year} 与申请年度 {approval.year} 不一致")
    approved = approval.item(service.item)
    if approved is None:
        return Reason("item_not_approved", f"补助申请未批准服务项目「{item_name(service.item)}」")
    if institution_on_day is None or institution_on_day == service.institution:
        return None
    item, recorded = item_name(service.item), named(institutions, service.institution)
    if institution_on_day == approved.institution:
        return Reason(
            AT_ANOTHER_INSTITUTION,
            f"「{item}」批准在{named(institutions, approved.institution)}实施，记录却来自{recorded}，"
            "且没有已批准的服务机构变更",
        )
    return Reason(
        AT_ANOTHER_INSTITUTION,
        f"服务周期开始前，已批准的机构变更把「{item}」转到{named(institutions, institution_on_day)}，"
        f"记录却来自{recorded}",
    )
