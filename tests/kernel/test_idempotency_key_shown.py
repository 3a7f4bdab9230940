"""With access control on, a client's Idempotency-Key is stored under its user (``user:<hash>``); the
answers still name the key the client sent, never the stored one (issue 18)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi.testclient import TestClient

from kernel.store.keyed import IdempotencyRecord
from kernel.web.idempotency import IdempotencyMiddleware, owned_key, request_hash
from tests.problem_json import field_error_of

KEY = "Idempotency-Key"


@dataclass
class KeptAnswers:
    """The store's look-up of keys: one record, for another request than the one sent."""

    records: dict[str, IdempotencyRecord] = field(default_factory=dict)

    def idempotency_record(self, key: str) -> IdempotencyRecord | None:
        return self.records.get(key)


@dataclass(frozen=True)
class Principal:
    user: str


async def command_app(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 201, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


def signed_in_service(store: KeptAnswers, user: str) -> TestClient:
    """The middleware behind access control: the caller's principal is on the scope's state."""
    keyed = IdempotencyMiddleware(command_app, lambda _scope: store)

    async def signed_in(scope: Any, receive: Any, send: Any) -> None:
        scope.setdefault("state", {})["principal"] = Principal(user)
        await keyed(scope, receive, send)

    return TestClient(signed_in)


def kept(key: str, *, request_hash: str) -> IdempotencyRecord:
    """A key whose command recorded its events; its answer was not kept."""
    return IdempotencyRecord(key, request_hash, ["event-1"], None, [], None)


def test_a_reused_key_is_refused_naming_the_key_the_client_sent_not_the_stored_one() -> None:
    scope = {"state": {"principal": Principal("孙干事")}}
    stored = owned_key("retry-7", scope)
    client = signed_in_service(KeptAnswers({stored: kept(stored, request_hash="another request")}), "孙干事")
    refused = client.post("/people", json={"surveyor": "李调查"}, headers={KEY: "retry-7"})
    message = field_error_of(refused, 422)["message"]
    assert "“retry-7”" in message
    assert "user:" not in refused.text and stored not in refused.text


def test_a_retry_whose_answer_was_not_kept_names_the_key_the_client_sent() -> None:
    scope = {"state": {"principal": Principal("孙干事")}}
    stored = owned_key("retry-8", scope)
    same = request_hash("POST", "/people", b"", "application/json", b"{}")
    client = signed_in_service(KeptAnswers({stored: kept(stored, request_hash=same)}), "孙干事")
    answer = client.post("/people", json={}, headers={KEY: "retry-8"})
    assert answer.status_code == 200 and answer.json()["idempotency_key"] == "retry-8"
