"""Every API needs a token of its own agency; auditors only read; each read of personal data is audited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine

from kernel.access.access import (
    OTHER_AGENCIES,
    PERSONAL_DATA,
    AccessControl,
    Caller,
    install_access_control,
    require_role,
)
from kernel.access.audit import AuditTrail
from kernel.access.auth import AUDIT, Principal, Role, Scope, TokenIssuer, TokenVerifier
from kernel.web.errors import install_error_handlers

KEY = Ed25519PrivateKey.generate()


def token(
    agency="approval", roles=(Role.HANDLER,), scope="street:鸳鸯", key=KEY, lifetime=timedelta(hours=1)
):
    principal = Principal("孙干事", agency, frozenset(roles), Scope.parse(scope))
    issued = TokenIssuer(key).issue(principal, now=datetime.now(UTC), lifetime=lifetime, token_id="t-1")
    return {"Authorization": f"Bearer {issued}"}


@pytest.fixture
def audit(tmp_path):
    return AuditTrail(create_engine(f"sqlite:///{tmp_path}/approval.db"))


@pytest.fixture
def client(audit):
    app = FastAPI()
    install_error_handlers(app)
    install_access_control(app, AccessControl("approval", TokenVerifier((KEY.public_key(),)), audit))

    @app.get("/applications/{application_id}", openapi_extra=PERSONAL_DATA)
    def application(application_id: str) -> dict[str, str]:
        return {"id": application_id, "name": "张三"}

    @app.get("/overdue")
    def overdue() -> list[str]:
        return []

    @app.post("/applications/{application_id}/approval", status_code=201)
    def approve(application_id: str, caller: Caller) -> dict[str, str]:
        require_role(caller, Role.RESPONSIBLE)
        return {"approved": application_id}

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/applications/{application_id}/key", openapi_extra=OTHER_AGENCIES)
    def key(application_id: str, caller: Caller) -> dict[str, str]:
        assert caller is not None
        return {"released_to": str(caller.agency)}

    router = APIRouter()

    @router.get("/keys/{application_id}", openapi_extra=OTHER_AGENCIES)
    def routed_key(application_id: str, caller: Caller) -> dict[str, str]:
        assert caller is not None
        return {"released_to": str(caller.agency)}

    app.include_router(router)

    with TestClient(app) as test_client:
        yield test_client


def test_a_route_marked_for_other_agencies_lets_their_users_through_to_decide_itself(client):
    survey_user = token(agency="survey", roles=(Role.STAFF,))
    assert client.get("/applications/a-1/key", headers=survey_user).json() == {"released_to": "survey"}
    assert client.get("/applications/a-1", headers=survey_user).status_code == 403
    assert client.get("/applications/a-1/key").status_code == 401
    assert client.get("/keys/a-1", headers=survey_user).json() == {"released_to": "survey"}


def test_commands_can_be_limited_to_scope_kinds_while_reads_stay_open(audit):
    app = FastAPI()
    install_error_handlers(app)
    verifier = TokenVerifier((KEY.public_key(),))
    install_access_control(app, AccessControl("approval", verifier, audit, frozenset({"district"})))

    @app.api_route("/ledger/rebuild", methods=["GET", "POST"])
    def rebuild() -> dict[str, str]:
        return {"rebuilt": "yes"}

    with TestClient(app) as test_client:
        street = token(scope="street:鸳鸯")
        assert test_client.get("/ledger/rebuild", headers=street).status_code == 200
        refused = test_client.post("/ledger/rebuild", headers=street)
        assert (refused.status_code, refused.json()["code"]) == (403, "access.command_scope")
        assert test_client.post("/ledger/rebuild", headers=token(scope="district")).status_code == 200


def test_a_request_without_a_token_is_refused_401_as_problem_json(client):
    response = client.get("/overdue")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["code"] == "access.unauthenticated"


def test_health_and_api_docs_need_no_token(client):
    assert client.get("/health").status_code == 200
    assert client.get("/openapi.json").status_code == 200


def test_an_expired_or_foreign_token_is_refused_401(client):
    assert client.get("/overdue", headers=token(lifetime=timedelta(seconds=-1))).status_code == 401
    assert client.get("/overdue", headers=token(key=Ed25519PrivateKey.generate())).status_code == 401


def test_a_user_of_another_agency_is_refused_403(client):
    response = client.get("/overdue", headers=token(agency="survey", roles=(Role.STAFF,)))
    assert response.status_code == 403
    assert response.json()["code"] == "access.wrong_agency"


def test_an_auditor_reads_but_cannot_write(client):
    auditor = token(agency=AUDIT, roles=(Role.AUDITOR,), scope="district")
    assert client.get("/overdue", headers=auditor).status_code == 200
    response = client.post("/applications/a-1/approval", headers=auditor)
    assert response.status_code == 403
    assert response.json()["code"] == "access.read_only"


def test_a_sign_off_needs_the_role_named_for_it(client):
    refused = client.post("/applications/a-1/approval", headers=token(roles=(Role.HANDLER,)))
    assert refused.status_code == 403
    assert refused.json()["code"] == "access.role_required"
    granted = client.post(
        "/applications/a-1/approval", headers=token(roles=(Role.RESPONSIBLE,), scope="district")
    )
    assert granted.status_code == 201


def test_each_read_of_personal_data_is_audited_with_who_what_when_and_why(client, audit):
    before = datetime.now(UTC)
    headers = {**token(), "X-Purpose": quote("复核申请材料")}
    assert client.get("/applications/a-1", headers=headers).status_code == 200
    [entry] = audit.entries(subject="a-1")
    assert (entry.user, entry.agency, entry.roles, entry.scope) == (
        "孙干事",
        "approval",
        "handler",
        "street:鸳鸯",
    )
    assert (entry.action, entry.purpose, entry.status) == ("GET /applications/a-1", "复核申请材料", 200)
    assert entry.read_at.replace(tzinfo=entry.read_at.tzinfo or UTC) >= before - timedelta(seconds=1)


def test_a_read_without_a_purpose_is_audited_as_not_stated_and_other_reads_are_not_audited(client, audit):
    client.get("/applications/a-2", headers=token())
    client.get("/overdue", headers=token())
    assert [entry.purpose for entry in audit.entries()] == ["未说明"]


def test_a_refused_read_leaves_no_audit_entry_because_nothing_was_disclosed(client, audit):
    client.get("/applications/a-3", headers=token(agency="survey"))
    assert audit.entries() == []
