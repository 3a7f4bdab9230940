"""HTTP API of settlement's documents: a posting's explanation, statements per payee, the annual 附件3,
quota use per county."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal
from urllib.parse import quote
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel, Field

from kernel.access.access import PERSONAL_DATA, Caller, Forbidden
from kernel.access.scopes import require_area, visible_area, visible_institution
from kernel.domain.rejections import CommandRejected, NotFound
from kernel.reference import Jurisdiction
from kernel.runtime import ServiceRuntime, runtime_of
from services.settlement.api import TEXT_MAX
from services.settlement.book.policy import PolicySet
from services.settlement.deployment import deployment_jurisdiction, settled_jurisdiction
from services.settlement.documents.annual_summary import Signatures, annual_summary_forms, annual_summary_xlsx
from services.settlement.documents.explain import Explanation, explain_posting, render_explanation
from services.settlement.documents.labels import AccountNames
from services.settlement.documents.quotas import AreaQuotaUse, NoQuotas, quota_use_report
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
    filled_on: Annotated[date | None, Query(description="填表日期; blank when absent.")] = None,
) -> Response:
    visible_area(caller, street, community)  # a street's (community's) staff read only their own
    if street not in reference.streets:
        raise CommandRejected(
            f"{street} 不是{reference.name}的街道，可选：{'、'.join(reference.streets)}",
            field="street",
            code="settlement.street.unknown",
        )
    forms = annual_summary_forms(runtime.store.engine, year, street, community, reference)
    content = annual_summary_xlsx(forms, Signatures(preparer, reviewer, filled_on))
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


def _attachment(filename: str) -> dict[str, str]:
    ascii_name = filename.encode("ascii", "replace").decode().replace("?", "_")
    return {
        "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    }
