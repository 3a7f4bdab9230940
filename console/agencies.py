"""Calls to the agencies' HTTP APIs as the signed-in clerk: a short-lived token of theirs on each call.

The console decides no rule: whatever a service answers is what the clerk gets. Refusals come back
as ``Problem`` (the service's problem+json, in Chinese), unreachable services as ``ServiceUnavailable``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

from console.messages import field_of, plain

__all__ = ["AgencyClient", "Answer", "Problem", "ServiceRefused", "ServiceUnavailable"]

SERVICE_NAMES = {
    "survey": "街道康复需求调查系统",
    "assessment": "康复评估系统",
    "approval": "补助申请审批系统",
    "delivery": "康复服务记录系统",
    "settlement": "结算系统",
}

LIST_PAGE = 500
"""The page the console asks for when it reads a whole list (the services' largest page)."""


@dataclass(frozen=True)
class Problem:
    """A service's refusal: status, stable code, the Chinese detail and the messages per field, as a
    clerk reads them (``console.messages.plain``: field names in Chinese, fen as 元); ``body`` as sent."""

    status: int
    code: str
    detail: str
    errors: tuple[tuple[str, str], ...] = ()
    body: Mapping[str, Any] = field(default_factory=dict, compare=False)
    """The whole problem document (a sheet import's report has each error's row and column)."""

    @classmethod
    def of(cls, response: httpx.Response) -> Problem:
        try:
            body = response.json()
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        said = [
            (str(entry.get("field") or ""), str(entry.get("message") or ""))
            for entry in body.get("errors") or []
            if isinstance(entry, dict)
        ]
        errors = tuple((field_of(name), plain(message, name)) for name, message in said)
        detail = str(body.get("detail") or body.get("title") or f"服务返回 {response.status_code}")
        in_fen = next((name for name, _ in said if name.endswith("_fen")), "")
        detail = next((plain(message, name) for name, message in said if message == detail), "") or plain(
            detail, in_fen
        )
        return cls(response.status_code, str(body.get("code") or "unknown"), detail, errors, body)

    def by_field(self) -> dict[str, list[str]]:
        """Messages by form field: ``guardian.phone`` stays, list positions (``needed_items.0``) go."""
        fields: dict[str, list[str]] = {}
        for name, message in self.errors:
            parts = [part for part in name.split(".") if not part.isdigit()]
            fields.setdefault(".".join(parts), []).append(message)
        return fields


class ServiceRefused(Exception):
    """A query was refused (403 another street's person, 404, …)."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.detail)
        self.problem = problem


class ServiceUnavailable(Exception):
    """The agency's service did not answer (down, time-out)."""

    def __init__(self, service: str) -> None:
        super().__init__(f"{SERVICE_NAMES.get(service, service)}暂时无法访问，请稍后再试")
        self.service = service


@dataclass(frozen=True)
class Answer:
    """A command's answer: the body of a success, or the problem of a refusal."""

    status: int
    body: Any = None
    problem: Problem | None = None
    replayed: bool = False

    @property
    def ok(self) -> bool:
        return self.problem is None


@dataclass
class AgencyClient:
    """One HTTP client for every agency; ``token_for(user)`` mints the clerk's token for each call."""

    urls: Mapping[str, str]
    token_for: Callable[[str], str]
    timeout: float = 15.0
    client: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.client = httpx.Client(timeout=self.timeout)

    def close(self) -> None:
        self.client.close()

    def get(
        self,
        service: str,
        path: str,
        *,
        user: str,
        purpose: str,
        params: Mapping[str, Any] | None = None,
        timeout: float | None = None,
    ) -> Any:
        """A query; personal-data reads are audited by the service with ``purpose`` (X-Purpose).

        ``timeout`` (seconds) replaces the client's for a read known to take long (a replay of the
        whole archive); the token minted for the call lives 5 minutes, longer than any such wait."""
        headers = {**self._auth(user), "X-Purpose": quote(purpose, safe="")}
        options: dict[str, Any] = {"headers": headers, "params": _clean(params)}
        if timeout is not None:
            options["timeout"] = timeout
        response = self._send(service, "GET", path, **options)
        if response.status_code >= 400:
            raise ServiceRefused(Problem.of(response))
        return response.json()

    def every(
        self,
        service: str,
        path: str,
        *,
        user: str,
        purpose: str,
        params: Mapping[str, Any] | None = None,
    ) -> list[Any]:
        """Every item of a paged array answer (``limit``/``offset``, ``X-Total-Count``), page after page:
        a worklist of a whole district is longer than one page of 500."""
        found: list[Any] = []
        while True:
            asked = {**(params or {}), "limit": LIST_PAGE, "offset": len(found)}
            answer = self.download(service, path, user=user, purpose=purpose, params=asked)
            items = answer.json()
            found.extend(items)
            if not items or len(found) >= int(answer.headers.get("X-Total-Count", len(found))):
                return found

    def read(self, service: str, path: str, body: Mapping[str, Any], *, user: str, purpose: str) -> Any:
        """A query sent as a POST (its ids do not fit a URL): no Idempotency-Key, since it changes
        nothing and its answer is not to be kept; audited by the service with ``purpose`` (X-Purpose)."""
        headers = {**self._auth(user), "X-Purpose": quote(purpose, safe="")}
        response = self._send(service, "POST", path, headers=headers, json=dict(body))
        if response.status_code >= 400:
            raise ServiceRefused(Problem.of(response))
        return response.json()

    def post(
        self, service: str, path: str, body: Mapping[str, Any], *, user: str, idempotency_key: str
    ) -> Answer:
        """A command, keyed by the form it came from: a double submit records once."""
        headers = {**self._auth(user), "Idempotency-Key": idempotency_key}
        return _answer(self._send(service, "POST", path, headers=headers, json=dict(body)))

    def upload(
        self,
        service: str,
        path: str,
        fields: Mapping[str, str],
        file: tuple[str, bytes, str],
        *,
        user: str,
        idempotency_key: str,
    ) -> Answer:
        """A multipart command (a sheet import): the form's fields and one file."""
        headers = {**self._auth(user), "Idempotency-Key": idempotency_key}
        response = self._send(service, "POST", path, headers=headers, data=dict(fields), files={"file": file})
        return _answer(response)

    def download(
        self,
        service: str,
        path: str,
        *,
        user: str,
        purpose: str | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> httpx.Response:
        """A file the service serves (a template, a statement): its bytes and headers, passed on as they
        are; a file of personal data says why it is read (``purpose``, X-Purpose)."""
        headers = self._auth(user)
        if purpose is not None:
            headers["X-Purpose"] = quote(purpose, safe="")
        response = self._send(service, "GET", path, headers=headers, params=_clean(params))
        if response.status_code >= 400:
            raise ServiceRefused(Problem.of(response))
        return response

    def _auth(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token_for(user)}"}

    def _send(self, service: str, method: str, path: str, **options: Any) -> httpx.Response:
        try:
            return self.client.request(method, self.urls[service] + path, **options)
        except httpx.HTTPError as error:
            raise ServiceUnavailable(service) from error


def _answer(response: httpx.Response) -> Answer:
    replayed = response.headers.get("Idempotent-Replayed") == "true"
    if response.status_code >= 400:
        return Answer(response.status_code, problem=Problem.of(response))
    return Answer(response.status_code, body=response.json() if response.content else None, replayed=replayed)


def _clean(params: Mapping[str, Any] | None) -> dict[str, Any]:
    """Query parameters without the empty ones (an empty filter means no filter)."""
    return {name: value for name, value in (params or {}).items() if value not in (None, "")}
