"""Two-step sign-off 签字确认: a 附件2 block proposed by one of its signatories takes effect only once
every other person named in it has confirmed it in person; any of them may decline it instead.

Rules run once, in the command methods; ``_apply`` only assigns state. The steps are approval's own
(docs/adr/0008-two-step-sign-off.md): the block's effective event is emitted by the handlers once
``Proposal.complete`` holds, exactly as a one-step sign-off emits it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID, uuid4

from kernel.domain.clock import business_date, cn_date
from kernel.domain.rejections import CommandRejected, NotFound, StateConflict
from services.approval.events import Signatories
from services.approval.labels import ROLE_NAMES
from services.approval.rules import person_key

COMMUNITY_BLOCK = "community"
STREET_BLOCK = "street"
DECISION_BLOCK = "decision"
INSTITUTION_CHANGE_BLOCK = "institution_change"
BLOCK_NAMES = {
    COMMUNITY_BLOCK: "社区意见",
    STREET_BLOCK: "街道意见",
    DECISION_BLOCK: "残联办意见",
    INSTITUTION_CHANGE_BLOCK: "变更服务机构",
}


class NotTheirSignature(CommandRejected):
    """The caller is not named in the block in a role they hold (HTTP 403)."""

    status_code = 403


# -- steps (what is stored) ------------------------------------------------------------------------
@dataclass(frozen=True)
class SignOffProposed:
    """One signatory proposed a block; ``command`` is the block's request as sent (JSON)."""

    proposal_id: UUID
    block: str
    round: int
    signatories: Signatories
    command: str
    signer: str
    role: str
    at: datetime


@dataclass(frozen=True)
class SignOffConfirmed:
    """Another named signatory confirmed the proposal with their own token."""

    proposal_id: UUID
    step: int
    signer: str
    role: str
    at: datetime


@dataclass(frozen=True)
class SignOffDeclined:
    """A named signatory declined: the proposal is withdrawn with ``reason``."""

    proposal_id: UUID
    step: int
    signer: str
    role: str
    reason: str
    at: datetime


@dataclass(frozen=True)
class SignOffWithdrawn(SignOffDeclined):
    """The proposer took back the block they proposed before everyone confirmed it (撤回): withdrawn as
    a decline is, so that a block naming someone who never confirms cannot stay pending."""


SignOffStep = SignOffProposed | SignOffConfirmed | SignOffDeclined

WITHDRAWN_BY_PROPOSER = "提出人撤回"
"""The reason recorded when the proposer withdraws without giving one."""


# -- state -----------------------------------------------------------------------------------------
PROPOSAL_LIFETIME = timedelta(days=7)
"""A proposal not confirmed by every signatory within a week lapses 失效 and must be proposed again:
a signature should not confirm an opinion written when the application stood otherwise."""


@dataclass
class Proposal:
    """One proposed block, its confirmations (role -> (name, when)), whether it was declined, and
    whether it lapsed unconfirmed (as of the moment its application's sign-offs were loaded)."""

    proposed: SignOffProposed
    confirmed: dict[str, tuple[str, datetime]] = field(default_factory=dict)
    declined: SignOffDeclined | None = None
    steps: int = 0
    lapsed: bool = False

    @property
    def proposal_id(self) -> UUID:
        return self.proposed.proposal_id

    @property
    def block(self) -> str:
        return self.proposed.block

    @property
    def awaiting(self) -> list[tuple[str, str]]:
        """(role, name) of the signatories who have not confirmed yet."""
        block = self.proposed.signatories
        return [(role, name) for role, name in block.roles() if role not in self.confirmed]

    @property
    def complete(self) -> bool:
        return self.declined is None and not self.awaiting

    @property
    def lapses_at(self) -> datetime:
        return self.proposed.at + PROPOSAL_LIFETIME

    @property
    def open(self) -> bool:
        return self.declined is None and not self.complete and not self.lapsed

    def awaits(self, signer: str, roles: frozenset[str]) -> bool:
        """Whether the open proposal waits for ``signer``'s own confirmation in a role they hold: what
        they could confirm now (待我签字), the same test ``confirm`` applies."""
        key = person_key(signer)
        return self.open and any(person_key(name) == key and role in roles for role, name in self.awaiting)

    @property
    def status(self) -> str:
        if self.declined is not None:
            return "withdrawn"
        if self.complete:
            return "effective"
        return "lapsed" if self.lapsed else "pending"


class SignOffs:
    """The sign-off proposals of one application, built from its steps on every load; with ``now``,
    the proposals left unconfirmed for PROPOSAL_LIFETIME are lapsed."""

    def __init__(self, history: Iterable[SignOffStep] = (), now: datetime | None = None) -> None:
        self.proposals: dict[UUID, Proposal] = {}
        for step in history:
            self._apply(step)
        if now is not None:
            for proposal in self.proposals.values():
                proposal.lapsed = proposal.open and now >= proposal.lapses_at

    # -- commands ----------------------------------------------------------------------------------
    def propose(
        self,
        block: str,
        signatories: Signatories,
        command: str,
        *,
        signer: str,
        roles: frozenset[str],
        at: datetime,
    ) -> list[SignOffStep]:
        """The caller proposes a block they sign in; it waits for the other signatories."""
        _check_distinct(signatories)
        role = _role_of(signatories, signer, roles, block)
        current = self.open_proposal(block)
        if current is not None:
            raise StateConflict(
                f"{BLOCK_NAMES[block]}已有待确认的签字（由{current.proposed.signer}提出，"
                f"编号 {current.proposal_id}）：须先由签字人拒签或由提出人撤回，才能重新提出",
                field="signatories",
                code="approval.sign_off.pending",
            )
        round_ = sum(1 for proposal in self.proposals.values() if proposal.block == block) + 1
        return [SignOffProposed(uuid4(), block, round_, signatories, command, signer, role, at)]

    def confirm(
        self, proposal_id: UUID, *, signer: str, roles: frozenset[str], at: datetime
    ) -> list[SignOffStep]:
        """The caller confirms in the role they are named in; a repeated confirmation changes nothing."""
        proposal = self.proposal(proposal_id)
        role = _role_of(proposal.proposed.signatories, signer, roles, proposal.block)
        if proposal.confirmed.get(role, ("", None))[0] == signer:
            return []
        _require_open(proposal)
        return [SignOffConfirmed(proposal_id, proposal.steps + 1, signer, role, at)]

    def decline(
        self, proposal_id: UUID, reason: str, *, signer: str, roles: frozenset[str], at: datetime
    ) -> list[SignOffStep]:
        """A signatory refuses the block as proposed: it is withdrawn and may be proposed anew."""
        proposal = self.proposal(proposal_id)
        role = _role_of(proposal.proposed.signatories, signer, roles, proposal.block)
        _require_open(proposal)
        if not reason.strip():
            raise CommandRejected("拒绝确认须写明理由", field="reason", code="approval.reason.required")
        return [SignOffDeclined(proposal_id, proposal.steps + 1, signer, role, reason.strip(), at)]

    def withdraw(
        self, proposal_id: UUID, reason: str = "", *, signer: str, roles: frozenset[str], at: datetime
    ) -> list[SignOffStep]:
        """The proposer takes back their proposal while it still waits for confirmations: only they may
        (a signatory who disagrees declines instead), in the role they proposed it in."""
        proposal = self.proposal(proposal_id)
        proposed = proposal.proposed
        if person_key(signer) != person_key(proposed.signer):
            raise NotTheirSignature(
                f"{BLOCK_NAMES[proposal.block]}由{proposed.signer}提出，只有提出人本人可以撤回；"
                "栏内其他签字人不同意时请拒签",
                field="proposal_id",
                code="approval.sign_off.not_proposer",
            )
        if proposed.role not in roles:
            raise NotTheirSignature(
                f"你（{signer}）以{ROLE_NAMES[proposed.role]}提出了{BLOCK_NAMES[proposal.block]}，"
                "但你的账号已不具有此角色",
                field="proposal_id",
                code="approval.sign_off.role_not_held",
            )
        _require_open(proposal)
        why = reason.strip() or WITHDRAWN_BY_PROPOSER
        return [SignOffWithdrawn(proposal_id, proposal.steps + 1, signer, proposed.role, why, at)]

    # -- queries -----------------------------------------------------------------------------------
    def proposal(self, proposal_id: UUID) -> Proposal:
        try:
            return self.proposals[proposal_id]
        except KeyError:
            raise NotFound(
                f"此申请没有编号为 {proposal_id} 的待确认签字",
                field="proposal_id",
                code="approval.sign_off.not_found",
            ) from None

    def open_proposal(self, block: str) -> Proposal | None:
        return next((p for p in self.proposals.values() if p.block == block and p.open), None)

    def pending(self) -> list[Proposal]:
        """Proposals still waiting for confirmations, oldest first."""
        return [proposal for proposal in self.proposals.values() if proposal.open]

    def after(self, steps: Iterable[SignOffStep]) -> SignOffs:
        new = SignOffs()
        new.proposals = {key: _copy(proposal) for key, proposal in self.proposals.items()}
        for step in steps:
            new._apply(step)
        return new

    # -- internals ---------------------------------------------------------------------------------
    def _apply(self, step: SignOffStep) -> None:
        if isinstance(step, SignOffProposed):
            proposal = Proposal(step, {step.role: (step.signer, step.at)})
            self.proposals[step.proposal_id] = proposal
            return
        proposal = self.proposals[step.proposal_id]
        proposal.steps = step.step
        if isinstance(step, SignOffConfirmed):
            proposal.confirmed[step.role] = (step.signer, step.at)
        else:
            proposal.declined = step


def _copy(proposal: Proposal) -> Proposal:
    return Proposal(
        proposal.proposed, dict(proposal.confirmed), proposal.declined, proposal.steps, proposal.lapsed
    )


def _require_open(proposal: Proposal) -> None:
    if proposal.declined is not None:
        declined = proposal.declined
        done = "由提出人" if isinstance(declined, SignOffWithdrawn) else "已被"
        what = "撤回" if isinstance(declined, SignOffWithdrawn) else "拒绝并撤回"
        raise StateConflict(
            f"此签字{done}{declined.signer}{what}（{declined.reason}）；须重新提出",
            field="proposal_id",
            code="approval.sign_off.withdrawn",
        )
    if proposal.complete:
        raise StateConflict(
            f"{BLOCK_NAMES[proposal.block]}已经全部签字确认并生效",
            field="proposal_id",
            code="approval.sign_off.already_effective",
        )
    if proposal.lapsed:
        proposed = proposal.proposed
        raise StateConflict(
            f"此签字由{proposed.signer}于 {cn_date(business_date(proposed.at))} 提出，"
            f"{PROPOSAL_LIFETIME.days} 天内未全部确认，已失效；须重新提出",
            field="proposal_id",
            code="approval.sign_off.lapsed",
        )


def _role_of(signatories: Signatories, signer: str, roles: frozenset[str], block: str) -> str:
    """The role the signer is named in within the block; they must hold it (one name, one role)."""
    named = [role for role, name in signatories.roles() if person_key(name) == person_key(signer)]
    if not named:
        raise NotTheirSignature(
            f"你（{signer}）不是{BLOCK_NAMES[block]}的签字人：只能确认或拒绝自己签字的栏目，不能代他人确认",
            field="signatories",
            code="approval.sign_off.not_named",
        )
    role = named[0]
    if role not in roles:
        raise NotTheirSignature(
            f"你（{signer}）在{BLOCK_NAMES[block]}中签为{ROLE_NAMES[role]}，但你的账号不具有此角色",
            field=f"signatories.{role}",
            code="approval.sign_off.role_not_held",
        )
    return role


def _check_distinct(signatories: Signatories) -> None:
    seen: dict[str, str] = {}
    for role, name in signatories.roles():
        key = person_key(name)
        if key in seen:
            raise CommandRejected(
                f"{name}不能同时作为{ROLE_NAMES[seen[key]]}和{ROLE_NAMES[role]}签字",
                field=f"signatories.{role}",
                code="approval.signatories.segregation_of_duties",
            )
        seen[key] = role
