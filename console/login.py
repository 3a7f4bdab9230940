"""登录 / 退出 / 修改密码: the pages that let a clerk in and out."""

from __future__ import annotations

import secrets
from typing import Annotated
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from console.passwords import LoginRefused, password_problem
from console.web import SESSION_COOKIE, Clerk, Sent, SignedIn, console_of, now, render

router = APIRouter()

LOGIN_CSRF_COOKIE = "rehab_console_login"


def safe_next(target: str | None) -> str:
    """Only a path of this console (never another site) to go back to after signing in."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    if any(ord(character) < 0x20 or ord(character) == 0x7F for character in target):
        return "/"  # urlsplit drops tabs and newlines: "/\t/evil.example" would become "//evil.example"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/"):
        return "/"
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _with_kept(target: str, kept: str | None) -> str:
    if not kept:
        return target
    joiner = "&" if "?" in target else "?"
    return f"{target}{joiner}{urlencode({'kept': kept})}"


def _secure(request: Request) -> bool:
    configured = console_of(request).settings.console_secure_cookies
    return configured if configured is not None else request.url.scheme == "https"


@router.get("/login")
def login_page(request: Request, next: str = "/", kept: str = "", reason: str = "") -> Response:
    token = secrets.token_urlsafe(32)
    response = render(
        request, "login.html", next=safe_next(next), kept=kept, message=reason, login_token=token, username=""
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=_secure(request), path="/login"
    )
    return response


@router.post("/login")
def login(
    request: Request,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    login_token: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
    kept: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not secrets.compare_digest(expected, login_token):
        return render(
            request, "refused.html", 403, title="请求已拒绝", message="登录表单已失效，请刷新页面后重新登录。"
        )
    console = console_of(request)
    username = username.strip()
    try:
        console.credentials.check(username, password, now())
        if console.user(username) is None:  # disabled or removed from the directory
            raise LoginRefused("用户名或密码错误")
    except LoginRefused as refused:
        token = secrets.token_urlsafe(32)
        response = render(
            request,
            "login.html",
            401,
            next=safe_next(next),
            kept=kept,
            error=refused.message,
            login_token=token,
            username=username,
        )
        response.set_cookie(
            LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=_secure(request), path="/login"
        )
        return response
    previous = console.sessions.find(request.cookies.get(SESSION_COOKIE), now()).active
    if previous is not None:  # a new login never continues an old session (no fixation)
        console.sessions.end(previous, now())
    cookie, _session = console.sessions.start(username, now())
    target = _with_kept(safe_next(next), kept)
    if console.credentials.must_change(username):
        target = "/password?" + urlencode({"next": target})
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE, cookie, httponly=True, samesite="lax", secure=_secure(request), path="/"
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(request: Request, sent: Sent) -> Response:
    console_of(request).sessions.end(sent.clerk.session, now())
    response = RedirectResponse("/login?" + urlencode({"reason": "已安全退出"}), status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/password")
def password_page(request: Request, clerk: SignedIn, next: str = "/") -> Response:
    return _password_form(request, clerk, safe_next(next))


@router.post("/password")
def change_password(request: Request, sent: Sent) -> Response:
    form, clerk = sent.form, sent.clerk
    target = safe_next(form.get("next"))
    new = form.get("new_password")
    errors: dict[str, list[str]] = {}
    if new != form.get("repeat_password"):
        errors["repeat_password"] = ["两次输入的新密码不一致"]
    elif problem := password_problem(clerk.name, new):
        errors["new_password"] = [problem]
    if not errors:
        try:
            console_of(request).credentials.change(clerk.name, form.get("current_password"), new, now())
            # Whoever else signed in with the old password is signed out (kept: the session changing it).
            console_of(request).sessions.end_all(clerk.name, now(), keep=clerk.session)
        except LoginRefused as refused:
            field = (
                "new_password"
                if "新密码" in refused.message or "密码至少" in refused.message
                else "current_password"
            )
            errors[field] = [refused.message]
    if errors:
        return _password_form(request, clerk, target, errors, 422)
    return RedirectResponse(target, status_code=303)


def _password_form(
    request: Request, clerk: Clerk, target: str, errors: dict[str, list[str]] | None = None, status: int = 200
) -> Response:
    must = console_of(request).credentials.must_change(clerk.name)
    return render(request, "password.html", status, next=target, errors=errors or {}, must_change=must)
