"""Which postings, unsettled facts and report rows a settlement caller reads: the district all of them,
a street 街道 its own account's, an institution its own accounts' (docs/security.md)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Engine

from kernel.access.access import Forbidden
from kernel.access.auth import Principal
from kernel.access.scopes import area_of
from services.settlement.book.dues import (
    Posting,
    Unsettled,
    assessment_institution_account,
    service_institution_account,
    street_account,
)
from services.settlement.book.facts import Fact, InstitutionChanged, ItemsApproved, PersonSurveyed
from services.settlement.documents.reports import MonthProgress, archived_facts, progress
from services.settlement.ledger import fact_log
from services.settlement.ledger.tables import facts_table

__all__ = [
    "LedgerScope",
    "ledger_scope",
    "require_posting_visible",
    "require_whole_ledger",
    "street_progress",
    "visible_accounts",
    "visible_unsettled",
]


class ScopeRefused(Forbidden):
    """A 403 that names the request field asking beyond the caller's scope."""

    def __init__(self, message: str, *, code: str, field: str | None = None) -> None:
        super().__init__(message, code=code)
        self.field = field


@dataclass(frozen=True)
class LedgerScope:
    """The accounts a caller reads (None: every account) and the street or institution they are."""

    accounts: tuple[str, ...] | None
    street: str | None = None
    institution: str | None = None

    @property
    def whole(self) -> bool:
        return self.accounts is None

    def refuse(self, what: str, field: str | None = None) -> ScopeRefused:
        """The refusal of a record (or a filter) outside this scope."""
        if self.institution is not None:
            message = f"只能查阅本机构（{self.institution}）的{what}"
            return ScopeRefused(message, code="access.other_institution", field=field)
        return ScopeRefused(
            f"只能查阅本街道（{self.street}）的{what}", code="access.other_street", field=field
        )


def ledger_scope(caller: Principal | None) -> LedgerScope:
    """District users and auditors read the whole ledger; a street (community) user the street's
    account; an institution user its assessment and service institution accounts."""
    if caller is None or caller.scope.kind == "district":
        return LedgerScope(None)
    if caller.scope.kind == "institution":
        own = caller.scope.value
        accounts = (assessment_institution_account(own), service_institution_account(own))
        return LedgerScope(accounts, institution=own)
    street = area_of(caller).street  # a community's user reads its street's account, like its statement
    assert street is not None  # area_of limits every scope but the district to a street
    return LedgerScope((street_account(street),), street=street)


def require_whole_ledger(caller: Principal | None, what: str) -> None:
    """Refuse (403) a street's or institution's user a figure of every account at once."""
    if not ledger_scope(caller).whole:
        raise Forbidden(
            f"{what}涉及全区所有账户，只能由区级（district）用户或审计人员查阅；"
            "街道、机构请查阅本单位的记账记录（/ledger/postings）或对账单（/statements/{账户}）",
            code="access.district_only",
        )


def visible_accounts(scope: LedgerScope, asked: str | None) -> tuple[str, ...] | None:
    """The accounts a posting list is limited to: the one asked for, within the caller's scope."""
    if scope.accounts is None:
        return None if asked is None else (asked,)
    if asked is None:
        return scope.accounts
    if asked not in scope.accounts:
        raise scope.refuse(f"记账记录，即账户 {'、'.join(scope.accounts)}", field="account")
    return (asked,)


def require_posting_visible(scope: LedgerScope, posting: Posting) -> None:
    """Refuse (403) a posting that neither debits nor credits one of the caller's accounts."""
    if scope.accounts is None:
        return
    if posting.debit_account not in scope.accounts and posting.credit_account not in scope.accounts:
        raise scope.refuse("记账记录：这笔记录不涉及你的账户", field="posting_id")


# -- unsettled facts -----------------------------------------------------------------------------
def visible_unsettled(engine: Engine, scope: LedgerScope, items: list[Unsettled]) -> list[Unsettled]:
    """The unsettled facts whose source events concern the caller: an institution's own assessments,
    approvals and services; a street's applications and the persons surveyed in the street."""
    if scope.accounts is None or not items:
        return items
    # The log is read a page at a time, never held: only the facts the items rest on and a street's
    # persons are kept.
    wanted = {event_id for item in items for event_id in item.source_event_ids}
    facts: dict[str, Fact] = {}
    persons: set[str] = set()
    for fact in fact_log.read(engine, facts_table):
        if fact.event_id in wanted:
            facts[fact.event_id] = fact
        if isinstance(fact, PersonSurveyed) and fact.street == scope.street:
            persons.add(fact.person)
    if scope.institution is not None:
        mine = {event_id for event_id, fact in facts.items() if _names_institution(fact, scope.institution)}
    else:
        mine = {event_id for event_id, fact in facts.items() if _of_street(fact, scope.street, persons)}
    return [item for item in items if mine.intersection(item.source_event_ids)]


def _names_institution(fact: Fact, institution: str) -> bool:
    if isinstance(fact, ItemsApproved):
        return any(item.institution == institution for item in fact.items)
    if isinstance(fact, InstitutionChanged):
        return institution in (fact.from_institution, fact.to_institution)
    return getattr(fact, "institution", None) == institution


def _of_street(fact: Fact, street: str | None, persons: set[str]) -> bool:
    if isinstance(fact, PersonSurveyed):
        return fact.street == street
    if isinstance(fact, ItemsApproved) and fact.area == street:
        return True
    return getattr(fact, "person", None) in persons


# -- reports -------------------------------------------------------------------------------------
def street_progress(engine: Engine, year: int, street: str) -> tuple[MonthProgress, ...]:
    """Monthly progress of the persons whose last survey of the year is in `street`: the persons its
    coverage row counts, so December equals that row.

    The archive is read twice, a page at a time: first for each person's street, then for the street's
    persons' facts alone, so a street's report holds its own persons' facts, not the district's."""
    persons = last_surveyed_in(archived_facts(engine), year, street)
    theirs = (fact for fact in archived_facts(engine) if getattr(fact, "person", None) in persons)
    return progress(theirs, year)


def last_surveyed_in(facts: Iterable[Fact], year: int, street: str) -> set[str]:
    """The persons whose last survey of ``year`` is in ``street`` (as ``year_facts`` tells it)."""
    streets: dict[str, str] = {}
    for fact in facts:
        if isinstance(fact, PersonSurveyed) and fact.year == year:
            streets[fact.person] = fact.street
    return {person for person, last in streets.items() if last == street}
