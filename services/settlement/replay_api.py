"""HTTP API of the auditors' replays 历史回放: the ledger as it stood at a date, and the archive replayed
under another policy of the registry (``policies/*.toml``), both in memory; the live ledger is only read.

Who may call: the district's settlement users (区残联办, finance) and auditors, as for ``GET /ledger``:
a replay gives every account's totals at once, so a street's or an institution's user is refused
(403 ``access.district_only``). Auditors only read, and a replay writes nothing.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from kernel.access.access import Caller
from kernel.domain.clock import cn_date, today
from kernel.domain.rejections import CommandRejected
from kernel.runtime import ServiceRuntime, runtime_of
from services.settlement.api import TEXT_MAX, LedgerOut
from services.settlement.book.policy import Policy, PolicySet
from services.settlement.deployment import settled_jurisdiction
from services.settlement.documents_api import policies_of
from services.settlement.ledger.as_of import totals_as_of
from services.settlement.ledger.report import yuan
from services.settlement.ledger.what_if import Difference, missing_inputs, what_if
from services.settlement.ledger_scopes import require_whole_ledger

router = APIRouter(prefix="/replay", tags=["settlement replay"])

Runtime = Annotated[ServiceRuntime, Depends(runtime_of)]
Policies = Annotated[PolicySet, Depends(policies_of)]
Basis = Literal["received", "recorded"]


class AsOfOut(BaseModel):
    """The ledger as it stood at the end of a day, replayed from the archive (``rehab replay --as-of``)."""

    as_of: date = Field(description="The day: the ledger at its end, China Standard Time.")
    basis: Basis = Field(
        description="received: events settlement had received by then (what the ledger showed); recorded: "
        "events their producer had recorded by then (what it would have shown without delays)."
    )
    cutoff: datetime = Field(description="The first instant after the day (CST): events before it count.")
    events: int = Field(description="Archived events replayed.")
    unsettled: int = Field(description="Facts that then waited unsettled.")
    ledger: LedgerOut = Field(description="Totals per account and grand totals, as GET /ledger gives them.")


class FundOut(BaseModel):
    account: str = Field(examples=["fund:shapingba-finance"])
    name: str = Field(description="The fund as the policy names it.", examples=["沙坪坝区财政"])
    level: str = Field(description="Its level of government.", examples=["district"])


class PolicyOut(BaseModel):
    """A policy of the registry, as an auditor picks one."""

    id: str = Field(examples=["shapingba-2023"])
    version: int
    title: str = Field(description="Its Chinese title.", examples=["沙坪坝区“惠残2023工程”工作方案"])
    jurisdiction: str = Field(examples=["shapingba"])
    source: str = Field(description="The document the figures are quoted from.")
    effective_from: date
    effective_until: date | None
    settles_here: bool = Field(
        description="Whether it is one of the deployment's own jurisdiction's policies."
    )
    funds: list[FundOut] = Field(description="The funding sources it names, whose accounts a replay debits.")

    @classmethod
    def of(cls, policy: Policy, jurisdiction: str) -> PolicyOut:
        return cls(
            id=policy.id,
            version=policy.version,
            title=policy.title,
            jurisdiction=policy.jurisdiction,
            source=policy.source,
            effective_from=policy.effective_from,
            effective_until=policy.effective_until,
            settles_here=policy.jurisdiction == jurisdiction,
            funds=[
                FundOut(account=source.account, name=source.name, level=source.level)
                for source in policy.funding.sources.values()
            ],
        )


class DifferenceOut(BaseModel):
    account: str = Field(
        description="A payee or fund account, or a funding level (district, city, central_provincial …)."
    )
    live_fen: int = Field(description="What the ledger compared with holds, in fen (net of claw-backs).")
    replayed_fen: int = Field(description="What the replay under the other policy gives, in fen.")
    difference_fen: int = Field(description="replayed − live, in fen.")
    difference_yuan: str = Field(examples=["-30.00"])

    @classmethod
    def of(cls, row: Difference) -> DifferenceOut:
        return cls(
            account=row.account,
            live_fen=row.live_fen,
            replayed_fen=row.replayed_fen,
            difference_fen=row.difference_fen,
            difference_yuan=yuan(row.difference_fen),
        )


class MissingInputOut(BaseModel):
    """A figure the policy defers to a document not among the seeds, which the deployment has not given."""

    path: str = Field(
        description="Its dotted path in the policy file.",
        examples=["items.children_rehab_training.standards.ten-months.subsidy.monthly_fen"],
    )
    deferred_to: str = Field(
        description="What the figure is and which document sets it, in Chinese.",
        examples=["当地每月补助标准，由安政办〔2019〕23号规定，该文件不在政策原文之列"],
    )


class WhatIfOut(BaseModel):
    """The archive replayed under another policy, and how it differs from the ledger (``rehab replay
    --policy``). Accounts without a difference are omitted from the three lists."""

    policy: PolicyOut
    as_of: date | None = Field(
        description="Only events received by the end of this day; null: the whole archive."
    )
    events: int = Field(description="Archived events replayed.")
    unsettled: int = Field(description="Facts the other policy leaves unsettled (a figure or item it lacks).")
    ledger: LedgerOut = Field(description="Totals under the other policy.")
    compared_with: LedgerOut = Field(
        description="The live ledger's totals, or the ledger's as of ``as_of`` under the policies in force."
    )
    payees: list[DifferenceOut] = Field(description="What each payee received (credits − debits).")
    funding_sources: list[DifferenceOut] = Field(description="What each fund paid (debits − credits).")
    funding_levels: list[DifferenceOut] = Field(description="What each level of government paid.")
    missing_inputs: list[MissingInputOut] = Field(
        description="Figures of the policy its pack's inputs.toml does not give: the payments that need them "
        "wait in the replay (counted in ``unsettled``)."
    )


@router.get("/policies", response_model=list[PolicyOut], summary="The policies a replay can be run under")
def list_policies(policies: Policies, caller: Caller) -> list[PolicyOut]:
    require_whole_ledger(caller, "政策测算")
    jurisdiction = settled_jurisdiction()
    return [PolicyOut.of(policy, jurisdiction) for policy in policies]


@router.get("/as-of", response_model=AsOfOut, summary="The ledger as it stood at the end of a day")
def get_as_of(
    runtime: Runtime,
    policies: Policies,
    caller: Caller,
    day: Annotated[date, Query(alias="date", description="YYYY-MM-DD, today or before.")],
    basis: Annotated[Basis, Query(description="Count events by when settlement received them.")] = "received",
) -> AsOfOut:
    require_whole_ledger(caller, "历史回放（截至某日的账）")
    _require_past(day, "date")
    replay = totals_as_of(runtime.store.engine, day, policies, basis)
    return AsOfOut(
        as_of=replay.day,
        basis=replay.basis,
        cutoff=replay.cutoff,
        events=replay.events,
        unsettled=replay.unsettled,
        ledger=LedgerOut.of(replay.report),
    )


@router.get("/what-if", response_model=WhatIfOut, summary="The archive replayed under another policy")
def get_what_if(
    runtime: Runtime,
    policies: Policies,
    caller: Caller,
    policy: Annotated[
        str,
        Query(max_length=TEXT_MAX, description="A policy id of GET /replay/policies, e.g. shapingba-2023."),
    ],
    as_of: Annotated[
        date | None, Query(description="Replay only events received by the end of this day.")
    ] = None,
) -> WhatIfOut:
    require_whole_ledger(caller, "政策测算（换用其他政策）")
    chosen = _known_policy(policies, policy)
    if as_of is not None:
        _require_past(as_of, "as_of")
    jurisdiction = settled_jurisdiction()
    result = what_if(runtime.store.engine, chosen, policies, jurisdiction, as_of)
    assert result.live is not None and result.replayed is not None and result.unsettled is not None
    return WhatIfOut(
        policy=PolicyOut.of(chosen, jurisdiction),
        as_of=as_of,
        events=result.events,
        unsettled=result.unsettled,
        ledger=LedgerOut.of(result.replayed),
        compared_with=LedgerOut.of(result.live),
        payees=[DifferenceOut.of(row) for row in result.payees],
        funding_sources=[DifferenceOut.of(row) for row in result.funding_sources],
        funding_levels=[DifferenceOut.of(row) for row in result.funding_levels],
        missing_inputs=[
            MissingInputOut(path=path, deferred_to=what) for path, what in missing_inputs(chosen)
        ],
    )


def _require_past(day: date, field: str) -> None:
    """A replay shows what the ledger held: the end of a day still to come has not happened."""
    if day > today():
        raise CommandRejected(
            f"{cn_date(day)}是将来的日期：只能回放到今天（{cn_date(today())}）为止",
            field=field,
            code=f"settlement.{field}.future",
        )


def _known_policy(policies: PolicySet, policy_id: str) -> Policy:
    found = policies.get(policy_id)
    if found is None:
        known = "、".join(f"{known.id}（{known.title}）" for known in policies)
        raise CommandRejected(
            f"没有编号为 {policy_id} 的政策；可选：{known}", field="policy", code="settlement.policy.unknown"
        )
    return found
