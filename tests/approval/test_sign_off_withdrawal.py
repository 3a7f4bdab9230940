"""The proposer withdraws 撤回 a block still waiting for confirmations: a block naming someone who never
confirms (a name typed with no login) would otherwise stay pending for a week, with nobody able to act."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient

from kernel.domain.rejections import StateConflict
from services.approval.app import create_app
from services.approval.sign_off.domain import NotTheirSignature, SignOffWithdrawn
from tests.access.principals import Deployment, code_of, served
from tests.approval.test_api import approval, community, referred, stored_types, street
from tests.approval.test_sign_offs import AT, HANDLER, RESPONSIBLE, REVIEWER, proposed
from tests.security.test_access_approval import (
    REVIEWED,
    act,
    community_handler,
    community_responsible,
    community_signed,
    office_signers,
    review,
    signed_off,
    street_signers,
    submitted,
)


def test_the_proposer_withdraws_their_pending_block_and_it_may_be_proposed_anew() -> None:
    sign_offs, step = proposed()  # 王科长 复核人 proposed
    steps = sign_offs.withdraw(step.proposal_id, signer="王科长", roles=REVIEWER, at=AT)
    assert steps == [SignOffWithdrawn(step.proposal_id, 1, "王科长", "reviewer", "提出人撤回", AT)]
    sign_offs = sign_offs.after(steps)
    assert sign_offs.proposal(step.proposal_id).status == "withdrawn"
    assert sign_offs.pending() == []
    again, second = proposed(sign_offs)
    assert second.round == 2 and again.pending()[0].proposal_id == second.proposal_id


def test_only_the_proposer_in_the_role_they_proposed_in_may_withdraw_and_only_while_pending() -> None:
    sign_offs, step = proposed()
    with pytest.raises(NotTheirSignature) as other:
        sign_offs.withdraw(step.proposal_id, signer="郑主任", roles=RESPONSIBLE, at=AT)
    assert other.value.code == "approval.sign_off.not_proposer"
    with pytest.raises(NotTheirSignature) as role:
        sign_offs.withdraw(step.proposal_id, signer="王科长", roles=HANDLER, at=AT)
    assert role.value.code == "approval.sign_off.role_not_held"
    done = sign_offs.after(sign_offs.confirm(step.proposal_id, signer="郑主任", roles=RESPONSIBLE, at=AT))
    done = done.after(done.confirm(step.proposal_id, signer="冯干事", roles=HANDLER, at=AT))
    with pytest.raises(StateConflict) as effective:
        done.withdraw(step.proposal_id, signer="王科长", roles=REVIEWER, at=AT)
    assert effective.value.code == "approval.sign_off.already_effective"


@pytest.fixture
def deployment(tmp_path: Path) -> Deployment:
    return Deployment(tmp_path / "access")


@pytest.fixture
def client(
    tmp_path: Path, redis_url: str, redis_client: redis.Redis, deployment: Deployment
) -> Iterator[TestClient]:
    with served(create_app, "approval", tmp_path, redis_url, deployment.folder) as test_client:
        yield test_client


def test_a_block_naming_someone_without_a_login_is_withdrawn_by_its_proposer_over_http(
    client: TestClient, deployment: Deployment
) -> None:
    application_id = submitted(client, deployment, referred(client))
    base = f"/applications/{application_id}/reviews/community"
    typed = community(signatories={"responsible": "王主任", "handler": "吴干事"})
    stuck = review(client, application_id, typed, community_handler(deployment)).json()["proposal_id"]
    # the real 负责人 is not named: they can neither confirm nor withdraw it
    not_theirs = act(client, f"{base}/withdrawals", stuck, community_responsible(deployment))
    assert code_of(not_theirs) == "approval.sign_off.not_proposer"
    withdrawn = act(
        client, f"{base}/withdrawals", stuck, community_handler(deployment), reason="负责人姓名填错"
    )
    assert withdrawn.status_code == 200, withdrawn.text
    answer = withdrawn.json()
    assert (answer["status"], answer["declined_by"], answer["decline_reason"]) == (
        "withdrawn",
        "吴干事",
        "负责人姓名填错",
    )
    twice = act(client, f"{base}/withdrawals", stuck, community_handler(deployment))
    assert code_of(twice) == "approval.sign_off.withdrawn"
    view = client.get(f"/applications/{application_id}", headers=community_handler(deployment)).json()
    assert view["pending_sign_offs"] == []

    second = review(client, application_id, community(), community_handler(deployment)).json()["proposal_id"]
    assert act(client, f"{base}/confirmations", second, community_responsible(deployment)).status_code == 201
    assert REVIEWED in stored_types(client)


def test_the_office_proposer_withdraws_a_pending_decision_and_the_street_cannot(
    client: TestClient, deployment: Deployment
) -> None:
    application_id = submitted(client, deployment, referred(client))
    base = f"/applications/{application_id}"
    community_signed(client, deployment, application_id)
    signed_off(client, f"{base}/reviews", street(), street_signers(deployment),
               f"{base}/reviews/street/confirmations")  # fmt: skip
    responsible, reviewer, _ = office_signers(deployment)
    proposal_id = client.post(f"{base}/decision", json=approval(), headers=responsible).json()["proposal_id"]
    street_reviewer = street_signers(deployment)[0]
    assert code_of(act(client, f"{base}/decision/withdrawals", proposal_id, street_reviewer)) == (
        "access.district_only"
    )
    assert code_of(act(client, f"{base}/decision/withdrawals", proposal_id, reviewer)) == (
        "approval.sign_off.not_proposer"
    )
    withdrawn = act(client, f"{base}/decision/withdrawals", proposal_id, responsible)
    assert (withdrawn.status_code, withdrawn.json()["decline_reason"]) == (200, "提出人撤回")
    late = act(client, f"{base}/decision/confirmations", proposal_id, reviewer)
    assert code_of(late) == "approval.sign_off.withdrawn" and "由提出人赵主任撤回" in late.json()["detail"]
    assert "approval.application_approved" not in stored_types(client)
