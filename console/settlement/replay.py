"""The auditors' replay pages: 历史回放 (the ledger as it stood at the end of a day) and 政策测算 (the
archive replayed under another policy of the registry, against the ledger). Both are the settlement
service's replays (``GET /replay/as-of``, ``/replay/what-if``), run in memory as the signed-in clerk:
the district's settlement users and auditors may, a street or an institution is refused by the service.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from console.agencies import Problem, ServiceRefused
from console.settlement.accounts import LEVEL_LABELS, account_label, account_labels, person_ids, person_names
from console.web import Clerk, SignedIn, console_of, render

router = APIRouter()

SETTLEMENT = "settlement"
PURPOSE = "结算：历史回放与政策测算"
BASES = {
    "received": "结算系统收到的时间（当日账面实际所见）",
    "recorded": "业务部门记录的时间（假如没有传递延误）",
}
PHRASES = {"received": "结算系统在该日结束前收到的", "recorded": "业务部门在该日结束前记录的"}
REPLAY_TIMEOUT_SECONDS = 120.0
"""A replay reads the whole archive: on a big one it outlasts the client's 15 s, which would tell the
auditor the service is down while it is still counting."""


def _get(request: Request, clerk: Clerk, path: str, **params: Any) -> Any:
    return console_of(request).agencies.get(SETTLEMENT, path, user=clerk.name, purpose=PURPOSE, params=params)


def _replay(request: Request, clerk: Clerk, path: str, **params: Any) -> Any:
    """A replay read (as-of, what-if), allowed ``REPLAY_TIMEOUT_SECONDS``."""
    return console_of(request).agencies.get(
        SETTLEMENT, path, user=clerk.name, purpose=PURPOSE, params=params, timeout=REPLAY_TIMEOUT_SECONDS
    )


@router.get("/replay")
def as_of(request: Request, clerk: SignedIn, date: str = "", basis: str = "received") -> Response:
    """历史回放: every account as the ledger stood at the end of a day, beside today's ledger."""
    form = {"date": date, "basis": basis}
    replay, problem = None, None
    if date:
        try:
            replay = _replay(request, clerk, "/replay/as-of", date=date, basis=basis)
        except ServiceRefused as refused:
            problem = _form_problem(refused)
    live = _get(request, clerk, "/ledger") if replay is not None else None
    rows = _as_of_rows(replay, live)
    names = _names(request, clerk, [row["account"] for row in rows])
    if rows:
        names.update(fund_names(policies_of(request, clerk)))
    return render(
        request,
        "settlement/replay.html",
        status_code=problem.status if problem else 200,
        form=form,
        errors=problem.by_field() if problem else {},
        problem=problem,
        replay=replay,
        live=live,
        rows=rows,
        names=names,
        account_label=account_label,
        BASES=BASES,
        PHRASES=PHRASES,
    )


@router.get("/what-if")
def what_if(request: Request, clerk: SignedIn, policy: str = "", as_of: str = "") -> Response:
    """政策测算: what another policy would have paid, account by account, against the ledger."""
    policies = policies_of(request, clerk)
    form = {"policy": policy, "as_of": as_of}
    result, problem = None, None
    if policy:
        try:
            result = _replay(request, clerk, "/replay/what-if", policy=policy, as_of=as_of)
        except ServiceRefused as refused:
            problem = _form_problem(refused)
    shown = [] if result is None else [*result["payees"], *result["funding_sources"], *_accounts(result)]
    names = _names(request, clerk, [row["account"] for row in shown])
    names.update(fund_names(policies))
    return render(
        request,
        "settlement/what_if.html",
        status_code=problem.status if problem else 200,
        form=form,
        errors=problem.by_field() if problem else {},
        problem=problem,
        policies={known["id"]: _policy_title(known) for known in policies},
        result=result,
        names=names,
        levels=LEVEL_LABELS,
        account_label=account_label,
    )


def fund_names(policies: list[dict[str, Any]]) -> dict[str, str]:
    """Fund accounts by the names the registry's policies give them (两江新区财政, 中央和省财政 …)."""
    return {fund["account"]: fund["name"] for known in policies for fund in known["funds"]}


def policies_of(request: Request, clerk: Clerk) -> list[dict[str, Any]]:
    """The registry's policies (the district's and auditors' read: the service refuses anyone else)."""
    found: list[dict[str, Any]] = _get(request, clerk, "/replay/policies")
    return found


def _form_problem(refused: ServiceRefused) -> Problem:
    """A refusal of what was typed (422) is shown at its field; any other goes to the refusal page."""
    if refused.problem.status != 422:
        raise refused
    return refused.problem


def _as_of_rows(replay: Any, live: Any) -> list[dict[str, Any]]:
    """Every account of either ledger: its totals at the end of the day, today's balance, the change since."""
    if replay is None or live is None:
        return []
    then = {row["account"]: row for row in replay["ledger"]["accounts"]}
    now = {row["account"]: row["balance_fen"] for row in live["accounts"]}
    rows = []
    for account in sorted(then.keys() | now.keys()):
        past = then.get(account, {"debit_fen": 0, "credit_fen": 0, "balance_fen": 0})
        change = now.get(account, 0) - past["balance_fen"]
        rows.append({**past, "account": account, "live_fen": now.get(account, 0), "change_fen": change})
    return rows


def _accounts(result: Any) -> list[dict[str, Any]]:
    return [*result["ledger"]["accounts"], *result["compared_with"]["accounts"]]


def _names(request: Request, clerk: Clerk, accounts: list[str]) -> dict[str, str]:
    """Streets and institutions by name; persons by 姓名, asked of the registry once for the page."""
    names = account_labels(request)
    names.update(person_names(request, clerk, person_ids(accounts), purpose=PURPOSE))
    return names


def _policy_title(policy: dict[str, Any]) -> str:
    here = "（本区政策）" if policy["settles_here"] else ""
    return f"{policy['title']}{here}"
