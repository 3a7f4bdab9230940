"""Command handlers of the two-step sign-off: propose, confirm, decline; the last confirmation emits
the block's effective event through the same domain command as a one-step sign-off."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal
from uuid import UUID

from kernel.domain.rejections import NotFound
from kernel.reference import Jurisdiction
from kernel.store.store import EventStore, UnitOfWork
from services.approval.commands import BlockCommand, kept_block_command
from services.approval.domain import Application
from services.approval.events import Approval, InstitutionChange, Review
from services.approval.handlers import Decide, Guard, approve, change_to, reject, review, take_effect
from services.approval.repository import load
from services.approval.sign_off.domain import Proposal, SignOffs
from services.approval.sign_off.store import load_sign_offs, save_steps, sign_offs_by_application


@dataclass(frozen=True)
class Signer:
    """The authenticated user acting on a block, and the sign-off roles their token holds."""

    user: str
    roles: frozenset[str]


@dataclass(frozen=True)
class Outcome:
    """A proposal after a step, the application after it, and whether this step made it take effect."""

    proposal: Proposal
    application: Application
    took_effect: bool


# -- commands (each in the command's unit of work) ---------------------------------------------------------
def propose(
    unit: UnitOfWork,
    jurisdiction: Jurisdiction,
    application_id: UUID,
    block: str,
    command: BlockCommand,
    body: str,
    signer: Signer,
    check: Guard,
) -> Outcome:
    """Check the block as it would take effect now, then keep it (``body``: the command as proposed,
    JSON) waiting for the other signatories."""
    _lock_block(unit, application_id, block)  # before the decision's own locks (places, cards)
    decide = decider(unit, jurisdiction, command)
    application = _loaded(unit, application_id, check)
    decide(application)  # refused now rather than at the last confirmation
    now = datetime.now(UTC)
    sign_offs = load_sign_offs(unit, application_id, now)
    steps = sign_offs.propose(
        block, command.signatories, body, signer=signer.user, roles=signer.roles, at=now
    )
    save_steps(unit, application_id, steps)
    return _settle(unit, application, sign_offs.after(steps), steps[0].proposal_id, decide)


def confirm(
    unit: UnitOfWork,
    jurisdiction: Jurisdiction,
    application_id: UUID,
    block: str,
    proposal_id: UUID,
    signer: Signer,
    check: Guard,
) -> Outcome:
    """The signer confirms; the confirmation completing the block records its effective event."""
    _lock_block(unit, application_id, block)
    application = _loaded(unit, application_id, check)
    now = datetime.now(UTC)
    sign_offs = load_sign_offs(unit, application_id, now)
    proposal = _proposal_of_block(sign_offs, block, proposal_id)
    steps = sign_offs.confirm(proposal_id, signer=signer.user, roles=signer.roles, at=now)
    save_steps(unit, application_id, steps)
    if not steps:
        return Outcome(proposal, application, took_effect=False)
    decide = decider(unit, jurisdiction, kept_block_command(block, proposal.proposed.command))
    return _settle(unit, application, sign_offs.after(steps), proposal_id, decide)


def decline(
    unit: UnitOfWork,
    application_id: UUID,
    block: str,
    proposal_id: UUID,
    reason: str,
    signer: Signer,
    check: Guard,
) -> Outcome:
    """The signer refuses the block as proposed: withdrawn, with the reason."""
    return _end_proposal(unit, application_id, block, proposal_id, check, "decline", reason, signer)


def withdraw(
    unit: UnitOfWork,
    application_id: UUID,
    block: str,
    proposal_id: UUID,
    reason: str,
    signer: Signer,
    check: Guard,
) -> Outcome:
    """The proposer takes back the block while it still waits for confirmations."""
    return _end_proposal(unit, application_id, block, proposal_id, check, "withdraw", reason, signer)


def _end_proposal(
    unit: UnitOfWork,
    application_id: UUID,
    block: str,
    proposal_id: UUID,
    check: Guard,
    how: Literal["decline", "withdraw"],
    reason: str,
    signer: Signer,
) -> Outcome:
    """A proposal ended before it took effect, by a signatory's decline or its proposer's withdrawal."""
    _lock_block(unit, application_id, block)
    application = _loaded(unit, application_id, check)
    now = datetime.now(UTC)
    sign_offs = load_sign_offs(unit, application_id, now)
    _proposal_of_block(sign_offs, block, proposal_id)
    end = sign_offs.decline if how == "decline" else sign_offs.withdraw
    steps = end(proposal_id, reason, signer=signer.user, roles=signer.roles, at=now)
    save_steps(unit, application_id, steps)
    return Outcome(sign_offs.after(steps).proposal(proposal_id), application, took_effect=False)


def _loaded(unit: UnitOfWork, application_id: UUID, check: Guard) -> Application:
    application = load(unit, application_id).application
    check(application)
    return application


def _lock_block(unit: UnitOfWork, application_id: UUID, block: str) -> None:
    """Hold the application's block until commit (docs/adr/0010), first of all locks: a confirmation
    just before a proposal lapses and a new proposal just after cannot both be recorded."""
    unit.lock(f"approval.sign_off:{application_id}:{block}")


def pending_sign_offs(store: EventStore, application_id: UUID) -> list[Proposal]:
    with store.reading() as unit:
        return load_sign_offs(unit, application_id, datetime.now(UTC)).pending()


def decider(unit: UnitOfWork, jurisdiction: Jurisdiction, command: BlockCommand) -> Decide:
    """The domain command a block stands for, as a one-step sign-off runs it."""
    if isinstance(command, Review):
        return lambda application: review(application, command)
    if isinstance(command, InstitutionChange):
        return lambda application: change_to(jurisdiction, application, command)
    if isinstance(command, Approval):
        return lambda application: approve(unit, jurisdiction, application, command)
    return lambda application: reject(application, command)


def _settle(
    unit: UnitOfWork, application: Application, sign_offs: SignOffs, proposal_id: UUID, decide: Decide
) -> Outcome:
    """The block takes effect (its event recorded) once complete; until then the application is as loaded."""
    proposal = sign_offs.proposal(proposal_id)
    if not proposal.complete:
        return Outcome(proposal, application, took_effect=False)
    assert application.application_id is not None
    return Outcome(proposal, take_effect(unit, application.application_id, decide), took_effect=True)


def _proposal_of_block(sign_offs: SignOffs, block: str, proposal_id: UUID) -> Proposal:
    proposal = sign_offs.proposal(proposal_id)
    if proposal.block != block:
        raise NotFound(
            f"编号为 {proposal_id} 的签字不属于此签字栏",
            field="proposal_id",
            code="approval.sign_off.not_found",
        )
    return proposal


def pending_by_application(store: EventStore) -> dict[UUID, list[Proposal]]:
    with store.reading() as unit:
        found = sign_offs_by_application(unit, datetime.now(UTC))
    return {application_id: sign_offs.pending() for application_id, sign_offs in found.items()}


def awaiting(pending: dict[UUID, list[Proposal]], signer: Signer) -> set[UUID]:
    """The applications (of ``pending_by_application``) with a block waiting for ``signer``'s own
    confirmation (待我签字)."""
    return {
        application_id
        for application_id, proposals in pending.items()
        if any(proposal.awaits(signer.user, signer.roles) for proposal in proposals)
    }
