"""What every console page shares: who is signed in, CSRF, forms kept across a login, rendering."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from console.agencies import AgencyClient, Answer, Problem, ServiceUnavailable
from console.passwords import Credentials
from console.sessions import FormFields, Session, Sessions
from console.settings import ConsoleSettings
from kernel.access.auth import Agency, Scope
from kernel.domain.clock import today
from rehab.users import User, UserDirectory

__all__ = [
    "CSRF_FIELD",
    "SESSION_COOKIE",
    "Clerk",
    "Console",
    "CsrfRefused",
    "FormValues",
    "LoginRequired",
    "Posted",
    "Redirect",
    "clerk",
    "posted",
]

SESSION_COOKIE = "rehab_console_session"
CSRF_FIELD = "csrf_token"
FORM_KEY_FIELD = "form_key"
OPEN_WHILE_CHANGING = frozenset({"/password", "/logout"})


@dataclass
class Console:
    """The console's parts, built once in create_console_app."""

    settings: ConsoleSettings
    credentials: Credentials
    sessions: Sessions
    directory: UserDirectory
    agencies: AgencyClient
    templates: Jinja2Templates

    def user(self, name: str) -> User | None:
        """The directory's record of an enabled user, read at every request (a disabled user is out)."""
        for user in self.directory.users():
            if user.name == name:
                return user if user.enabled else None
        return None

    def year(self) -> int:
        return self.settings.console_year or today().year  # the year in Beijing, as the services count


def console_of(request: Request) -> Console:
    console: Console = request.app.state.console
    return console


def now() -> datetime:
    return datetime.now(UTC)


class LoginRequired(Exception):
    """No active session: to the login page, then back to ``next_path`` (with a kept form, if any)."""

    def __init__(self, next_path: str, kept: str | None = None, reason: str = "") -> None:
        super().__init__(next_path)
        self.next_path = next_path
        self.kept = kept
        self.reason = reason

    def location(self) -> str:
        query = {"next": self.next_path, "kept": self.kept or "", "reason": self.reason}
        return "/login?" + urlencode({name: value for name, value in query.items() if value})


class Redirect(Exception):
    def __init__(self, location: str) -> None:
        super().__init__(location)
        self.location = location


class CsrfRefused(Exception):
    """A form without this session's token: never acted upon."""


@dataclass(frozen=True)
class Clerk:
    """The signed-in user: their directory record and session."""

    user: User
    session: Session

    @property
    def name(self) -> str:
        return self.user.name

    @property
    def agency(self) -> Agency:
        return self.user.agency

    @property
    def scope(self) -> Scope:
        return self.user.scope

    @property
    def street(self) -> str | None:
        """The street of a street or community scope; None for the district."""
        if self.scope.kind in ("street", "community"):
            return self.scope.value.split("/", 1)[0]
        return None

    @property
    def community(self) -> str | None:
        if self.scope.kind == "community":
            return self.scope.value.split("/", 1)[1]
        return None


def _active_clerk(request: Request) -> Clerk | None:
    console = console_of(request)
    lookup = console.sessions.find(request.cookies.get(SESSION_COOKIE), now())
    if lookup.active is None:
        return None
    user = console.user(lookup.active.user)
    if user is None:
        console.sessions.end(lookup.active, now())
        return None
    if request.url.path not in OPEN_WHILE_CHANGING and console.credentials.must_change(user.name):
        raise Redirect("/password?" + urlencode({"next": _here(request)}))
    return Clerk(user, lookup.active)


def _here(request: Request) -> str:
    return request.url.path + (f"?{request.url.query}" if request.url.query else "")


def clerk(request: Request) -> Clerk:
    """Dependency of every page: the signed-in clerk, else to the login page and back here."""
    signed_in = _active_clerk(request)
    if signed_in is None:
        raise LoginRequired(_here(request), reason="请先登录")
    request.state.clerk = signed_in
    return signed_in


@dataclass(frozen=True)
class FormValues:
    """What a form holds, as typed (several values for check boxes)."""

    pairs: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, values: dict[str, Any]) -> FormValues:
        pairs: list[tuple[str, str]] = []
        for name, value in values.items():
            if isinstance(value, list | tuple):
                pairs.extend((name, str(item)) for item in value)
            elif value is not None:
                pairs.append((name, str(value)))
        return cls(tuple(pairs))

    def get(self, name: str, default: str = "") -> str:
        for key, value in self.pairs:
            if key == name:
                return value
        return default

    def all(self, name: str) -> list[str]:
        return [value for key, value in self.pairs if key == name]

    def has(self, name: str, value: str) -> bool:
        return (name, value) in self.pairs

    def without(self, *names: str) -> FormValues:
        return FormValues(tuple(pair for pair in self.pairs if pair[0] not in names))


@dataclass(frozen=True)
class Posted:
    """A form a signed-in clerk sent, its CSRF token checked."""

    clerk: Clerk
    form: FormValues
    form_key: str = field(default="")


async def posted(request: Request) -> Posted:
    """Dependency of every form POST: CSRF checked; an expired session keeps the form through the login.

    The session is looked up before the body is read: without one (or with an expired one sending an
    upload, which could not be kept) the body is never parsed."""
    console = console_of(request)
    lookup = console.sessions.find(request.cookies.get(SESSION_COOKIE), now())
    if lookup.active is None:
        kept = None
        expired = lookup.expired
        if expired is not None and not _multipart(request):
            fields = await _fields(request)
            token = next((value for name, value in fields if name == CSRF_FIELD), "")
            if secrets.compare_digest(token, expired.csrf):
                kept_fields = [(name, value) for name, value in fields if name != CSRF_FIELD]
                kept = console.sessions.keep_form(expired.user, request.url.path, kept_fields, now())
        reason = "登录已超时，请重新登录；填写的内容已保留" if kept else "登录已超时，请重新登录"
        raise LoginRequired(request.url.path, kept, reason=reason)
    signed_in = clerk(request)
    fields = await _fields(request)
    token = next((value for name, value in fields if name == CSRF_FIELD), "")
    if not secrets.compare_digest(token, signed_in.session.csrf):
        raise CsrfRefused()
    form = FormValues(tuple(fields)).without(CSRF_FIELD)
    return Posted(signed_in, form, form.get(FORM_KEY_FIELD))


async def _fields(request: Request) -> FormFields:
    data = await request.form()
    return [(name, value) for name, value in data.multi_items() if isinstance(value, str)]


def _multipart(request: Request) -> bool:
    return request.headers.get("content-type", "").lower().startswith("multipart/form-data")


def kept_form(request: Request, signed_in: Clerk) -> FormValues | None:
    """The form kept when this clerk's session expired, if the page was opened to resume it."""
    kept = request.query_params.get("kept")
    if not kept:
        return None
    fields = console_of(request).sessions.take_form(kept, signed_in.name, request.url.path, now())
    return FormValues(tuple(fields)) if fields is not None else None


def new_form_key() -> str:
    """The Idempotency-Key of one rendered form: submitting it twice records once."""
    return secrets.token_urlsafe(16)


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> Response:
    console = console_of(request)
    signed_in: Clerk | None = getattr(request.state, "clerk", None)
    context.setdefault("clerk", signed_in)
    context.setdefault("csrf_token", signed_in.session.csrf if signed_in else "")
    return console.templates.TemplateResponse(request, template, context, status_code=status_code)


def render_answer(request: Request, template: str, problem: Problem | None, **context: Any) -> Response:
    """A page with a form: 200 when first shown; when the service refused it, the service's status, its
    problem at the top and its errors at their fields (``errors`` when given, already rearranged)."""
    context.setdefault("errors", problem.by_field() if problem is not None else {})
    status = problem.status if problem is not None else 200
    return render(request, template, status, problem=problem, **context)


def send_form(request: Request, sent: Posted, agency: str, path: str, body: dict[str, Any]) -> Answer:
    """Send a form's command to an agency with the form's Idempotency-Key; a service that does not answer
    leaves the form as typed (503 at the top), to be sent again without being recorded twice."""
    try:
        return console_of(request).agencies.post(
            agency, path, body, user=sent.clerk.name, idempotency_key=sent.form_key or new_form_key()
        )
    except ServiceUnavailable as unavailable:
        message = f"{unavailable}。填写的内容仍在本页，可稍后再次提交（不会重复记录）。"
        return Answer(503, problem=Problem(503, "console.service_unavailable", message))


SignedIn = Annotated[Clerk, Depends(clerk)]
Sent = Annotated[Posted, Depends(posted)]
