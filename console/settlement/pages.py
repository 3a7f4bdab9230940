"""Settlement's pages: the ledger's totals per account (the district's), postings with their explanation
in Chinese (rule, policy clause, inputs, arithmetic, source events), facts not settled and why, and the
downloads: a payee's statement 对账单 and a street's 附件3. Every call goes to the settlement service as
the signed-in clerk (finance, the district office, a street, an institution or an auditor): what their
scope may not read, the service refuses and the page says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote
from uuid import UUID

from fastapi import APIRouter, Request
from starlette.responses import Response

from console.agencies import ServiceRefused
from console.settlement.accounts import (
    ADJUSTMENT,
    RULE_LABELS,
    account_groups,
    account_label,
    account_labels,
    person_ids,
    person_names,
    rule_label,
)
from console.settlement.replay import fund_names, policies_of
from console.settlement.replay import router as replay_router
from console.web import Clerk, SignedIn, console_of, render

router = APIRouter(prefix="/settlement")

__all__ = ["ADJUSTMENT", "RULE_LABELS", "account_label", "account_labels", "router", "rule_label"]

SETTLEMENT = "settlement"
PAGE = 50


def _get(request: Request, clerk: Clerk, path: str, purpose: str, **params: Any) -> Any:
    return console_of(request).agencies.get(SETTLEMENT, path, user=clerk.name, purpose=purpose, params=params)


def _own_account(clerk: Clerk) -> str | None:
    """The account a street's or an institution's user reads; None for the district (every account)."""
    if clerk.scope.kind in ("street", "community"):
        return f"street:{clerk.street}"
    return None


@router.get("")
def ledger(
    request: Request,
    clerk: SignedIn,
    rule: str = "",
    account: str = "",
    offset: int = 0,
    unsettled_offset: int = 0,
) -> Response:
    """结算: totals per account, postings, unsettled facts, downloads."""
    purpose = "结算：账目查询"
    totals, funds = None, {}
    if clerk.scope.kind == "district":
        totals = _get(request, clerk, "/ledger", purpose)
        funds = fund_names(policies_of(request, clerk))
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
    unsettled = _unsettled(request, clerk, max(unsettled_offset, 0))
    names = account_labels(request) | funds
    accounts = sorted({*names, *(a["account"] for a in (totals or {}).get("accounts", []))} - set(funds))
    accounts += sorted(a["account"] for a in (totals or {}).get("accounts", []) if a["account"] in funds)
    shown = [p[side] for p in postings["items"] for side in ("debit_account", "credit_account")]
    persons = person_ids([*shown, *(item.get("person_id") for item in unsettled.items)])
    names.update(person_names(request, clerk, persons, purpose="结算：记账与未结算事项涉及的人员"))
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
        account_groups=account_groups(accounts),
        year=console_of(request).year(),
        streets=request.app.state.jurisdiction.streets,
        RULES=RULE_LABELS,
        rule_label=rule_label,
        account_label=account_label,
        subject_label=subject_label,
        page_size=PAGE,
    )


@dataclass(frozen=True)
class UnsettledPage:
    """A page of the facts not settled, as the service pages them (X-Total-Count)."""

    items: list[dict[str, Any]]
    total: int
    offset: int


def _unsettled(request: Request, clerk: Clerk, offset: int) -> UnsettledPage:
    """The page of unsettled facts the clerk's scope reads; none when the service refuses the list."""
    agencies = console_of(request).agencies
    params = {"limit": PAGE, "offset": offset}
    try:
        found = agencies.download(
            SETTLEMENT, "/ledger/unsettled", user=clerk.name, purpose="结算：未结算事项", params=params
        )
    except ServiceRefused:
        return UnsettledPage([], 0, offset)
    items = found.json()
    return UnsettledPage(items, int(found.headers.get("X-Total-Count", len(items))), offset)


def subject_label(subject: str) -> str:
    """What waits: a fee of a person's year (``survey_fee:<person>:<year>``) or a service record."""
    rule, _, rest = subject.partition(":")
    year = rest.rpartition(":")[2]
    if rule in RULE_LABELS and year.isdigit():
        return f"{year}年{rule_label(rule)}"
    return "康复服务记录"


@router.get("/postings/{posting_id}")
def posting(request: Request, clerk: SignedIn, posting_id: UUID) -> Response:
    """一笔记账的说明: why its amount is what it is."""
    explanation = _get(request, clerk, f"/ledger/postings/{posting_id}/explanation", "结算：记账说明")
    return render(request, "settlement/posting.html", explanation=_with_names(request, clerk, explanation))


def _with_names(request: Request, clerk: Clerk, explanation: dict[str, Any]) -> dict[str, Any]:
    """The person an explanation is about by 姓名 (the service knows only the person's id)."""
    inputs = explanation.get("inputs", [])
    ids = [line["value"] for line in inputs if line["name"] == "person_id"]
    persons = person_ids([*ids, explanation.get("credit_account")])
    if not persons:
        return explanation
    names = person_names(request, clerk, persons, purpose="结算：记账说明涉及的人员")
    named = [
        {**line, "label": "姓名", "value": names[line["value"]], "person_id": line["value"]}
        if line["name"] == "person_id" and line["value"] in names
        else line
        for line in inputs
    ]
    credit = names.get(explanation.get("credit_account", ""), explanation.get("credit_name"))
    return {**explanation, "inputs": named, "credit_name": credit}


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


router.include_router(replay_router)  # 历史回放 and 政策测算: the auditors' pages, under /settlement too
