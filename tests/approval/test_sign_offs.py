"""The two-step sign-off 签字确认 in the domain: given the steps so far, when a signatory proposes,
confirms or declines, then the new steps or the refusal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from kernel.domain.rejections import CommandRejected, NotFound, StateConflict
from services.approval.events import Signatories
from services.approval.sign_off.domain import (
    PROPOSAL_LIFETIME,
    NotTheirSignature,
    SignOffConfirmed,
    SignOffDeclined,
    SignOffProposed,
    SignOffs,
    SignOffStep,
)

AT = datetime(2024, 10, 28, 9, 30, tzinfo=UTC)
STREET_BLOCK = Signatories(responsible="郑主任", reviewer="王科长", handler="冯干事")
REVIEWER = frozenset({"reviewer"})
RESPONSIBLE = frozenset({"responsible"})
HANDLER = frozenset({"handler"})


def proposed(sign_offs: SignOffs | None = None) -> tuple[SignOffs, SignOffProposed]:
    """王科长 (复核人) proposed the street block."""
    sign_offs = sign_offs or SignOffs()
    steps = sign_offs.propose("street", STREET_BLOCK, "{}", signer="王科长", roles=REVIEWER, at=AT)
    assert isinstance(steps[0], SignOffProposed)
    return sign_offs.after(steps), steps[0]


def test_a_proposal_counts_its_proposer_and_awaits_the_other_two_signatories() -> None:
    sign_offs, step = proposed()
    assert (step.block, step.signer, step.role, step.round) == ("street", "王科长", "reviewer", 1)
    proposal = sign_offs.proposal(step.proposal_id)
    assert proposal.status == "pending"
    assert proposal.awaiting == [("responsible", "郑主任"), ("handler", "冯干事")]
    assert sign_offs.pending() == [proposal]


def test_the_block_is_complete_once_each_other_signatory_confirmed_in_their_own_role() -> None:
    sign_offs, step = proposed()
    first = sign_offs.confirm(step.proposal_id, signer="郑主任", roles=RESPONSIBLE, at=AT)
    assert first == [SignOffConfirmed(step.proposal_id, 1, "郑主任", "responsible", AT)]
    sign_offs = sign_offs.after(first)
    assert not sign_offs.proposal(step.proposal_id).complete
    sign_offs = sign_offs.after(sign_offs.confirm(step.proposal_id, signer="冯干事", roles=HANDLER, at=AT))
    proposal = sign_offs.proposal(step.proposal_id)
    assert (proposal.complete, proposal.status, proposal.awaiting) == (True, "effective", [])
    assert sign_offs.pending() == []


def test_a_repeated_confirmation_records_nothing() -> None:
    sign_offs, step = proposed()
    sign_offs = sign_offs.after(
        sign_offs.confirm(step.proposal_id, signer="郑主任", roles=RESPONSIBLE, at=AT)
    )
    assert sign_offs.confirm(step.proposal_id, signer="郑主任", roles=RESPONSIBLE, at=AT) == []
    assert sign_offs.confirm(step.proposal_id, signer="王科长", roles=REVIEWER, at=AT) == []


def test_a_user_not_named_in_the_block_cannot_confirm_for_someone_else() -> None:
    sign_offs, step = proposed()
    with pytest.raises(NotTheirSignature) as refused:
        sign_offs.confirm(step.proposal_id, signer="吴干事", roles=HANDLER | RESPONSIBLE, at=AT)
    assert refused.value.code == "approval.sign_off.not_named"
    assert refused.value.status_code == 403


def test_a_signatory_named_in_a_role_their_token_does_not_hold_cannot_confirm() -> None:
    sign_offs, step = proposed()
    with pytest.raises(NotTheirSignature) as refused:
        sign_offs.confirm(step.proposal_id, signer="冯干事", roles=REVIEWER, at=AT)
    assert (refused.value.code, refused.value.field) == (
        "approval.sign_off.role_not_held",
        "signatories.handler",
    )


def test_the_proposer_must_be_named_in_the_block_in_a_role_they_hold() -> None:
    with pytest.raises(NotTheirSignature) as refused:
        SignOffs().propose("street", STREET_BLOCK, "{}", signer="王科长", roles=HANDLER, at=AT)
    assert refused.value.code == "approval.sign_off.role_not_held"
    with pytest.raises(NotTheirSignature):
        SignOffs().propose("street", STREET_BLOCK, "{}", signer="钱某", roles=REVIEWER, at=AT)


def test_one_person_cannot_be_named_twice_in_a_proposed_block() -> None:
    twice = Signatories(responsible="郑主任", reviewer="王科长", handler="王 科长")
    with pytest.raises(CommandRejected) as refused:
        SignOffs().propose("street", twice, "{}", signer="王科长", roles=REVIEWER | HANDLER, at=AT)
    assert (refused.value.code, refused.value.field) == (
        "approval.signatories.segregation_of_duties",
        "signatories.handler",
    )


def test_a_declined_proposal_is_withdrawn_with_its_reason_and_can_be_confirmed_no_more() -> None:
    sign_offs, step = proposed()
    steps = sign_offs.decline(step.proposal_id, " 意见不符 ", signer="冯干事", roles=HANDLER, at=AT)
    assert steps == [SignOffDeclined(step.proposal_id, 1, "冯干事", "handler", "意见不符", AT)]
    sign_offs = sign_offs.after(steps)
    assert sign_offs.proposal(step.proposal_id).status == "withdrawn"
    assert sign_offs.pending() == []
    with pytest.raises(StateConflict) as refused:
        sign_offs.confirm(step.proposal_id, signer="郑主任", roles=RESPONSIBLE, at=AT)
    assert refused.value.code == "approval.sign_off.withdrawn"


def test_a_decline_needs_a_reason_and_a_signatory_of_the_block() -> None:
    sign_offs, step = proposed()
    with pytest.raises(CommandRejected) as refused:
        sign_offs.decline(step.proposal_id, "  ", signer="冯干事", roles=HANDLER, at=AT)
    assert refused.value.code == "approval.reason.required"
    with pytest.raises(NotTheirSignature):
        sign_offs.decline(step.proposal_id, "不同意", signer="吴干事", roles=HANDLER, at=AT)


def test_a_new_proposal_waits_until_the_pending_one_is_withdrawn_then_replaces_it() -> None:
    sign_offs, step = proposed()
    with pytest.raises(StateConflict) as refused:
        sign_offs.propose("street", STREET_BLOCK, "{}", signer="郑主任", roles=RESPONSIBLE, at=AT)
    assert refused.value.code == "approval.sign_off.pending"
    sign_offs = sign_offs.after(
        sign_offs.decline(step.proposal_id, "日期有误", signer="郑主任", roles=RESPONSIBLE, at=AT)
    )
    replaced, second = proposed(sign_offs)
    assert second.round == 2 and second.proposal_id != step.proposal_id
    assert [proposal.proposal_id for proposal in replaced.pending()] == [second.proposal_id]


def test_a_complete_block_cannot_be_declined_and_an_unknown_proposal_is_not_found() -> None:
    sign_offs, step = proposed()
    for name, roles in (("郑主任", RESPONSIBLE), ("冯干事", HANDLER)):
        sign_offs = sign_offs.after(sign_offs.confirm(step.proposal_id, signer=name, roles=roles, at=AT))
    with pytest.raises(StateConflict) as refused:
        sign_offs.decline(step.proposal_id, "晚了", signer="冯干事", roles=HANDLER, at=AT)
    assert refused.value.code == "approval.sign_off.already_effective"
    with pytest.raises(NotFound):
        sign_offs.confirm(uuid4(), signer="冯干事", roles=HANDLER, at=AT)


def test_blocks_of_different_levels_are_pending_independently() -> None:
    sign_offs, _ = proposed()
    community = Signatories(responsible="周书记", handler="吴干事")
    steps = sign_offs.propose("community", community, "{}", signer="吴干事", roles=HANDLER, at=AT)
    assert len(sign_offs.after(steps).pending()) == 2


def test_a_proposal_left_unconfirmed_for_a_week_lapses_and_the_block_may_be_proposed_again() -> None:
    _, step = proposed()
    history = [step]
    almost = SignOffs(history, now=AT + PROPOSAL_LIFETIME - timedelta(seconds=1))
    assert almost.proposal(step.proposal_id).status == "pending"
    assert almost.confirm(step.proposal_id, signer="郑主任", roles=RESPONSIBLE, at=AT)

    week_later = AT + PROPOSAL_LIFETIME
    lapsed = SignOffs(history, now=week_later)
    assert lapsed.proposal(step.proposal_id).status == "lapsed"
    assert lapsed.pending() == []
    for refuse in (
        lambda: lapsed.confirm(step.proposal_id, signer="郑主任", roles=RESPONSIBLE, at=week_later),
        lambda: lapsed.decline(step.proposal_id, "过期", signer="郑主任", roles=RESPONSIBLE, at=week_later),
    ):
        with pytest.raises(StateConflict) as refused:
            refuse()
        assert (refused.value.code, refused.value.field) == ("approval.sign_off.lapsed", "proposal_id")
        assert "于 2024年10月28日 提出" in refused.value.message and "失效" in refused.value.message
    [again] = lapsed.propose("street", STREET_BLOCK, "{}", signer="郑主任", roles=RESPONSIBLE, at=week_later)
    assert isinstance(again, SignOffProposed) and again.round == 2


def test_a_block_that_took_effect_never_lapses() -> None:
    sign_offs, step = proposed()
    steps: list[SignOffStep] = [step]
    for name, roles in (("郑主任", RESPONSIBLE), ("冯干事", HANDLER)):
        confirmed = sign_offs.confirm(step.proposal_id, signer=name, roles=roles, at=AT)
        sign_offs, steps = sign_offs.after(confirmed), steps + confirmed
    years_later = SignOffs(steps, now=AT + 100 * PROPOSAL_LIFETIME)
    assert years_later.proposal(step.proposal_id).status == "effective"


def test_a_proposal_awaits_only_the_named_signatories_still_to_confirm_in_the_role_they_hold() -> None:
    sign_offs, step = proposed()
    proposal = sign_offs.proposal(step.proposal_id)
    assert proposal.awaits("郑主任", RESPONSIBLE) and proposal.awaits("冯干事", HANDLER)
    assert not proposal.awaits("王科长", REVIEWER)  # the proposer counts as confirmed
    assert not proposal.awaits("郑主任", HANDLER)  # named as 负责人, holding another role
    assert not proposal.awaits("吴干事", HANDLER | RESPONSIBLE)  # not named
    sign_offs = sign_offs.after(
        sign_offs.decline(step.proposal_id, "意见不实", signer="冯干事", roles=HANDLER, at=AT)
    )
    assert not sign_offs.proposal(step.proposal_id).awaits("郑主任", RESPONSIBLE)  # withdrawn
