"""HTTP API of settlement's documents: a posting's explanation, statements per payee, the annual 附件3,
quota use per county."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal
from urllib.parse import quote
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel, Field

from kernel.access.access import PERSONAL_DATA, Caller, Forbidden
from kernel.access.scopes import Territory, area_of, require_area, visible_area, visible_institution
from kernel.domain.clock import today
from kernel.domain.rejections import CommandRejected, NotFound
from kernel.reference import Jurisdiction
from kernel.runtime import ServiceRuntime, runtime_of
from services.settlement.api import TEXT_MAX, SpendingOut
from services.settlement.book.dues import street_account
from services.settlement.book.policy import PolicySet
from services.settlement.deployment import deployment_jurisdiction, settled_jurisdiction
from services.settlement.documents.annual_summary import (
    Signatures,
    annual_summary_forms,
    annual_summary_xlsx,
    refuse_hidden_characters,
)
from services.settlement.documents.chain import (
    LEVEL_NAMES,
    ChainReport,
    Level,
    UnitUnknown,
    chain_report,
    report_date,
)
from services.settlement.documents.chain_xlsx import chain_xlsx, title_of, unit_name
from services.settlement.documents.explain import Explanation, explain_posting, render_explanation
from services.settlement.documents.labels import AccountNames
from services.settlement.documents.quotas import AreaQuotaUse, NoQuotas, quota_use_report
from services.settlement.documents.reports import policy_of_year
from services.settlement.documents.spending import year_spending
from services.settlement.documents.statements import FORMATS, BadPeriod, Period, statement
from services.settlement.ledger.report import yuan
from services.settlement.ledger_scopes import ledger_scope, require_posting_visible

router = APIRouter(tags=["settlement documents"])
XLSX = FORMATS["xlsx"][0]


def policies_of(request: Request) -> PolicySet:
    """FastAPI dependency: the policies the live ledger settles with."""
    policies: PolicySet = request.app.state.ledger.policies
    return policies


def jurisdiction_of() -> Jurisdiction:
    """FastAPI dependency: the deployment's reference data (``REHAB_REFERENCE``)."""
    return deployment_jurisdiction()


Runtime = Annotated[ServiceRuntime, Depends(runtime_of)]
Policies = Annotated[PolicySet, Depends(policies_of)]
Reference = Annotated[Jurisdiction, Depends(jurisdiction_of)]


class InputOut(BaseModel):
    name: str = Field(description="The input as the posting records it.", examples=["charge_fen"])
    label: str = Field(description="Its Chinese name.", examples=["收费总额"])
    value: str = Field(description="Its value as printed (fen as yuan).", examples=["1,500.00 元"])


class SourceEventOut(BaseModel):
    event_id: str
    event_type: str = Field(examples=["survey.need_surveyed"])
    business_date: date = Field(description="Business date of the fact (CST).")
    received_at: datetime | None = Field(description="When settlement archived it.")


class ExplanationOut(BaseModel):
    posting_id: UUID
    rule: str = Field(examples=["survey_fee"])
    rule_name: str = Field(examples=["需求调查工作经费"])
    amount_fen: int = Field(examples=[3000])
    amount_yuan: str = Field(examples=["30.00"])
    business_date: date
    debit_account: str = Field(examples=["fund:liangjiang-finance"])
    debit_name: str = Field(examples=["两江新区财政"])
    credit_account: str = Field(examples=["street:鸳鸯"])
    credit_name: str = Field(examples=["鸳鸯街道"])
    policy_id: str = Field(examples=["liangjiang-2024"])
    policy_version: int = Field(description="Version the posting was made under.")
    policy_title: str
    policy_source: str = Field(description="The document the figures are quoted from.")
    clause: str = Field(description="The policy clause the rule applied.")
    figure: str = Field(description="The policy's figure as stated, or why it is unstated.")
    note: str | None = Field(description="E.g. that the policy file changed version since.")
    inputs: list[InputOut] = Field(description="The values the rule used.")
    arithmetic: list[str] = Field(description="The calculation, one step a line.")
    source_events: list[SourceEventOut]
    text: str = Field(description="The whole explanation as `rehab explain` prints it.")

    @classmethod
    def of(cls, explanation: Explanation) -> ExplanationOut:
        posting, basis = explanation.posting, explanation.basis
        return cls(
            posting_id=posting.posting_id,
            rule=posting.rule,
            rule_name=explanation.rule_name,
            amount_fen=posting.amount_fen,
            amount_yuan=yuan(posting.amount_fen),
            business_date=posting.business_date,
            debit_account=posting.debit_account,
            debit_name=explanation.debit_name,
            credit_account=posting.credit_account,
            credit_name=explanation.credit_name,
            policy_id=basis.policy_id,
            policy_version=basis.version,
            policy_title=basis.title,
            policy_source=basis.source,
            clause=basis.clause,
            figure=basis.figure,
            note=basis.note,
            inputs=[
                InputOut(name=name, label=label, value=value) for name, label, value in explanation.inputs
            ],
            arithmetic=list(explanation.arithmetic),
            source_events=[
                SourceEventOut(
                    event_id=source.event_id,
                    event_type=source.event_type,
                    business_date=source.business_date,
                    received_at=source.received_at,
                )
                for source in explanation.sources
            ],
            text=render_explanation(explanation),
        )


@router.get(
    "/ledger/postings/{posting_id}/explanation",
    response_model=ExplanationOut,
    summary="Why a posting's amount is what it is: rule, policy, inputs, arithmetic, sources",
)
def get_explanation(
    posting_id: UUID, runtime: Runtime, policies: Policies, reference: Reference, caller: Caller
) -> ExplanationOut:
    explanation = explain_posting(
        runtime.store.engine, posting_id, policies, AccountNames(reference, policies)
    )
    if explanation is None:
        raise NotFound(
            f"没有编号为 {posting_id} 的记账记录", field="posting_id", code="settlement.posting.not_found"
        )
    require_posting_visible(ledger_scope(caller), explanation.posting)  # as the posting's own route
    return ExplanationOut.of(explanation)


@router.get(
    "/statements/{account}",
    summary="Statement 对账单 of an account for a year or a month, as csv or xlsx",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}, XLSX: {}}}},
    openapi_extra=PERSONAL_DATA,  # a person payee's statement (reimbursement) is about one person
)
def get_statement(
    account: Annotated[str, Path(max_length=TEXT_MAX, description="Payee or fund, e.g. street:鸳鸯.")],
    runtime: Runtime,
    policies: Policies,
    reference: Reference,
    period: Annotated[
        str, Query(max_length=TEXT_MAX, description="A year (2025) or a month (2025-03) of business dates.")
    ],
    caller: Caller,
    format: Annotated[Literal["csv", "xlsx"], Query(description="File format.")] = "csv",
) -> Response:
    if ":" not in account:
        raise CommandRejected(
            f"账户应写成“类型:名称”，如 street:鸳鸯 或 service_institution:<机构编号>，这里是 {account}",
            field="account",
            code="settlement.account.malformed",
        )
    _require_own_account(caller, account)
    try:
        chosen = Period.parse(period)
    except BadPeriod as bad:
        raise CommandRejected(str(bad), field="period", code="settlement.period.malformed") from bad
    media_type, render = FORMATS[format]
    found = statement(runtime.store.engine, account, chosen, AccountNames(reference, policies))
    filename = f"statement-{account.replace(':', '-')}-{chosen.label}.{format}"
    return Response(render(found), media_type=media_type, headers=_attachment(filename))


@router.get(
    "/reports/annual-summary",
    summary="附件3 康复需求和康复服务情况汇总表 of a street (one sheet per community), as xlsx",
    response_class=Response,
    responses={200: {"content": {XLSX: {}}}},
    openapi_extra=PERSONAL_DATA,  # names, ages, conditions and services of each person surveyed
)
def get_annual_summary(
    runtime: Runtime,
    reference: Reference,
    year: Annotated[int, Query(ge=2000, le=2100, description="Survey and service year 年度.")],
    street: Annotated[str, Query(max_length=TEXT_MAX, description="Street 街道, e.g. 鸳鸯.")],
    caller: Caller,
    community: Annotated[
        str | None, Query(max_length=TEXT_MAX, description="One community 社区; all of the street if absent.")
    ] = None,
    preparer: Annotated[str, Query(max_length=TEXT_MAX, description="填表人, printed in the footer.")] = "",
    reviewer: Annotated[str, Query(max_length=TEXT_MAX, description="审核人, printed in the footer.")] = "",
    filled_on: Annotated[
        date | None,
        Query(description="填表日期, from 1 January of the year to 31 days after today; blank when absent."),
    ] = None,
) -> Response:
    for name, text in (("street", street), ("community", community or "")):
        refuse_hidden_characters(name, text)
    visible_area(caller, street, community)  # a street's (community's) staff read only their own
    signatures = Signatures(preparer, reviewer, filled_on)
    signatures.check(year, today())
    if street not in reference.streets:
        raise CommandRejected(
            f"{street} 不是{reference.name}的街道，可选：{'、'.join(reference.streets)}",
            field="street",
            code="settlement.street.unknown",
        )
    forms = annual_summary_forms(runtime.store.engine, year, street, community, reference)
    content = annual_summary_xlsx(forms, signatures)
    filename = f"附件3-{year}-{street}{'-' + community if community else ''}.xlsx"
    return Response(content, media_type=XLSX, headers=_attachment(filename))


def _require_own_account(caller: Caller, account: str) -> None:
    """Outside the district, a user reads the statement of their own street or institution only."""
    kind, _, name = account.partition(":")
    if caller is None or caller.scope.kind == "district":
        return
    if caller.scope.kind == "institution":
        if visible_institution(caller) != name or not kind.endswith("institution"):
            own = caller.scope.value
            raise Forbidden(f"只能查阅本机构（{own}）的对账单", code="access.other_institution")
        return
    if kind != "street":
        raise Forbidden("街道、社区的用户只能查阅本街道的对账单", code="access.other_street")
    require_area(caller, name)


class AreaQuotaUseOut(BaseModel):
    area: str = Field(
        description="County 县区 or street 街道 as the policy and the applications name it.",
        examples=["滑县"],
    )
    quota: int | None = Field(
        description="任务数 the policy sets; null for an area without a quota.", examples=[200]
    )
    approved: int = Field(
        description="Children with an approved item of the programme, counted once.", examples=[150]
    )
    percent: Decimal | None = Field(description="approved / quota in percent.", examples=["75.00"])
    met: bool | None = Field(description="approved >= quota; null without a quota.", examples=[False])

    @classmethod
    def of(cls, area: AreaQuotaUse) -> AreaQuotaUseOut:
        return cls(
            area=area.area, quota=area.quota, approved=area.approved, percent=area.percent, met=area.met
        )


class QuotaUseOut(BaseModel):
    year: int = Field(examples=[2021])
    programme: str = Field(examples=["残疾儿童康复救助"])
    minimum: bool = Field(description="The quotas are a floor (最低任务数).", examples=[True])
    policy_id: str = Field(examples=["anyang-2021"])
    policy_version: int = Field(examples=[1])
    areas: list[AreaQuotaUseOut]
    total: AreaQuotaUseOut


@router.get(
    "/reports/quota-use",
    response_model=QuotaUseOut,
    summary="Quota use of a year per county: the policy's quotas against approved children",
    responses={404: {"description": "No policy of the year sets quotas (settlement.year.no_quotas)."}},
)
def get_quota_use(
    runtime: Runtime,
    policies: Policies,
    year: Annotated[int, Query(ge=2000, le=2100, description="Year of the quotas and approvals.")],
    jurisdiction: Annotated[
        str | None,
        Query(
            max_length=TEXT_MAX,
            pattern=r"^[a-z0-9][a-z0-9-]*$",
            description="Whose policy sets the quotas; the deployment's (REHAB_REFERENCE) if absent.",
        ),
    ] = None,
) -> QuotaUseOut:
    try:
        chosen = jurisdiction or settled_jurisdiction()
        use = quota_use_report(runtime.store.engine, policies, chosen, year)
    except NoQuotas as missing:
        raise NotFound(str(missing), field="year", code="settlement.year.no_quotas") from missing
    return QuotaUseOut(
        year=use.year,
        programme=use.programme,
        minimum=use.minimum,
        policy_id=use.policy_id,
        policy_version=use.policy_version,
        areas=[AreaQuotaUseOut.of(area) for area in use.areas],
        total=AreaQuotaUseOut.of(use.total),
    )


# -- the reporting chain: monthly progress and year-end summary ------------------------------------
class ChainRowOut(BaseModel):
    depth: int = Field(description="0 for the reporting unit, 1 for the units below it, and so on.")
    level: Level = Field(description="community, street, district, city or province.")
    level_name: str = Field(examples=["街道"])
    name: str = Field(description="The unit as clerks say it.", examples=["鸳鸯街道"])
    surveyed: int = Field(description="Persons surveyed by the date (their last survey in the unit).")
    with_needs: int = Field(description="Of those, persons whose last survey found needs.")
    served: int = Field(description="Of those, persons who signed for a service by the date.")
    coverage_percent: Decimal | None = Field(description="served / with_needs, one decimal; null: no needs.")
    target_met: bool | None = Field(description="Whether the policy's coverage target is reached.")


class ChainReportOut(BaseModel):
    kind: Literal["progress", "year_end"]
    title: str = Field(examples=["2025年10月残疾人精准康复服务工作进展情况月报"])
    year: int
    month: int = Field(description="The month the figures are cumulative to (12 for the year-end summary).")
    as_of: date = Field(description="The month's last day.")
    target_percent: Decimal | None = Field(description="The policy's coverage target for the year.")
    policy_id: str | None
    rows: list[ChainRowOut] = Field(
        description="The reporting unit, then every unit below it depth first; each sums the rows under it."
    )
    spending: SpendingOut | None = Field(
        default=None,
        description="The year-end summary's money within the unit's accounts (a street's: its own account; "
        "the district and above: the whole ledger); null in a progress report and for a community.",
    )

    @classmethod
    def of(cls, report: ChainReport) -> ChainReportOut:
        return cls(
            kind=report.kind,
            title=title_of(report),
            year=report.year,
            month=report.month,
            as_of=report_date(report),
            target_percent=report.target_percent,
            policy_id=report.policy_id,
            rows=[
                ChainRowOut(
                    depth=depth,
                    level=unit.level,
                    level_name=LEVEL_NAMES[unit.level],
                    name=unit_name(unit.name, unit.level),
                    surveyed=unit.counts.surveyed,
                    with_needs=unit.counts.with_needs,
                    served=unit.counts.served,
                    coverage_percent=unit.counts.percent,
                    target_met=report.met(unit.counts),
                )
                for depth, unit in report.top.walk()
            ],
            spending=None if report.spending is None else SpendingOut.of(report.spending),
        )


Year = Annotated[int, Query(ge=2000, le=2100, description="The report's year.")]
LevelAsked = Annotated[
    Level | None,
    Query(
        description="The reporting unit's level; the caller's own (district, street or community) if absent."
    ),
]
StreetAsked = Annotated[
    str | None, Query(max_length=TEXT_MAX, description="The street 街道 of a street's or community's report.")
]
CommunityAsked = Annotated[
    str | None, Query(max_length=TEXT_MAX, description="The community 社区 of a community's report.")
]
LEVEL_ORDER: tuple[Level, ...] = ("community", "street", "district", "city", "province")


def _chain_unit(
    caller: Caller, level: Level | None, street: str | None, community: str | None
) -> tuple[Level, Territory]:
    """The unit a caller may report for: their own (an institution has none: 403) or, for the district,
    the one asked for; a level above one's own is refused (403), a street or community not named is 422."""
    own = area_of(caller)
    own_level: Level = "community" if own.community else "street" if own.street else "province"
    chosen: Level = level or ("district" if own_level == "province" else own_level)
    if LEVEL_ORDER.index(chosen) > LEVEL_ORDER.index(own_level):
        raise Forbidden(
            f"{LEVEL_NAMES[chosen]}级的报告汇总下属所有单位，只能由区级（district）用户或审计人员查阅；"
            f"请查阅本{LEVEL_NAMES[own_level]}的报告",
            code="access.district_only",
        )
    area = visible_area(caller, street, community)
    named: tuple[tuple[Level, str | None], ...] = (("street", area.street), ("community", area.community))
    for needed, given in named:
        if LEVEL_ORDER.index(chosen) <= LEVEL_ORDER.index(needed) and given is None:
            raise CommandRejected(
                f"{LEVEL_NAMES[chosen]}的报告须写明{LEVEL_NAMES[needed]}（{needed}）",
                field=needed,
                code="settlement.report_unit.missing",
            )
    return chosen, area


@dataclass(frozen=True)
class ChainUnitAsked:
    """The unit of the reporting chain a request asks a report of (``level``, ``street``, ``community``),
    within the caller's area: a street's users report for their street (or one of its communities), a
    community's for their community; the district for every level."""

    runtime: ServiceRuntime
    policies: PolicySet
    reference: Jurisdiction
    caller: Caller
    level: Level | None
    street: str | None
    community: str | None

    def report(self, kind: Literal["progress", "year_end"], year: int, month: int = 12) -> ChainReport:
        chosen, area = _chain_unit(self.caller, self.level, self.street, self.community)
        policy = policy_of_year(self.policies, self.reference.jurisdiction, year)
        engine = self.runtime.store.engine
        try:
            report = chain_report(
                engine,
                self.reference,
                policy,
                kind=kind,
                year=year,
                month=12 if kind == "year_end" else month,
                level=chosen,
                street=area.street,
                community=area.community,
            )
        except UnitUnknown as unknown:
            raise NotFound(str(unknown), field="street", code="settlement.report_unit.unknown") from unknown
        if kind != "year_end" or chosen == "community":
            return report  # a community has no account of its own: its money is its street's
        within = None if chosen != "street" or area.street is None else (street_account(area.street),)
        return replace(report, spending=year_spending(engine, year, self.policies, within))


def chain_unit_asked(
    runtime: Runtime,
    policies: Policies,
    reference: Reference,
    caller: Caller,
    level: LevelAsked = None,
    street: StreetAsked = None,
    community: CommunityAsked = None,
) -> ChainUnitAsked:
    return ChainUnitAsked(runtime, policies, reference, caller, level, street, community)


ChainUnit = Annotated[ChainUnitAsked, Depends(chain_unit_asked)]

NO_SUCH_UNIT_OR_YEAR: dict[int | str, dict[str, Any]] = {
    404: {
        "description": "No such street or community in the jurisdiction (settlement.report_unit.unknown), "
        "or no policy of the year (settlement.year.no_quotas)."
    }
}
"""``responses=`` of the reporting chain's routes, which name a unit and a year."""


@router.get(
    "/reports/chain",
    response_model=ChainReportOut,
    summary="Monthly progress or year-end summary of a unit of the reporting chain and the units below it",
    responses=NO_SUCH_UNIT_OR_YEAR,
)
def get_chain_report(
    unit: ChainUnit,
    year: Year,
    kind: Annotated[
        Literal["progress", "year_end"], Query(description="月报 progress or 年终汇总 year_end.")
    ],
    month: Annotated[int, Query(ge=1, le=12, description="The month of a progress report.")] = 12,
) -> ChainReportOut:
    return ChainReportOut.of(unit.report(kind, year, month))


@router.get(
    "/reports/progress.xlsx",
    summary="The monthly progress report 工作进展情况月报 of one unit of the reporting chain, as xlsx",
    response_class=Response,
    responses={200: {"content": {XLSX: {}}}, **NO_SUCH_UNIT_OR_YEAR},
)
def get_progress_xlsx(
    unit: ChainUnit,
    year: Year,
    month: Annotated[int, Query(ge=1, le=12, description="The month the figures are cumulative to.")],
) -> Response:
    return _chain_download(unit.report("progress", year, month), f"月报-{year}-{month:02d}")


@router.get(
    "/reports/year-end.xlsx",
    summary="The year-end summary 年终汇总表 of one unit of the reporting chain, as xlsx",
    response_class=Response,
    responses={200: {"content": {XLSX: {}}}, **NO_SUCH_UNIT_OR_YEAR},
)
def get_year_end_xlsx(unit: ChainUnit, year: Year) -> Response:
    return _chain_download(unit.report("year_end", year), f"年终汇总-{year}")


def _chain_download(report: ChainReport, what: str) -> Response:
    top = report.top
    filename = f"{what}-{unit_name(top.name, top.level)}.xlsx"
    return Response(chain_xlsx(report), media_type=XLSX, headers=_attachment(filename))


def _attachment(filename: str) -> dict[str, str]:
    ascii_name = filename.encode("ascii", "replace").decode().replace("?", "_")
    return {
        "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    }
