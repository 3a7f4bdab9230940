"""The sign-off steps table on SQLite and PostgreSQL: steps read back as written, and two steps in one
slot (racing confirmations, racing proposals) conflict instead of both counting."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import pytest

from kernel.domain.rejections import StateConflict
from kernel.store.store import EventStore
from services.approval.events import Signatories
from services.approval.sign_off.domain import SignOffConfirmed, SignOffs
from services.approval.sign_off.store import load_sign_offs, save_steps, sign_offs_by_application
from services.approval.tables import tables
from tests.backends import BACKENDS, store_on

AT = datetime(2024, 10, 28, 9, 30, tzinfo=UTC)
BLOCK = Signatories(responsible="郑主任", reviewer="王科长", handler="冯干事")


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EventStore]:
    with store_on(request, tmp_path, "approval", tables) as event_store:
        yield event_store


def test_proposed_confirmed_and_declined_steps_read_back_as_written(store: EventStore) -> None:
    application_id = uuid4()
    proposal = SignOffs().propose("street", BLOCK, '{"level": "street"}', signer="王科长",
                                  roles=frozenset({"reviewer"}), at=AT)  # fmt: skip
    sign_offs = SignOffs().after(proposal)
    proposal_id = proposal[0].proposal_id
    confirmed = sign_offs.confirm(proposal_id, signer="郑主任", roles=frozenset({"responsible"}), at=AT)
    declined = sign_offs.after(confirmed).decline(
        proposal_id, "日期有误", signer="冯干事", roles=frozenset({"handler"}), at=AT
    )
    with store.transaction() as unit:
        save_steps(unit, application_id, [*proposal, *confirmed, *declined])
    with store.reading() as unit:
        loaded = load_sign_offs(unit, application_id, AT)
        everything = sign_offs_by_application(unit, AT)
    read = loaded.proposal(proposal_id)
    assert read.proposed == proposal[0]
    assert read.confirmed == {"reviewer": ("王科长", AT), "responsible": ("郑主任", AT)}
    assert read.declined == declined[0]
    assert list(everything) == [application_id]


def test_two_steps_taking_the_same_slot_conflict(store: EventStore) -> None:
    application_id = uuid4()
    proposal = SignOffs().propose(
        "street", BLOCK, "{}", signer="王科长", roles=frozenset({"reviewer"}), at=AT
    )
    proposal_id = proposal[0].proposal_id
    with store.transaction() as unit:
        save_steps(
            unit, application_id, [*proposal, SignOffConfirmed(proposal_id, 1, "郑主任", "responsible", AT)]
        )
    racing = SignOffConfirmed(proposal_id, 1, "冯干事", "handler", AT)  # computed before the first committed
    with pytest.raises(StateConflict) as refused, store.transaction() as unit:
        save_steps(unit, application_id, [racing])
    assert refused.value.code == "approval.sign_off.concurrent"
    second_proposal = SignOffs().propose("street", BLOCK, "{}", signer="郑主任",
                                         roles=frozenset({"responsible"}), at=AT)  # fmt: skip
    with pytest.raises(StateConflict), store.transaction() as unit:
        save_steps(unit, application_id, second_proposal)  # round 1 of the block again
    with store.reading() as unit:
        pending = load_sign_offs(unit, application_id, AT).proposal(proposal_id)
    assert pending.awaiting == [("handler", "冯干事")]
