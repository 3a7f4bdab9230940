"""Sign-offs with access control on: a block is proposed by one of its signatories (in a role they hold
and the level's scope) and takes effect only once every other signatory confirmed it with their own
token; any of them may decline it. Lists stay per street."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import update

from services.approval import tables
from services.approval.app import create_app
from tests.access.principals import Deployment, code_of, served
from tests.approval.test_api import (
    application,
    approval,
    community,
    referred,
    stored_payloads,
    stored_types,
    street,
)
from tests.approval.test_institution_change import change_body
from tests.apps import state_of

REVIEWED = "approval.application_reviewed"
COMMUNITY = "community:鸳鸯/金渝社区"


@pytest.fixture
def deployment(tmp_path: Path) -> Deployment:
    return Deployment(tmp_path / "access")


@pytest.fixture
def client(
    tmp_path: Path, redis_url: str, redis_client: redis.Redis, deployment: Deployment
) -> Iterator[TestClient]:
    with served(create_app, "approval", tmp_path, redis_url, deployment.folder) as test_client:
        yield test_client


def community_handler(deployment: Deployment) -> dict[str, str]:
    return deployment.bearer("吴干事", "approval", COMMUNITY, "handler")


def community_responsible(deployment: Deployment) -> dict[str, str]:
    return deployment.bearer("周书记", "approval", COMMUNITY, "responsible")


def street_signers(deployment: Deployment) -> list[dict[str, str]]:
    """王科长 复核人 (proposes), 郑主任 负责人, 冯干事 经办人."""
    return [
        deployment.bearer("王科长", "approval", "street:鸳鸯", "reviewer"),
        deployment.bearer("郑主任", "approval", "street:鸳鸯", "responsible"),
        deployment.bearer("冯干事", "approval", "street:鸳鸯", "handler"),
    ]


def office_signers(deployment: Deployment) -> list[dict[str, str]]:
    """赵主任 负责人 (proposes), 钱科长 复核人, 孙干事 经办人."""
    return [
        deployment.bearer("赵主任", "approval", "district", "responsible"),
        deployment.bearer("钱科长", "approval", "district", "reviewer"),
        deployment.bearer("孙干事", "approval", "district", "handler"),
    ]


def submitted(client: TestClient, deployment: Deployment, person_id: UUID) -> str:
    response = client.post(
        "/applications", json=application(person_id), headers=community_handler(deployment)
    )
    assert response.status_code == 201, response.text
    return str(response.json()["application_id"])


def review(client: TestClient, application_id: str, body: dict, headers: dict[str, str]) -> Any:
    return client.post(f"/applications/{application_id}/reviews", json=body, headers=headers)


def act(client: TestClient, path: str, proposal_id: str, headers: dict[str, str], **body: str) -> Any:
    return client.post(path, json={"proposal_id": proposal_id, **body}, headers=headers)


def signed_off(
    client: TestClient, path: str, body: dict, signers: list[dict[str, str]], confirmations: str
) -> Any:
    """The first signer proposes at ``path``, each other one confirms at ``confirmations``."""
    proposed = client.post(path, json=body, headers=signers[0])
    assert proposed.status_code == 202, proposed.text
    answer = proposed
    for headers in signers[1:]:
        answer = act(client, confirmations, proposed.json()["proposal_id"], headers)
    assert answer.status_code == 201, answer.text
    return answer


def community_signed(client: TestClient, deployment: Deployment, application_id: str) -> None:
    base = f"/applications/{application_id}/reviews"
    signers = [community_handler(deployment), community_responsible(deployment)]
    signed_off(client, base, community(), signers, f"{base}/community/confirmations")


def test_each_block_takes_effect_only_when_every_signatory_confirmed_with_their_own_token(
    client: TestClient, deployment: Deployment
) -> None:
    application_id = submitted(client, deployment, referred(client))
    base = f"/applications/{application_id}"
    proposed = review(client, application_id, community(), community_handler(deployment))
    assert proposed.status_code == 202, proposed.text
    pending = proposed.json()
    assert (pending["status"], pending["proposed_by"], pending["awaiting"]) == (
        "pending",
        "吴干事",
        ["周书记"],
    )
    assert pending["application_status"] == "awaiting_community_review"
    shown = client.get(base, headers=community_handler(deployment)).json()
    assert [block["proposal_id"] for block in shown["pending_sign_offs"]] == [pending["proposal_id"]]
    assert shown["community_review"] is None and REVIEWED not in stored_types(client)

    confirmed = act(client, f"{base}/reviews/community/confirmations", pending["proposal_id"],
                    community_responsible(deployment))  # fmt: skip
    assert confirmed.status_code == 201, confirmed.text
    assert (confirmed.json()["status"], confirmed.json()["awaiting"]) == ("effective", [])
    assert confirmed.json()["application_status"] == "awaiting_street_review"
    assert stored_payloads(client, REVIEWED)[0]["signatories"] == community()["signatories"] | {
        "reviewer": None
    }

    signed_off(client, f"{base}/reviews", street(), street_signers(deployment),
               f"{base}/reviews/street/confirmations")  # fmt: skip
    decided = signed_off(client, f"{base}/decision", approval(), office_signers(deployment),
                         f"{base}/decision/confirmations")  # fmt: skip
    assert decided.json()["application_status"] == "approved"
    view = client.get(base, headers=community_handler(deployment)).json()
    assert view["service_card_number"] and view["pending_sign_offs"] == []
    assert stored_types(client).count(REVIEWED) == 2
    assert stored_types(client).count("approval.application_approved") == 1


def test_a_confirmation_repeated_changes_nothing(client: TestClient, deployment: Deployment) -> None:
    application_id = submitted(client, deployment, referred(client))
    base = f"/applications/{application_id}/reviews"
    proposed = review(client, application_id, street(), street_signers(deployment)[0])
    assert code_of(proposed) == "approval.level.out_of_order"  # the community signs first
    community_signed(client, deployment, application_id)
    reviewer, responsible, handler = street_signers(deployment)
    proposal_id = review(client, application_id, street(), reviewer).json()["proposal_id"]
    confirmations = f"{base}/street/confirmations"
    first = act(client, confirmations, proposal_id, responsible)
    again = act(client, confirmations, proposal_id, responsible)
    assert (first.status_code, again.status_code) == (202, 202)
    assert first.json()["awaiting"] == again.json()["awaiting"] == ["冯干事"]
    assert act(client, confirmations, proposal_id, reviewer).status_code == 202  # the proposer
    assert act(client, confirmations, proposal_id, handler).status_code == 201
    repeated = act(client, confirmations, proposal_id, handler)
    assert (repeated.status_code, repeated.json()["status"]) == (200, "effective")
    assert stored_types(client).count(REVIEWED) == 2


def test_nobody_confirms_for_someone_else_nor_in_a_role_or_scope_they_do_not_hold(
    client: TestClient, deployment: Deployment
) -> None:
    application_id = submitted(client, deployment, referred(client))
    proposal_id = review(client, application_id, community(), community_handler(deployment)).json()[
        "proposal_id"
    ]
    confirmations = f"/applications/{application_id}/reviews/community/confirmations"
    stranger = deployment.bearer("钱某", "approval", COMMUNITY, "handler", "responsible")
    assert code_of(act(client, confirmations, proposal_id, stranger)) == "approval.sign_off.not_named"
    wrong_role = deployment.bearer("周书记", "approval", COMMUNITY, "handler")
    assert code_of(act(client, confirmations, proposal_id, wrong_role)) == "approval.sign_off.role_not_held"
    wrong_scope = deployment.bearer("周书记", "approval", "street:鸳鸯", "responsible")
    assert code_of(act(client, confirmations, proposal_id, wrong_scope)) == "access.review_level"
    other_street = deployment.bearer("周书记", "approval", "community:人和/人和社区", "responsible")
    assert code_of(act(client, confirmations, proposal_id, other_street)) == "access.other_street"
    wrong_block = f"/applications/{application_id}/reviews/street/confirmations"
    street_chief = street_signers(deployment)[1]
    assert code_of(act(client, wrong_block, proposal_id, street_chief)) == "approval.sign_off.not_found"
    assert REVIEWED not in stored_types(client)


def test_a_declined_block_is_withdrawn_with_its_reason_and_a_new_proposal_replaces_it(
    client: TestClient, deployment: Deployment
) -> None:
    application_id = submitted(client, deployment, referred(client))
    base = f"/applications/{application_id}/reviews/community"
    first = review(client, application_id, community(), community_handler(deployment)).json()["proposal_id"]
    again = review(client, application_id, community(), community_handler(deployment))
    assert code_of(again) == "approval.sign_off.pending"
    declined = act(
        client, f"{base}/declines", first, community_responsible(deployment), reason="意见未写明核查结果"
    )
    assert declined.status_code == 200, declined.text
    assert (declined.json()["status"], declined.json()["declined_by"]) == ("withdrawn", "周书记")
    assert declined.json()["decline_reason"] == "意见未写明核查结果"
    late = act(client, f"{base}/confirmations", first, community_responsible(deployment))
    assert code_of(late) == "approval.sign_off.withdrawn"
    without_reason = act(client, f"{base}/declines", first, community_responsible(deployment), reason=" ")
    assert without_reason.status_code == 422

    body = community(opinion="经入户核查，情况属实，同意上报")
    second = review(client, application_id, body, community_handler(deployment)).json()["proposal_id"]
    view = client.get(f"/applications/{application_id}", headers=community_handler(deployment)).json()
    assert [block["proposal_id"] for block in view["pending_sign_offs"]] == [second]
    assert act(client, f"{base}/confirmations", second, community_responsible(deployment)).status_code == 201
    assert stored_payloads(client, REVIEWED)[0]["opinion"] == "经入户核查，情况属实，同意上报"


def test_one_person_still_holds_one_role_per_application_across_levels(
    client: TestClient, deployment: Deployment
) -> None:
    application_id = submitted(client, deployment, referred(client))
    community_signed(client, deployment, application_id)
    # 吴干事 signed the community block; they cannot also sign the street block, even from the street.
    body = street(signatories={"responsible": "郑主任", "reviewer": "王科长", "handler": "吴干事"})
    refused = review(client, application_id, body, street_signers(deployment)[0])
    assert code_of(refused) == "approval.signatories.segregation_of_duties"


def test_the_district_decision_and_a_change_of_institution_are_confirmed_by_the_office(
    client: TestClient, deployment: Deployment
) -> None:
    application_id = submitted(client, deployment, referred(client))
    base = f"/applications/{application_id}"
    community_signed(client, deployment, application_id)
    signed_off(client, f"{base}/reviews", street(), street_signers(deployment),
               f"{base}/reviews/street/confirmations")  # fmt: skip
    responsible, reviewer, handler = office_signers(deployment)
    proposal_id = client.post(f"{base}/decision", json=approval(), headers=responsible).json()["proposal_id"]
    street_chief = deployment.bearer("钱科长", "approval", "street:鸳鸯", "reviewer")
    refused = act(client, f"{base}/decision/confirmations", proposal_id, street_chief)
    assert code_of(refused) == "access.district_only"
    assert act(client, f"{base}/decision/confirmations", proposal_id, reviewer).status_code == 202
    assert act(client, f"{base}/decision/confirmations", proposal_id, handler).status_code == 201

    changes = f"{base}/institution-changes"
    signed_off(client, changes, change_body(), [responsible, reviewer, handler], f"{changes}/confirmations")
    view = client.get(base, headers=responsible).json()
    assert view["institutions"] == {"low_vision_training": "cq-aier-eye"}
    assert stored_types(client).count("approval.institution_change_approved") == 1


def test_one_user_cannot_propose_a_block_in_which_they_do_not_sign(
    client: TestClient, deployment: Deployment
) -> None:
    application_id = submitted(client, deployment, referred(client))
    stranger = deployment.bearer("钱某", "approval", COMMUNITY, "handler", "responsible")
    response = review(client, application_id, community(), stranger)
    assert response.status_code == 403
    assert code_of(response) == "access.signatory"


def test_a_user_named_in_a_role_they_do_not_hold_cannot_propose_it(
    client: TestClient, deployment: Deployment
) -> None:
    application_id = submitted(client, deployment, referred(client))
    # 吴干事 is a handler, but the block names them as 负责人.
    body = community(signatories={"responsible": "吴干事", "handler": "另一位干事"})
    assert code_of(review(client, application_id, body, community_handler(deployment))) == "access.signatory"


def test_a_level_is_proposed_only_from_its_own_scope(client: TestClient, deployment: Deployment) -> None:
    application_id = submitted(client, deployment, referred(client))
    street_handler = deployment.bearer("吴干事", "approval", "street:鸳鸯", "handler")
    assert code_of(review(client, application_id, community(), street_handler)) == "access.review_level"
    other_street = deployment.bearer("吴干事", "approval", "community:人和/人和社区", "handler")
    assert code_of(review(client, application_id, community(), other_street)) == "access.other_street"


def test_the_district_decision_is_proposed_by_a_district_responsible_named_as_such(
    client: TestClient, deployment: Deployment
) -> None:
    application_id = submitted(client, deployment, referred(client))
    base = f"/applications/{application_id}"
    community_signed(client, deployment, application_id)
    signed_off(client, f"{base}/reviews", street(), street_signers(deployment),
               f"{base}/reviews/street/confirmations")  # fmt: skip
    before = stored_types(client)
    handler = deployment.bearer("孙干事", "approval", "district", "handler")
    path = f"/applications/{application_id}/decision"
    assert code_of(client.post(path, json=approval(), headers=handler)) == "access.signatory"
    street_chief = deployment.bearer("赵主任", "approval", "street:鸳鸯", "responsible")
    assert code_of(client.post(path, json=approval(), headers=street_chief)) == "access.district_only"
    assert stored_types(client) == before


def test_street_staff_see_and_list_only_their_streets_applications(
    client: TestClient, deployment: Deployment
) -> None:
    application_id = submitted(client, deployment, referred(client))
    renhe = deployment.bearer("人和干事", "approval", "street:人和", "handler")
    assert code_of(client.get(f"/applications/{application_id}", headers=renhe)) == "access.other_street"
    assert client.get("/applications", headers=renhe).json() == []
    assert code_of(client.get("/applications/overdue?street=鸳鸯", headers=renhe)) == "access.other_street"
    assert client.get("/applications/overdue", headers=renhe).status_code == 200
    yuanyang = street_signers(deployment)[0]
    assert [view["application_id"] for view in client.get("/applications", headers=yuanyang).json()] == [
        application_id
    ]


def test_an_auditor_reads_applications_but_proposes_and_confirms_nothing(
    client: TestClient, deployment: Deployment
) -> None:
    application_id = submitted(client, deployment, referred(client))
    proposal_id = review(client, application_id, community(), community_handler(deployment)).json()[
        "proposal_id"
    ]
    auditor = deployment.auditor()
    listed = client.get("/applications", headers=auditor).json()
    assert [block["proposal_id"] for block in listed[0]["pending_sign_offs"]] == [proposal_id]
    assert code_of(review(client, application_id, community(), auditor)) == "access.read_only"
    confirmations = f"/applications/{application_id}/reviews/community/confirmations"
    assert code_of(act(client, confirmations, proposal_id, auditor)) == "access.read_only"


def test_a_proposal_nobody_confirmed_for_a_week_lapses_and_the_block_is_proposed_again(
    client: TestClient, deployment: Deployment
) -> None:
    application_id = submitted(client, deployment, referred(client))
    community_signed(client, deployment, application_id)
    reviewer, responsible, handler = street_signers(deployment)
    proposal_id = review(client, application_id, street(), reviewer).json()["proposal_id"]
    engine = state_of(client).runtime.store.engine
    with engine.begin() as connection:  # proposed eight days ago
        steps = tables.sign_off_steps
        eight_days_ago = datetime.now(UTC) - timedelta(days=8)
        connection.execute(update(steps).where(steps.c.proposal_id == proposal_id).values(at=eight_days_ago))
    confirmations = f"/applications/{application_id}/reviews/street/confirmations"
    refused = act(client, confirmations, proposal_id, responsible)
    assert (refused.status_code, code_of(refused)) == (409, "approval.sign_off.lapsed")
    shown = client.get(f"/applications/{application_id}", headers=reviewer).json()
    assert shown["pending_sign_offs"] == []
    again = review(client, application_id, street(), reviewer)
    assert again.status_code == 202 and again.json()["proposal_id"] != proposal_id
    for headers in (responsible, handler):
        answer = act(client, confirmations, again.json()["proposal_id"], headers)
    assert answer.status_code == 201
    assert stored_types(client).count(REVIEWED) == 2
