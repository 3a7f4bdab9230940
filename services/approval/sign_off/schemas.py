"""Request and response bodies of the two-step sign-off (签字确认) when access control is on."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Block = Literal["community", "street", "decision", "institution_change"]


class ConfirmSignOff(BaseModel):
    """The caller confirms, with their own token, the block they are named in."""

    model_config = ConfigDict(extra="forbid")

    proposal_id: UUID = Field(description="The pending proposal, as the application shows it.")


class DeclineSignOff(BaseModel):
    """The caller refuses the block as proposed; it is withdrawn and may be proposed anew."""

    model_config = ConfigDict(extra="forbid")

    proposal_id: UUID = Field(description="The pending proposal, as the application shows it.")
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)] = Field(
        description="Why the block cannot be signed as proposed.", examples=["意见与入户核查情况不符"]
    )


class WithdrawSignOff(BaseModel):
    """The proposer takes back the block they proposed, before every signatory confirmed it."""

    model_config = ConfigDict(extra="forbid")

    proposal_id: UUID = Field(description="The pending proposal, as the application shows it.")
    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] = Field(
        default="",
        description="Why, if the proposer says (recorded as 提出人撤回 otherwise).",
        examples=["负责人姓名填错"],
    )


class SignatureView(BaseModel):
    """One person named in the block, and whether they have confirmed it."""

    role: Literal["responsible", "reviewer", "handler"] = Field(description="负责人, 复核人 or 经办人.")
    name: str
    confirmed_at: datetime | None = Field(description="When they confirmed (the proposer: when proposed).")


class SignOffView(BaseModel):
    """A sign-off block proposed by one of its signatories: pending until every other one confirms."""

    proposal_id: UUID
    application_id: UUID
    block: Block = Field(description="社区意见, 街道意见, 残联办意见 or a change of institution 变更.")
    status: Literal["pending", "effective", "withdrawn", "lapsed"] = Field(
        description="pending: awaiting confirmations; effective: all confirmed, the block took effect; "
        "withdrawn: a signatory declined it; lapsed: not confirmed by everyone within 7 days, to be "
        "proposed again."
    )
    proposed_by: str
    proposed_at: datetime
    signatures: list[SignatureView]
    awaiting: list[str] = Field(description="Names still to confirm, each with their own token.")
    declined_by: str | None = None
    decline_reason: str | None = None
    application_status: str = Field(description="Where the application stands after this step.")
    proposed: dict[str, Any] | None = Field(
        default=None,
        description="The block as proposed (the request's body as its proposer sent it): the opinion "
        "(endorsed, opinion), the decision (outcome, approved_items with subsidy_mode and amount_fen, "
        "rejected_items, reason) or the change, which each signatory confirms as it reads here.",
    )
