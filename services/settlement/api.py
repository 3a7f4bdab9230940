"""HTTP API of settlement: the ledger, its postings with provenance, coverage, and rebuild by replay.

With access control on, each query is narrowed to the caller's scope (ledger_scopes.py, docs/security.md).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field

from kernel.access.access import PERSONAL_DATA, Caller, Forbidden
from kernel.access.scopes import area_of
from kernel.domain.rejections import NotFound, StateConflict
from kernel.http import Command, Limit, Offset
from kernel.messaging.leadership import LEADER
from kernel.runtime import ServiceRuntime, runtime_of
from kernel.web.paging import MAX_PAGE, PAGED, page_of
from services.settlement.book.dues import Posting
from services.settlement.book.policy import PolicySet
from services.settlement.deployment import deployment_jurisdiction
from services.settlement.documents.chain import street_persons
from services.settlement.documents.labels import rule_name
from services.settlement.documents.reports import Coverage, coverage_report, policy_of_year, progress_report
from services.settlement.documents.spending import Spending, year_spending
from services.settlement.ledger import unsettled
from services.settlement.ledger.archive import archived_events
from services.settlement.ledger.live import LiveLedger
from services.settlement.ledger.queries import find_posting, find_postings, journal_lines_of
from services.settlement.ledger.replay import rebuild_ledger
from services.settlement.ledger.report import LedgerReport, ledger_report, yuan
from services.settlement.ledger_scopes import (
    ledger_scope,
    require_posting_visible,
    require_whole_ledger,
    street_progress,
    visible_accounts,
    visible_unsettled,
)

router = APIRouter(tags=["settlement"])
TEXT_MAX = 100
"""Longest text a query parameter takes: longer is a 422, never a scan for a name no one has."""


def ledger_of(request: Request) -> LiveLedger:
    """FastAPI dependency: the live ledger of this process."""
    ledger: LiveLedger = request.app.state.ledger
    return ledger


Runtime = Annotated[ServiceRuntime, Depends(runtime_of)]
Ledger = Annotated[LiveLedger, Depends(ledger_of)]


# -- response models -----------------------------------------------------------------------------
class AccountTotalsOut(BaseModel):
    account: str = Field(description="Account, e.g. 'fund:liangjiang-finance' or 'street:鸳鸯'.")
    debit_fen: int = Field(description="Sum of the account's debit lines, in fen 分.")
    credit_fen: int = Field(description="Sum of the account's credit lines, in fen 分.")
    balance_fen: int = Field(description="Debits minus credits: the fund is positive, payees are negative.")
    balance_yuan: str = Field(description="The balance in yuan with two decimals.", examples=["-60.00"])


class LedgerOut(BaseModel):
    accounts: list[AccountTotalsOut] = Field(description="Every account with a line, sorted by name.")
    total_debit_fen: int = Field(description="Sum of all debit lines, in fen.")
    total_credit_fen: int = Field(description="Sum of all credit lines, in fen.")
    posting_count: int = Field(description="Number of postings.")
    unbalanced_postings: int = Field(description="Postings without one debit and one equal credit line.")
    balanced: bool = Field(description="Total debits equal total credits and every posting balances.")

    @classmethod
    def of(cls, report: LedgerReport) -> LedgerOut:
        return cls(
            accounts=[
                AccountTotalsOut(
                    account=totals.account,
                    debit_fen=totals.debit_fen,
                    credit_fen=totals.credit_fen,
                    balance_fen=totals.balance_fen,
                    balance_yuan=yuan(totals.balance_fen),
                )
                for totals in report.accounts
            ],
            total_debit_fen=report.total_debit_fen,
            total_credit_fen=report.total_credit_fen,
            posting_count=report.posting_count,
            unbalanced_postings=report.unbalanced_postings,
            balanced=report.balanced,
        )


class PostingOut(BaseModel):
    posting_id: UUID = Field(description="uuid5 of the key: the same id in every replay.")
    rule: str = Field(
        description="survey_fee, management_fee, assessment_fee, support_service or service_subsidy.",
        examples=["survey_fee"],
    )
    key: str = Field(description="What is paid at most once, e.g. 'survey_fee:<person>:<year>'.")
    business_date: date = Field(description="Date of the facts that made it due (never the posting time).")
    debit_account: str = Field(description="The fund that pays.", examples=["fund:liangjiang-finance"])
    credit_account: str = Field(description="The payee.", examples=["street:鸳鸯"])
    amount_fen: int = Field(description="Amount in fen 分, > 0.", examples=[3000])
    amount_yuan: str = Field(description="Amount in yuan with two decimals.", examples=["30.00"])
    policy_id: str = Field(description="Policy in force on the business date.", examples=["liangjiang-2024"])
    policy_version: int = Field(description="Version of that policy.", examples=[1])
    policy_title: str | None = Field(
        default=None,
        description="The policy's Chinese title; null when no loaded policy has its id.",
        examples=["重庆两江新区残疾人精准康复服务行动实施方案"],
    )
    source_event_ids: list[str] = Field(description="Events that made the posting due.")
    inputs: dict[str, Any] = Field(description="The values the rule used (fee, charge, insurance, cap...).")

    @classmethod
    def of(cls, posting: Posting, policies: PolicySet | None = None) -> PostingOut:
        policy = None if policies is None else policies.get(posting.policy_id)
        return cls(
            posting_id=posting.posting_id,
            rule=posting.rule,
            key=posting.key,
            business_date=posting.business_date,
            debit_account=posting.debit_account,
            credit_account=posting.credit_account,
            amount_fen=posting.amount_fen,
            amount_yuan=yuan(posting.amount_fen),
            policy_id=posting.policy_id,
            policy_version=posting.policy_version,
            policy_title=None if policy is None else policy.title,
            source_event_ids=list(posting.source_event_ids),
            inputs=dict(posting.inputs),
        )


class PostingPage(BaseModel):
    total: int = Field(description="Postings matching the filters.")
    limit: int
    offset: int
    items: list[PostingOut] = Field(description="Postings by business date, then key.")


class JournalLineOut(BaseModel):
    side: str = Field(description="debit or credit.")
    account: str
    amount_fen: int


class SourceEventOut(BaseModel):
    event_id: str
    event_type: str = Field(examples=["survey.need_surveyed"])
    producer: str = Field(examples=["survey"])
    stream_id: str = Field(description="The producer's aggregate, e.g. 'person-<uuid>'.")
    occurred_at: datetime = Field(description="Business time of the fact.")
    received_at: datetime = Field(description="When settlement archived the event.")
    payload: dict[str, Any] = Field(description="The event's payload as archived.")


class PostingDetailOut(PostingOut):
    journal_lines: list[JournalLineOut] = Field(description="The posting's debit and credit lines.")
    source_events: list[SourceEventOut] = Field(description="Provenance: the archived events it rests on.")


class CoverageOut(BaseModel):
    street: str | None = Field(description="Street 街道; null for the overall row.", examples=["鸳鸯"])
    surveyed: int = Field(description="Distinct persons surveyed in the year.")
    with_needs: int = Field(description="Of those, persons whose last survey of the year found needs.")
    served: int = Field(description="Of those, persons with a service delivered in the year.")
    coverage_percent: str | None = Field(
        description="served / with_needs x 100, two decimals; null when nobody has needs.", examples=["85.71"]
    )
    target_percent: str | None = Field(
        description="The coverage target of the policy in force for the year; null when it sets none.",
        examples=["100"],
    )
    target_met: bool | None = Field(
        description="Whether served / with_needs reaches the target; null without a target or needs."
    )

    @classmethod
    def of(cls, coverage: Coverage) -> CoverageOut:
        percent = coverage.percent
        return cls(
            street=coverage.street,
            surveyed=coverage.surveyed,
            with_needs=coverage.with_needs,
            served=coverage.served,
            coverage_percent=None if percent is None else str(percent),
            target_percent=None if coverage.target_percent is None else str(coverage.target_percent),
            target_met=coverage.target_met,
        )


class CoverageReportOut(BaseModel):
    year: int
    policy_id: str | None = Field(description="The policy in force for the year, whose target applies.")
    policy_version: int | None = Field(description="Its version.")
    streets: list[CoverageOut] = Field(
        description="Every street of the jurisdiction in its order (then any other street surveyed, by "
        "name); a street's user gets their street's row only."
    )
    overall: CoverageOut = Field(description="The whole district, for every caller: counts naming no one.")


class MonthProgressOut(BaseModel):
    month: int = Field(description="1-12.", examples=[10])
    surveyed: int = Field(description="Distinct persons surveyed by the end of the month (cumulative).")
    with_needs: int = Field(description="Of those, persons whose last survey by then found needs.")
    served: int = Field(description="Of those, persons who signed for a service by the end of the month.")


class ProgressReportOut(BaseModel):
    year: int
    months: list[MonthProgressOut] = Field(description="The twelve months, cumulative by business date.")


class StreetPersonOut(BaseModel):
    person_id: str = Field(description="The person (their 姓名 is the survey registry's to release).")
    community: str = Field(description="The community 社区 of their last survey of the year.")
    has_needs: bool = Field(description="Their last survey of the year found needs.")
    served: bool = Field(description="They have needs and signed for a service in the year.")


class RuleSpendingOut(BaseModel):
    rule: str = Field(
        description="The rule; an adjustment counts under the rule it adjusts.", examples=["survey_fee"]
    )
    name: str = Field(description="Its Chinese name 经费类别.", examples=["需求调查工作经费"])
    fen: int = Field(description="Paid in the year net of claw-backs, in fen 分.", examples=[3000])


class FundSpendingOut(BaseModel):
    account: str = Field(examples=["fund:liangjiang-finance"])
    name: str = Field(description="The fund as the policies name it.", examples=["两江新区财政"])
    level: str | None = Field(
        description="Its level of government (central_provincial, city_county, city, county, district); "
        "null when no policy names the fund.",
        examples=["district"],
    )
    fen: int = Field(description="Paid in the year net of claw-backs, in fen 分.")


class LevelSpendingOut(BaseModel):
    level: str | None = Field(description="The level of government; null for funds no policy names.")
    funds: list[str] = Field(description="The accounts of the level's funds that paid.")
    fen: int = Field(description="Paid in the year net of claw-backs, in fen 分.")


class RuleFundOut(BaseModel):
    rule: str
    fund: str
    fen: int


class SpendingOut(BaseModel):
    year: int
    by_rule: list[RuleSpendingOut] = Field(description="Each rule that paid, by rule code.")
    by_fund: list[FundSpendingOut] = Field(description="Each fund that paid, by account.")
    by_level: list[LevelSpendingOut] = Field(description="Each level of government that paid.")
    by_rule_and_fund: list[RuleFundOut] = Field(
        description="Each rule's money per fund (the figures summed above)."
    )
    total_fen: int = Field(description="The year's spending net of claw-backs, in fen 分.")

    @classmethod
    def of(cls, spending: Spending) -> SpendingOut:
        funds = {fund.account: fund for fund in spending.funds}
        members: dict[str | None, list[str]] = {}
        for fund in spending.funds:
            members.setdefault(fund.level, []).append(fund.account)
        return cls(
            year=spending.year,
            by_rule=[
                RuleSpendingOut(rule=r, name=rule_name(r), fen=f) for r, f in spending.by_rule().items()
            ],
            by_fund=[
                FundSpendingOut(account=a, name=funds[a].name, level=funds[a].level, fen=f)
                for a, f in spending.by_fund().items()
            ],
            by_level=[
                LevelSpendingOut(level=level, funds=members[level], fen=fen)
                for level, fen in spending.by_level().items()
            ],
            by_rule_and_fund=[RuleFundOut(rule=f.rule, fund=f.fund, fen=f.fen) for f in spending.flows],
            total_fen=spending.total_fen,
        )


class UnsettledOut(BaseModel):
    subject: str = Field(description="The delivery id or posting key not (yet) settled.")
    code: str = Field(
        description="Why, stable for programs: awaiting_approval, application_refused, record_unsigned, "
        "other_person, other_year, item_not_approved, other_institution, no_policy, item_not_in_catalogue, "
        "support_service_paid, fee_unstated, tier_undecided, not_eligible, standard_unstated, outside_range, "
        "paid_once, nothing_to_pay.",
        examples=["awaiting_approval"],
    )
    reason: str = Field(
        description="Why, in Chinese for people.",
        examples=["「白内障复明手术」已有服务记录，等待其补助申请的审批结果"],
    )
    person_id: str | None = Field(
        description="The person the fact concerns (their 姓名 is survey's to release)."
    )
    source_event_ids: list[str]


# -- endpoints -----------------------------------------------------------------------------------
@router.get("/ledger", response_model=LedgerOut, summary="Totals per account, grand totals, balance check")
def get_ledger(runtime: Runtime, caller: Caller) -> LedgerOut:
    require_whole_ledger(caller, "全账合计（各账户合计与平衡检查）")
    return LedgerOut.of(ledger_report(runtime.store.engine))


@router.get("/ledger/postings", response_model=PostingPage, summary="Postings, filtered by account and rule")
def list_postings(
    runtime: Runtime,
    ledger: Ledger,
    caller: Caller,
    account: Annotated[
        str | None, Query(max_length=TEXT_MAX, description="Postings debiting or crediting this account.")
    ] = None,
    rule: Annotated[
        str | None, Query(max_length=TEXT_MAX, description="Postings of this rule, e.g. survey_fee.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Offset = 0,
) -> PostingPage:
    engine = runtime.store.engine
    within = visible_accounts(ledger_scope(caller), account)  # the account asked for, in the caller's scope
    total, postings = find_postings(engine, within=within, rule=rule, limit=limit, offset=offset)
    items = [PostingOut.of(posting, ledger.policies) for posting in postings]
    return PostingPage(total=total, limit=limit, offset=offset, items=items)


@router.get(
    "/ledger/postings/{posting_id}",
    response_model=PostingDetailOut,
    summary="One posting with its journal lines and the archived events it rests on",
    openapi_extra=PERSONAL_DATA,  # the archived payloads: a person's survey, needs and services
)
def get_posting(posting_id: UUID, runtime: Runtime, ledger: Ledger, caller: Caller) -> PostingDetailOut:
    engine = runtime.store.engine
    posting = find_posting(engine, posting_id)
    if posting is None:
        raise NotFound(
            f"没有编号为 {posting_id} 的记账记录", field="posting_id", code="settlement.posting.not_found"
        )
    require_posting_visible(ledger_scope(caller), posting)
    lines = [
        JournalLineOut(side=side, account=account, amount_fen=amount)
        for side, account, amount in journal_lines_of(engine, posting_id)
    ]
    sources = [
        SourceEventOut(
            event_id=str(envelope.event_id),
            event_type=envelope.event_type,
            producer=envelope.producer,
            stream_id=envelope.stream_id,
            occurred_at=envelope.occurred_at,
            received_at=received_at,
            payload=envelope.payload,
        )
        for envelope, received_at in archived_events(engine, posting.source_event_ids)
    ]
    summary = PostingOut.of(posting, ledger.policies).model_dump()
    return PostingDetailOut(**summary, journal_lines=lines, source_events=sources)


@router.get(
    "/ledger/unsettled",
    response_model=list[UnsettledOut],
    summary="Facts not yet settled, and why, a page at a time (X-Total-Count)",
    responses=PAGED,
)
def list_unsettled(
    runtime: Runtime,
    caller: Caller,
    request: Request,
    response: Response,
    limit: Limit = MAX_PAGE,
    offset: Offset = 0,
) -> list[UnsettledOut]:
    items = visible_unsettled(
        runtime.store.engine, ledger_scope(caller), unsettled.read(runtime.store.engine)
    )
    shown = page_of(items, limit=limit, offset=offset, request=request, response=response)
    return [
        UnsettledOut(
            subject=item.subject,
            code=item.code,
            reason=item.reason,
            person_id=item.person,
            source_event_ids=list(item.source_event_ids),
        )
        for item in shown
    ]


@router.post(
    "/ledger/rebuild",
    response_model=LedgerOut,
    summary="Drop the ledger and rebuild it by replay (on the instance that writes the ledger)",
    responses={409: {"description": "This instance is a standby (ADR 0020): rebuild on the leader."}},
)
def rebuild(runtime: Runtime, ledger: Ledger, command: Command) -> Response:
    writer = runtime.single_writer
    if writer is not None and writer.leadership.role != LEADER:
        raise StateConflict(
            "本实例是备用实例（standby），不写结算台账；请在当前的主实例（leader，见各实例 /health 的 "
            "leadership.role）上重建",
            code="settlement.rebuild.standby",
        )
    report = rebuild_ledger(runtime.store.engine, ledger.policies, live=ledger)
    return command.answer(LedgerOut.of(report))  # kept for an Idempotency-Key: a retry is not rebuilt


@router.get("/reports/coverage", response_model=CoverageReportOut, summary="Coverage of a year per street")
def get_coverage(
    runtime: Runtime,
    ledger: Ledger,
    year: Annotated[int, Query(ge=2000, le=2100, description="Year of the surveys.")],
    caller: Caller,
) -> CoverageReportOut:
    street = _report_street(caller)
    jurisdiction = deployment_jurisdiction()
    policy = policy_of_year(ledger.policies, jurisdiction.jurisdiction, year)
    report = coverage_report(runtime.store.engine, year, jurisdiction.streets, policy)
    return CoverageReportOut(
        year=report.year,
        policy_id=report.policy_id,
        policy_version=report.policy_version,
        streets=[CoverageOut.of(row) for row in report.streets if street in (None, row.street)],
        overall=CoverageOut.of(report.overall),
    )


@router.get(
    "/reports/progress", response_model=ProgressReportOut, summary="Monthly progress of a year, cumulative"
)
def get_progress(
    runtime: Runtime,
    year: Annotated[int, Query(ge=2000, le=2100, description="Year of the surveys.")],
    caller: Caller,
) -> ProgressReportOut:
    street = _report_street(caller)
    engine = runtime.store.engine
    months = progress_report(engine, year) if street is None else street_progress(engine, year, street)
    return ProgressReportOut(
        year=year,
        months=[
            MonthProgressOut(month=m.month, surveyed=m.surveyed, with_needs=m.with_needs, served=m.served)
            for m in months
        ],
    )


@router.get(
    "/reports/spending",
    response_model=SpendingOut,
    summary="The year's spending by rule, fund and level of government, net of claw-backs",
)
def get_spending(
    runtime: Runtime,
    ledger: Ledger,
    year: Annotated[int, Query(ge=2000, le=2100, description="Year of the postings' business dates.")],
    caller: Caller,
) -> SpendingOut:
    """The district and auditors read every posting; a street (community) its street's account; an
    institution its own accounts: the postings GET /ledger/postings gives the same caller."""
    within = ledger_scope(caller).accounts
    return SpendingOut.of(year_spending(runtime.store.engine, year, ledger.policies, within))


@router.get(
    "/reports/coverage/persons",
    response_model=list[StreetPersonOut],
    summary="The persons a street's coverage row counts in a year (ids only), for a drill-down",
    openapi_extra=PERSONAL_DATA,  # whether each identified person has needs and was served
)
def get_coverage_persons(
    runtime: Runtime,
    year: Annotated[int, Query(ge=2000, le=2100, description="Year of the surveys.")],
    street: Annotated[str, Query(max_length=TEXT_MAX, description="Street 街道, e.g. 鸳鸯.")],
    caller: Caller,
) -> list[StreetPersonOut]:
    """A street's users read their own street's; institutions none (403), like the coverage report."""
    own = _report_street(caller)
    if own is not None and own != street:
        raise Forbidden(f"只能查阅本街道（{own}）的人员", code="access.other_street")
    return [
        StreetPersonOut(
            person_id=each.person, community=each.community, has_needs=each.has_needs, served=each.served
        )
        for each in street_persons(runtime.store.engine, year, street)
    ]


def _report_street(caller: Caller) -> str | None:
    """The street a report is limited to (None: the district's); institutions have no row (403)."""
    if caller is not None and caller.scope.kind == "institution":
        raise Forbidden(
            "覆盖率和进度按街道统计，机构用户不能查阅；请查阅本机构的记账记录（/ledger/postings）或对账单",
            code="access.scope_not_applicable",
        )
    return area_of(caller).street
