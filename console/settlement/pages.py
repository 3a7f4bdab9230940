"""Settlement's pages: the ledger's totals per account (the district's), postings with their explanation
in Chinese (rule, policy clause, inputs, arithmetic, source events), facts not settled and why, and the
downloads: a payee's statement 对账单 and a street's 附件3. Every call goes to the settlement service as
the signed-in clerk (finance, the district office, a street, an institution or an auditor): what their
scope may not read, the service refuses and the page says so.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote
from uuid import UUID

from fastapi import APIRouter, Request
from starlette.responses import Response

from console.agencies import ServiceRefused
from console.web import Clerk, SignedIn, console_of, render

router = APIRouter(prefix="/settlement")

SETTLEMENT = "settlement"
RULE_LABELS = {
    "survey_fee": "需求调查工作经费",
    "management_fee": "康复管理经费",
    "assessment_fee": "评估、转介经费",
    "support_service": "支持性服务补贴",
    "service_subsidy": "康复服务项目补助",
}
ADJUSTMENT = "_adjustment"
PAGE = 50


def rule_label(rule: str) -> str:
    base = rule.removesuffix(ADJUSTMENT)
    return RULE_LABELS.get(base, base) + ("（调整）" if base != rule else "")


def account_labels(request: Request) -> dict[str, str]:
    """Streets and institutions by their names; the rest is labelled by ``account_label``."""
    jurisdiction = request.app.state.jurisdiction
    names = {f"street:{street}": f"{street}街道" for street in jurisdiction.streets}
    names.update({f"service_institution:{i.id}": i.name for i in jurisdiction.service_institutions})
    names.update({f"assessment_institution:{i.id}": i.name for i in jurisdiction.assessment_institutions})
    return names


def account_label(account: str, names: dict[str, str]) -> str:
    kind, _, _ = account.partition(":")
    if account in names:
        return names[account]
    if kind == "fund":
        return "财政资金"
    if kind == "person":
        return "残疾人个人（报销）"
    return account


def _get(request: Request, clerk: Clerk, path: str, purpose: str, **params: Any) -> Any:
    return console_of(request).agencies.get(SETTLEMENT, path, user=clerk.name, purpose=purpose, params=params)


def _own_account(clerk: Clerk) -> str | None:
    """The account a street's or an institution's user reads; None for the district (every account)."""
    if clerk.scope.kind in ("street", "community"):
        return f"street:{clerk.street}"
    return None


@router.get("")
def ledger(request: Request, clerk: SignedIn, rule: str = "", account: str = "", offset: int = 0) -> Response:
    """结算: totals per account, postings, unsettled facts, downloads."""
    purpose = "结算：账目查询"
    totals = None
    if clerk.scope.kind == "district":
        totals = _get(request, clerk, "/ledger", purpose)
    postings = _get(
        request,
        clerk,
        "/ledger/postings",
        purpose,
        rule=rule,
        account=account or _own_account(clerk),
        limit=PAGE,
        offset=max(offset, 0),
    )
    try:
        unsettled = _get(request, clerk, "/ledger/unsettled", "结算：未结算事项")
    except ServiceRefused:
        unsettled = []
    names = account_labels(request)
    accounts = sorted({*names, *(a["account"] for a in (totals or {}).get("accounts", []))})
    return render(
        request,
        "settlement/ledger.html",
        totals=totals,
        postings=postings,
        unsettled=unsettled,
        rule=rule,
        account=account,
        names=names,
        accounts=accounts,
        year=console_of(request).year(),
        streets=request.app.state.jurisdiction.streets,
        RULES=RULE_LABELS,
        rule_label=rule_label,
        account_label=account_label,
        page_size=PAGE,
    )


@router.get("/postings/{posting_id}")
def posting(request: Request, clerk: SignedIn, posting_id: UUID) -> Response:
    """一笔记账的说明: why its amount is what it is."""
    explanation = _get(request, clerk, f"/ledger/postings/{posting_id}/explanation", "结算：记账说明")
    return render(request, "settlement/posting.html", explanation=explanation)


@router.get("/statement")
def statement(request: Request, clerk: SignedIn, account: str, period: str, format: str = "xlsx") -> Response:
    """A payee's statement 对账单, as the service writes it."""
    path = f"/statements/{quote(account, safe=':')}"
    return _passed_on(request, clerk, path, "结算：下载对账单", period=period, format=format)


@router.get("/annual-summary")
def annual_summary(
    request: Request, clerk: SignedIn, year: int, street: str, preparer: str = "", reviewer: str = ""
) -> Response:
    """附件3 康复需求和康复服务情况汇总表 of a street, as the service writes it."""
    params = {"year": year, "street": street, "preparer": preparer, "reviewer": reviewer}
    return _passed_on(request, clerk, "/reports/annual-summary", "结算：下载附件3汇总表", **params)


def _passed_on(request: Request, clerk: Clerk, path: str, purpose: str, **params: Any) -> Response:
    agencies = console_of(request).agencies
    found = agencies.download(SETTLEMENT, path, user=clerk.name, purpose=purpose, params=params)
    headers = {"Content-Disposition": found.headers.get("content-disposition", "attachment")}
    return Response(found.content, media_type=found.headers.get("content-type"), headers=headers)
