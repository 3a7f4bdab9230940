"""HTTP access control every service shares: bearer tokens, the agency's own API only, read-only
auditors, and an audit entry for every read of personal data (routes marked `x-personal-data`).

Per-route rules (whose street, which institution, which sign-off role) live in each service's API,
with the scope helpers in kernel/access/scopes.py; this module decides who may call the service.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import unquote

from fastapi import Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kernel.access.audit import PURPOSE_NOT_STATED, AuditEntry, AuditTrail, control_characters, printable
from kernel.access.auth import AUDIT, Agency, Principal, Role, TokenRejected, TokenVerifier
from kernel.domain.rejections import CommandRejected
from kernel.masking import mask_personal_data
from kernel.web.errors import problem
from kernel.web.problems import PROBLEM_MEDIA_TYPE, field_error, problem_body

__all__ = [
    "OTHER_AGENCIES",
    "PERSONAL_DATA",
    "QUERY_BY_POST",
    "AccessControl",
    "Caller",
    "Forbidden",
    "install_access_control",
    "require_role",
]

OPEN_PATHS = frozenset(
    {
        "/health",
        "/health/live",
        "/health/ready",
        "/metrics",
        "/docs",
        "/docs/oauth2-redirect",
        "/redoc",
        "/openapi.json",
    }
)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
READS = frozenset({"GET", "HEAD"})
"""The methods whose success on a personal-data route is an audited read: a HEAD runs the GET, and its
status and Content-Length tell as much as a look (registered or not, how much is kept)."""
PURPOSE_HEADER = "X-Purpose"

PERSONAL_DATA = {"x-personal-data": True}
"""`openapi_extra` of a route whose answer carries personal data: each successful read is audited."""

OTHER_AGENCIES = {"x-other-agencies": True}
"""`openapi_extra` of a route that authorises callers of other agencies itself (e.g. data-key release)."""

QUERY_BY_POST = {"x-query-by-post": True}
"""`openapi_extra` of a POST that only reads (its ids do not fit a URL): read-only auditors may send it."""


class Forbidden(CommandRejected):
    """The caller is authenticated but may not do this (HTTP 403)."""

    status_code = 403

    def __init__(self, message: str, *, code: str = "access.forbidden") -> None:
        super().__init__(message, code=code)


@dataclass(frozen=True)
class AccessControl:
    """What one service checks: whose tokens it trusts, which agency it is, where it audits.

    ``audit`` None: the trail in the service's own store, ``app.state.audit_trail``, set when it starts.
    ``command_scopes``: scope kinds allowed to send commands at all (empty: any, the API decides).
    """

    agency: Agency
    verifier: TokenVerifier
    audit: AuditTrail | None = None
    command_scopes: frozenset[str] = frozenset()


def install_access_control(app: FastAPI, access: AccessControl) -> None:
    """Every request except health and API docs must carry a valid token of this agency or an auditor."""
    app.state.access = access
    app.add_middleware(Authentication, access=access)


class Authentication:
    """ASGI middleware: who is calling (``request.state.principal``), refused before any route when not
    allowed; a successful read of personal data is audited before its answer leaves (its status known).

    Plain ASGI rather than ``@app.middleware("http")``: Starlette's ``BaseHTTPMiddleware`` runs the rest
    of the app in a task of its own and streams the answer back through memory streams, which cost every
    request more than checking its token (issue 17).
    """

    def __init__(self, app: ASGIApp, access: AccessControl) -> None:
        self.app = app
        self.access = access

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        if request.url.path in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        checked = self._caller(request)
        if isinstance(checked, Response):  # refused before any route
            await checked(scope, receive, send)
            return
        principal = checked
        request.state.principal = principal

        async def send_audited(message: Message) -> None:
            if message["type"] == "http.response.start":
                status = int(message["status"])
                if _reads_personal_data(request, status):  # a database write: off the event loop
                    entry = audit_entry(request, principal, status)
                    await asyncio.to_thread(audit_trail_of(request).record, entry)
            await send(message)

        await self.app(scope, receive, send_audited)

    def _caller(self, request: Request) -> Principal | Response:
        """The authorised caller, or the answer refusing the request."""
        try:
            principal = _authorised(request, self.access)
        except TokenRejected as rejected:
            return unauthenticated(rejected, request.url.path)
        except Forbidden as forbidden:
            return problem(403, forbidden.message, field=None, code=forbidden.code, instance=request.url.path)
        if unprintable := control_characters(_purpose_sent(request)):
            return _purpose_refused(unprintable, request.url.path)
        return principal


def unauthenticated(rejected: TokenRejected, instance: str) -> Response:
    """401 ``access.unauthenticated`` (what programs match on), the token's fault named at
    ``Authorization`` with its own code (``access.token_expired``, ...) and a Chinese reason."""
    message = f"未通过身份验证：{rejected.message}"
    errors = [field_error("Authorization", rejected.code, message)]
    body = problem_body(401, "access.unauthenticated", message, errors=errors, instance=instance)
    headers = {"WWW-Authenticate": 'Bearer realm="rehab"'}
    return JSONResponse(body, status_code=401, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def audit_trail_of(request: Request) -> AuditTrail:
    """The trail this app's reads of personal data go to: access control's own, or the service store's."""
    access: AccessControl | None = getattr(request.app.state, "access", None)
    trail: AuditTrail = (access.audit if access is not None else None) or request.app.state.audit_trail
    return trail


def _authorised(request: Request, access: AccessControl) -> Principal:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        message = "请求缺少 Authorization: Bearer <令牌>（请先登录，或用 rehab token 签发）"
        raise TokenRejected(message, code="access.token_missing")
    principal = access.verifier.verify(token.strip(), now=datetime.now(UTC))
    own = principal.agency in (access.agency, AUDIT)
    if not own and not _route_extra(request).get("x-other-agencies"):
        raise Forbidden(f"{principal.agency} 的用户不能使用 {access.agency} 服务", code="access.wrong_agency")
    if request.method in SAFE_METHODS or _route_extra(request).get("x-query-by-post"):
        return principal
    if principal.read_only:
        raise Forbidden("审计人员只能查阅，不能提交或修改", code="access.read_only")
    if access.command_scopes and principal.scope.kind not in access.command_scopes:
        allowed = "、".join(sorted(access.command_scopes))
        raise Forbidden(
            f"{access.agency} 服务的命令只能由以下范围的用户提交：{allowed}（你的范围：{principal.scope}）",
            code="access.command_scope",
        )
    return principal


def _route_extra(request: Request) -> dict[str, object]:
    """The `openapi_extra` of the route the request will reach (routing has not run yet); {} if unknown."""
    scope = request.scope
    if scope.get("method") == "HEAD":  # answered by the path's GET route (kernel.web.methods): its rules
        scope = {**scope, "method": "GET"}
    route = _matching_route(request.app.router.routes, scope)
    return getattr(route, "openapi_extra", None) or {}


def _matching_route(routes: list[BaseRoute], scope: Scope) -> BaseRoute | None:
    for route in routes:
        match, _ = route.matches(scope)
        if match is not Match.FULL:
            continue
        # FastAPI keeps an included router as one route; its private _match names the route inside.
        inner = getattr(route, "_match", None)
        if inner is None:
            return route
        try:
            found = inner(scope)[2]
        except (TypeError, IndexError, ValueError):  # another FastAPI: unknown, so treated as unmarked
            return None
        return found if found is not route and hasattr(found, "openapi_extra") else None
    return None


def _reads_personal_data(request: Request, status: int) -> bool:
    route = request.scope.get("route")
    extra = getattr(route, "openapi_extra", None) or {}
    return request.method in READS and status < 400 and bool(extra.get("x-personal-data"))


def audit_entry(
    request: Request, principal: Principal, status: int, subject: str | None = None
) -> AuditEntry:
    """Who read whose data (the route's person or application unless ``subject`` names it), when and why."""
    if subject is None:
        parameters = request.path_params
        subject = str(parameters.get("person_id") or parameters.get("application_id") or request.url.path)
    purpose = _purpose_sent(request).strip()[:200] or PURPOSE_NOT_STATED
    action = mask_personal_data(f"{request.method} {request.url.path}?{request.url.query}".rstrip("?"))
    # Every text field is stored with control characters escaped, so no row can forge another (issue 14).
    return AuditEntry(
        read_at=datetime.now(UTC),
        user=printable(principal.user),
        agency=str(principal.agency),
        roles=",".join(sorted(principal.roles)),
        scope=printable(str(principal.scope)),
        action=printable(action)[:300],
        subject=printable(subject)[:100],
        purpose=printable(purpose),
        status=status,
    )


def _purpose_sent(request: Request) -> str:
    """The ``X-Purpose`` header decoded: header values are ASCII on the wire, so the purpose comes
    percent-encoded (encodeURIComponent)."""
    return unquote(request.headers.get(PURPOSE_HEADER, ""))


def _purpose_refused(unprintable: list[str], instance: str) -> Response:
    """An ``X-Purpose`` holding control characters could forge rows of `rehab audit` (issue 14)."""
    shown = "、".join(dict.fromkeys(unprintable))
    return problem(
        422,
        f"{PURPOSE_HEADER} 含有控制字符或不可见字符（{shown}），请只写查阅目的的文字",
        field=PURPOSE_HEADER,
        code="request.control_character",
        instance=instance,
    )


def caller_of(request: Request) -> Principal | None:
    """The authenticated caller, or None when the service runs without access control (tests, demo)."""
    return getattr(request.state, "principal", None)


async def _caller(request: Request) -> Principal | None:
    return caller_of(request)  # ``async``: a plain function would run in the thread pool (kernel.http)


Caller = Annotated[Principal | None, Depends(_caller)]


def require_role(caller: Principal | None, *roles: Role) -> None:
    """Refuse (403) a caller holding none of `roles`; no caller means access control is off."""
    if caller is not None and not caller.has_role(*roles):
        wanted = "、".join(str(role) for role in roles)
        raise Forbidden(f"需要以下角色之一：{wanted}", code="access.role_required")
