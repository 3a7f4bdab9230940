"""One person's whole journey read from the five agencies, each with the clerk's own token.

Every agency decides for itself what this clerk may read: a service that refuses the clerk's agency
(``access.wrong_agency``) leaves its section saying 无权查看, a service that does not answer leaves its
section saying so, and the rest of the page still shows. The console filters nothing by its own rules;
where an API lacks a by-person filter (settlement's postings) it reads a bounded number of pages and
keeps the person's rows, and the page says when that bound was reached.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from console.agencies import SERVICE_NAMES, AgencyClient, Problem, ServiceRefused, ServiceUnavailable
from console.web import Clerk

__all__ = ["PURPOSE", "Journey", "Section", "read_journey"]

PURPOSE = "查看个人全程档案"
"""Why the page reads personal data: each agency's audit log keeps it beside the clerk's name."""

WRONG_AGENCY = "access.wrong_agency"
POSTINGS_PAGE = 500
POSTINGS_PAGES = 10
"""GET /ledger/postings has no person filter: the person's postings are looked for in the first 5,000."""


@dataclass(frozen=True)
class Section:
    """What one agency answered for this page: its body, or why there is none to show."""

    service: str
    body: Any = None
    refusal: str | None = None
    unavailable: str | None = None
    problem: Problem | None = None
    """A refusal of this person (not of the clerk's agency): another street's, unknown, …"""

    @property
    def shown(self) -> bool:
        return self.refusal is None and self.unavailable is None


@dataclass(frozen=True)
class Journey:
    """The five sections of the page, in the order the person goes through them."""

    person_id: UUID
    survey: Section
    assessment: Section
    approval: Section
    delivery: Section
    settlement: Section

    @property
    def person(self) -> Mapping[str, Any] | None:
        """The registry's record of the person, when this clerk may read it."""
        return self.survey.body if self.survey.shown else None


@dataclass(frozen=True)
class Reader:
    """The clerk's reads of one agency, each saying the page's purpose."""

    agencies: AgencyClient
    clerk: Clerk
    service: str

    def get(self, path: str, **params: Any) -> Any:
        return self.agencies.get(self.service, path, user=self.clerk.name, purpose=PURPOSE, params=params)


def read_journey(agencies: AgencyClient, clerk: Clerk, person_id: UUID) -> Journey:
    """Every section of the page; raises ``ServiceRefused`` when the registry refuses the person itself
    (another street's person, an unknown id): then there is no page to show, only the refusal."""
    survey = _section(Reader(agencies, clerk, "survey"), lambda read: read.get(f"/persons/{person_id}"))
    if survey.problem is not None:
        raise ServiceRefused(survey.problem)

    def part(service: str, fetch: Callable[[Reader, UUID], Any]) -> Section:
        return _section(Reader(agencies, clerk, service), lambda read: fetch(read, person_id))

    return Journey(
        person_id=person_id,
        survey=survey,
        assessment=part("assessment", _assessments),
        approval=part("approval", _applications),
        delivery=part("delivery", _deliveries),
        settlement=part("settlement", _postings),
    )


def _section(read: Reader, fetch: Callable[[Reader], Any]) -> Section:
    """One agency's part: what it answered, 无权查看 when it refuses the clerk's agency, the service's own
    words (and problem) when it refuses this person, or that it cannot be reached."""
    try:
        return Section(read.service, fetch(read))
    except ServiceUnavailable as unavailable:
        return Section(read.service, unavailable=str(unavailable))
    except ServiceRefused as refused:
        system = SERVICE_NAMES.get(read.service, read.service)
        if refused.problem.code == WRONG_AGENCY:
            return Section(read.service, refusal=f"无权查看（{system}）")
        return Section(read.service, refusal=refused.problem.detail, problem=refused.problem)


def _assessments(read: Reader, person_id: UUID) -> list[dict[str, Any]]:
    """The person's 康复需求评估与转介记录, each with its referrals and escalations, oldest first."""
    page = read.get("/assessments", person_id=person_id, limit=50)
    records = []
    for summary in page["items"]:
        try:
            records.append(read.get(f"/assessments/{summary['assessment_id']}"))
        except ServiceRefused:  # made by another institution: its summary only
            records.append({**summary, "assessment_year": summary["year"], "referrals": [], "partial": True})
    return sorted(records, key=lambda record: record["assessed_on"])


def _applications(read: Reader, person_id: UUID) -> dict[str, Any]:
    """The person's applications 附件2 (items, decisions, sign-offs) and the referrals approval received."""
    applications = read.get("/applications", person_id=person_id)
    referrals = read.get("/referrals", person_id=person_id)
    return {
        "applications": sorted(applications, key=lambda application: application["submitted_on"]),
        "referrals": sorted(referrals, key=lambda referral: referral["issued_on"]),
    }


def _deliveries(read: Reader, person_id: UUID) -> dict[str, Any]:
    """The person's service records, with the service card each was kept under."""
    records = read.get("/deliveries", person_id=person_id)
    entitlements = read.get("/entitlements", person_id=person_id)
    cards = {
        (entitlement["application_id"], entitlement["item"]): entitlement for entitlement in entitlements
    }
    return {
        "records": sorted(records, key=lambda record: record["period_start"]),
        "entitlements": entitlements,
        "cards": {f"{application}/{item}": card for (application, item), card in cards.items()},
    }


def _postings(read: Reader, person_id: UUID) -> dict[str, Any]:
    """The postings paid to or for the person (their inputs name them, or they credit the person's own
    account), looked for in the first ``POSTINGS_PAGES`` pages the clerk's scope reads."""
    person = str(person_id)
    found: list[dict[str, Any]] = []
    scanned = total = 0
    for number in range(POSTINGS_PAGES):
        page = read.get("/ledger/postings", limit=POSTINGS_PAGE, offset=number * POSTINGS_PAGE)
        total = page["total"]
        scanned += len(page["items"])
        found += [posting for posting in page["items"] if _concerns(posting, person)]
        if scanned >= total or not page["items"]:
            break
    return {
        "postings": found,
        "paid_fen": sum(_paid(posting) for posting in found),
        "scanned": scanned,
        "partial": scanned < total,
    }


def _concerns(posting: Mapping[str, Any], person: str) -> bool:
    account = f"person:{person}"
    inputs = posting.get("inputs") or {}
    return str(inputs.get("person_id")) == person or account in (
        posting["debit_account"],
        posting["credit_account"],
    )


def _paid(posting: Mapping[str, Any]) -> int:
    """What a posting adds to the money paid for the person: a payment from the fund counts, a
    claw-back 追回 (the payee debited back to the fund) takes off."""
    amount: int = posting["amount_fen"]
    return amount if str(posting["debit_account"]).startswith("fund:") else -amount
