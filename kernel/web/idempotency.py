"""Idempotent HTTP commands: an ``Idempotency-Key`` header makes a client's retry safe.

A client that timed out does not know whether its command was accepted; it sends the command
again with the same ``Idempotency-Key`` and gets the original result, while the service records
the command's events exactly once.

* The middleware reads the header of every command (POST, PUT, PATCH, DELETE), hashes method,
  path, query and body, and hands the route an ``IdempotentRequest`` in the request's state
  (``keyed_request``). It answers a known key itself and serialises requests with one key within the
  process; it commits nothing.
* The route opens its unit of work with that request (``kernel.http.Command``): ``UnitOfWork.append``
  records the key, the request hash and the new event ids in the table ``idempotency_keys`` in the
  SAME transaction as the events, and the route's 2xx answer (status, headers, body) is kept in it
  too, before the ``with`` block commits. Events and answer are durable together or not at all, so a
  retry after any crash gets the original status, body and ``Location``. The key is the table's
  primary key, so a concurrent duplicate (in another process) fails its own transaction with
  ``IdempotencyKeyInUse``, which the middleware answers as a retry. Failed commands (4xx, 5xx) keep no
  answer, so a corrected retry can succeed, unless the route kept its refusal in its unit with what the
  refusal recorded (``UnitOfWork.keep_answer``): then a retry gets that refusal again; a command that
  recorded no event keeps its 2xx answer in a small transaction of its own.

A retry whose key is known answers at once with ``Idempotent-Replayed: true``: the stored response,
or — only when a command recorded events and then failed — 200 with the ids of the events already
recorded. The same key with a different request is refused with 422. Requests with one key are
serialised within a process, so concurrent retries all get the original response.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any, Protocol
from uuid import uuid4

from kernel.store.keyed import (
    IDEMPOTENCY_KEY_HEADER,
    IdempotencyKeyInUse,
    IdempotencyRecord,
    IdempotentRequest,
)
from kernel.web.asgi import read_body
from kernel.web.problems import field_error, problem_body, send_json

log = logging.getLogger(__name__)

REPLAYED_HEADER = "Idempotent-Replayed"
COMMAND_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MAX_KEY_LENGTH = 200
KEYED_REQUEST = "keyed_request"
"""Where in the request's state (``scope["state"]``) the middleware puts the ``IdempotentRequest``."""

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class IdempotencyStore(Protocol):
    def idempotency_record(self, key: str) -> IdempotencyRecord | None: ...


def keyed_request(scope: Scope) -> IdempotentRequest | None:
    """The keyed command the middleware handed to the route, or None for a command without a key."""
    request: IdempotentRequest | None = scope.get("state", {}).get(KEYED_REQUEST)
    return request


def key_problem(key: str) -> str | None:
    """Why a header value is not a usable key, or None: 1-200 visible ASCII characters."""
    if not 1 <= len(key) <= MAX_KEY_LENGTH:
        return f"{IDEMPOTENCY_KEY_HEADER} 应为 1 至 {MAX_KEY_LENGTH} 个字符"
    if any(not "!" <= character <= "~" for character in key):
        return f"{IDEMPOTENCY_KEY_HEADER} 只能由可见的半角 ASCII 字符组成（不含空格）"
    return None


def owned_key(key: str, scope: Scope) -> str:
    """The key as stored: with access control on, each user has their own keys, so one user's key
    never answers another user's command (nor reveals its response)."""
    principal = scope.get("state", {}).get("principal")
    if principal is None:
        return key
    owner = hashlib.sha256(f"{principal.user}\x00{key}".encode()).hexdigest()
    return f"user:{owner}"


def request_hash(method: str, path: str, query: bytes, content_type: str, body: bytes) -> str:
    """A fingerprint of the command: the same JSON in another key order or a new multipart
    boundary is the same command."""
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode(), query, _canonical_body(content_type, body)):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def _canonical_body(content_type: str, body: bytes) -> bytes:
    media_type = content_type.split(";", 1)[0].strip().lower()
    try:
        if media_type == "application/json" or media_type.endswith("+json"):
            value = json.loads(body)
            return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        if media_type.startswith("multipart/"):
            return _canonical_multipart(content_type, body)
    except (ValueError, TypeError):
        pass
    return body


def _canonical_multipart(content_type: str, body: bytes) -> bytes:
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    )
    if not message.is_multipart():
        raise ValueError("not multipart")
    digest = hashlib.sha256()
    for part in message.iter_parts():
        for piece in (
            str(part.get_param("name", header="content-disposition") or ""),
            str(part.get_filename() or ""),
            part.get_content_type(),
        ):
            digest.update(piece.encode() + b"\0")
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            payload = b""
        digest.update(len(payload).to_bytes(8, "big") + payload)
    return digest.digest()


class IdempotencyMiddleware:
    """ASGI middleware giving every command of a service an optional ``Idempotency-Key``."""

    def __init__(self, app: ASGIApp, store_of: Callable[[Scope], IdempotencyStore]) -> None:
        self.app = app
        self.store_of = store_of
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in COMMAND_METHODS:
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        key = headers.get(IDEMPOTENCY_KEY_HEADER.lower())
        if key is None:
            await self.app(scope, receive, send)
            return
        if problem := key_problem(key):
            await send_json(send, 422, _problem(422, problem, "idempotency.key_invalid", scope))
            return
        sent_key, key = key, owned_key(key, scope)
        body = await read_body(receive)
        if body is None:  # the client went away before sending its command
            return
        request = IdempotentRequest(
            key=key,
            request_hash=request_hash(
                scope["method"],
                scope["path"],
                scope.get("query_string", b""),
                headers.get("content-type", ""),
                body,
            ),
            request_id=str(uuid4()),
        )
        store = self.store_of(scope)
        async with self._serialised(key):
            record = await asyncio.to_thread(store.idempotency_record, key)
            if record is not None:
                await _answer_known(record, request, sent_key, send, scope)
                return
            await self._run(scope, receive, send, body, request, sent_key, store)

    async def _run(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        body: bytes,
        request: IdempotentRequest,
        sent_key: str,
        store: IdempotencyStore,
    ) -> None:
        messages: list[Message] = []
        body_sent = False

        async def replay_body() -> Message:
            nonlocal body_sent
            if not body_sent:
                body_sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        async def capture(message: Message) -> None:
            messages.append(message)

        scope.setdefault("state", {})[KEYED_REQUEST] = request
        try:
            await self.app(scope, replay_body, capture)
        except IdempotencyKeyInUse:
            # Another process recorded this key between our look-up and our commit.
            record = await asyncio.to_thread(store.idempotency_record, request.key)
            if record is None:  # its transaction rolled back after all: the client may retry
                in_use = _problem(409, _in_progress(sent_key), "idempotency.key_in_use", scope)
                await send_json(send, 409, in_use)
            else:
                await _answer_known(record, request, sent_key, send, scope)
            return
        await _answer(store, request, sent_key, messages, send, scope)

    @asynccontextmanager
    async def _serialised(self, key: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)


async def _answer(
    store: IdempotencyStore,
    request: IdempotentRequest,
    sent_key: str,
    messages: list[Message],
    send: Send,
    scope: Scope,
) -> None:
    """Send the command's answer (its unit of work committed it with the events, when it succeeded)."""
    if not _successful(messages):
        # Refused, perhaps because a concurrent request with this key (in another process) was
        # recorded meanwhile: then the client gets that request's answer, as on a retry.
        record = await asyncio.to_thread(store.idempotency_record, request.key)
        if record is not None and record.status is not None and record.request_id != request.request_id:
            await _answer_known(record, request, sent_key, send, scope)
            return
    for message in messages:
        await send(message)


def _successful(messages: list[Message]) -> bool:
    start = next((m for m in messages if m["type"] == "http.response.start"), None)
    return start is not None and 200 <= start["status"] < 300


async def _answer_known(
    record: IdempotencyRecord, request: IdempotentRequest, sent_key: str, send: Send, scope: Scope
) -> None:
    """Answer a key the store knows. Messages name ``sent_key``, the key as the client sent it: the
    stored key (``user:<hash>`` with access control on) is the store's business, not the client's."""
    if record.request_hash != request.request_hash:
        message = f"{IDEMPOTENCY_KEY_HEADER}“{sent_key}”已用于另一个不同的请求；新的命令请使用新的键"
        await send_json(send, 422, _problem(422, message, "idempotency.key_reused", scope))
        return
    replayed = (REPLAYED_HEADER.lower().encode(), b"true")
    if record.status is not None and record.body is not None:
        headers = [(n.encode("latin-1"), v.encode("latin-1")) for n, v in record.headers]
        await send({"type": "http.response.start", "status": record.status, "headers": [*headers, replayed]})
        await send({"type": "http.response.body", "body": record.body})
        return
    content = {
        "idempotency_key": sent_key,
        "event_ids": record.event_ids,
        "detail": ("该命令已被接受，其事件已记录；原来的应答没有保留（original response not kept）"),
    }
    await send_json(send, 200, content, extra=[replayed])


def _in_progress(key: str) -> str:
    return f"使用 {IDEMPOTENCY_KEY_HEADER}“{key}”的请求正在处理，请稍后重试"


def _problem(status: int, message: str, code: str, scope: Scope) -> dict[str, Any]:
    errors = [field_error(IDEMPOTENCY_KEY_HEADER, code, message)]
    return problem_body(status, code, message, errors=errors, instance=scope.get("path"))


def _headers(scope: Scope) -> dict[str, str]:
    return {
        name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope.get("headers", [])
    }
