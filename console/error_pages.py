"""What the clerk's browser shows when a request goes wrong outside a page's own handling, in Chinese: an
unexpected error (500: an error number the log line carries, no trace) and a form over the body limit
(413: a page, not the kernel's problem+json)."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from uuid import uuid4

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.responses import HTMLResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from console.labels import AGENCY_LABELS
from console.web import render
from kernel.web.asgi import header

log = logging.getLogger("console")

FALLBACK = (
    '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>系统出错了</title></head>'
    "<body><h1>系统出错了</h1><p>工作台处理这个请求时出错，没有完成。请返回上一页重试；如果再次出现，"
    '请把错误编号 {number} 告诉系统管理员。</p><p><a href="/">回到工作台</a></p></body></html>'
)
"""The 500 page without templates: when drawing the page is what failed."""

_SAME_SITE_PATH = re.compile(r"^/(?![/\\])[^\s]*$")


def install_error_pages(app: FastAPI, headers: Mapping[str, str]) -> None:
    """A Chinese page for any exception no other handler takes, sent with the console's ``headers``
    (the 500 is answered outside the middleware that adds them to every page)."""

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> Response:
        number = uuid4().hex[:12]
        log.error(
            "unexpected error %s on %s %s (X-Request-ID %s)",
            number,
            request.method,
            request.url.path,
            request.headers.get("x-request-id", "-"),
            exc_info=error,
        )
        try:
            page = render(request, "errors/500.html", 500, error_number=number, back=back_to(request))
        except Exception:  # the page itself cannot be drawn: the same words without the layout
            log.exception("the error page %s could not be drawn", number)
            page = HTMLResponse(FALLBACK.format(number=number), status_code=500)
        return _with(page, headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> Response:
        """A page's address or form FastAPI could not read: a path part that names nothing (a person's
        number that is no UUID) is the Chinese 404 page; anything else a Chinese 400 page, never the
        framework's English JSON."""
        where = {str(entry.get("loc", ("",))[0]) for entry in error.errors() if isinstance(entry, dict)}
        status, (title, message) = (404, NOT_FOUND) if "path" in where else (400, UNREADABLE)
        return _with(render(request, "refused.html", status, title=title, message=message), headers)


NOT_FOUND = ("页面不存在", "没有这个页面：地址可能输错了或已失效，请从工作台的导航进入。")
UNREADABLE = (
    "无法读取提交的内容",
    "这次提交的内容不完整或格式不对，工作台没有处理，也没有保存任何内容。请返回上一页刷新后重新填写。",
)


_WRONG_AGENCY = re.compile(r"^([a-z]+) 的用户不能使用 ([a-z]+) 服务$")


def refusal_text(code: str, detail: str, places: Mapping[str, str] | None = None) -> str:
    """A service's refusal as the clerk reads it: the kernel's "survey 的用户不能使用 settlement 服务"
    (``access.wrong_agency``) names agencies by their codes; the clerk is told in Chinese whose pages these
    are and what to do. A year without task numbers ("liangjiang 没有哪项政策规定 2025 年的任务数") names
    the jurisdiction by its name (``places``: code -> name). Any other refusal is the service's own words."""
    found = _WRONG_AGENCY.match(detail) if code == "access.wrong_agency" else None
    if found is None:
        place, _, rest = detail.partition(" ")
        if code == "settlement.year.no_quotas" and place in (places or {}):
            return f"{(places or {})[place]}{rest}"
        return detail
    mine, theirs = (AGENCY_LABELS.get(agency, "其他单位") for agency in found.groups())
    return (
        f"这些内容属于{theirs}，你的账户属于{mine}，不能查看。请从页面上方的导航进入本单位的页面；"
        "如果工作需要查看这些内容，请联系区残联办的系统管理员调整账户。"
    )


def back_to(request: Request) -> str:
    """The page the clerk came from, when it is one of the console's own (its path); else the start page."""
    referer = request.headers.get("referer", "")
    origin = f"{request.url.scheme}://{request.url.netloc}"
    if referer.startswith(origin):
        path = referer[len(origin) :]
        if _SAME_SITE_PATH.match(path):
            return path
    return "/"


def _with(response: Response, headers: Mapping[str, str]) -> Response:
    response.headers.update(headers)
    response.headers["Cache-Control"] = "no-store"
    return response


class FormTooLargePage:
    """ASGI middleware outside the body limit: a browser (``Accept: text/html``) refused a body over the
    limit is shown a Chinese page instead of the kernel's problem+json; other clients keep the problem."""

    def __init__(self, app: ASGIApp, headers: Mapping[str, str]) -> None:
        self.app = app
        self.headers = headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or "text/html" not in (header(scope, b"accept") or ""):
            await self.app(scope, receive, send)
            return
        replaced = False

        async def replacing(message: Message) -> None:
            nonlocal replaced
            if message["type"] == "http.response.start" and message["status"] == 413:
                replaced = True
            if not replaced:
                await send(message)

        await self.app(scope, receive, replacing)
        if replaced:
            request = Request(scope)
            upload = (header(scope, b"content-type") or "").lower().startswith("multipart/form-data")
            page = render(request, "errors/413.html", 413, back=back_to(request), upload=upload)
            page.headers["Connection"] = "close"  # the browser may still be sending: the rest is not read
            await _with(page, self.headers)(scope, receive, send)
