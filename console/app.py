"""The console's composition root: its store, the user directory, the agencies' client, pages and assets."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import RedirectResponse, Response

from console import labels, messages
from console.agencies import SERVICE_NAMES, AgencyClient, ServiceRefused, ServiceUnavailable
from console.approval.pages import router as approval_router
from console.assessment.pages import router as assessment_router
from console.assets import router as assets_router
from console.dashboards.pages import router as dashboards_router
from console.delivery.pages import router as delivery_router
from console.error_pages import FormTooLargePage, install_error_pages, refusal_text
from console.login import router as login_router
from console.passwords import Credentials, LoginPolicy
from console.person.pages import router as person_router
from console.printing.pages import router as printing_router
from console.sessions import Sessions
from console.settings import ConsoleSettings
from console.settlement.pages import router as settlement_router
from console.store import create_console_engine
from console.street.imports import router as import_router
from console.street.pages import router as street_router
from console.web import Console, CsrfRefused, LoginRequired, Redirect, SignedIn, render
from kernel.access.auth import AUDIT
from kernel.reference import load_jurisdiction
from kernel.reference.jurisdiction import deployment_reference
from kernel.reference.pack import every_pack
from kernel.web.limits import DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_UPLOAD_BYTES, BodyLimit
from rehab.users import UserDirectory

HERE = Path(__file__).resolve().parent
HOMES = {
    "survey": "/street",
    "approval": "/approval",
    "assessment": "/assessment",
    "delivery": "/delivery",
    "settlement": "/settlement",
    AUDIT: "/settlement",
}
"""Each agency's first page; agencies without pages yet see the console's own start page."""

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def create_console_app(settings: ConsoleSettings | None = None) -> FastAPI:
    settings = settings or ConsoleSettings()
    engine = create_console_engine(settings.store_url)
    directory = UserDirectory(settings.user_directory)
    lifetime = timedelta(minutes=settings.console_token_minutes)
    console = Console(
        settings=settings,
        credentials=Credentials(
            engine,
            LoginPolicy(
                backoff=timedelta(seconds=settings.console_login_backoff_seconds),
                lockout_failures=settings.console_lockout_failures,
                lockout=timedelta(minutes=settings.console_lockout_minutes),
            ),
        ),
        sessions=Sessions(engine, idle=settings.idle_timeout, lifetime=settings.session_lifetime),
        directory=directory,
        agencies=AgencyClient(
            settings.service_urls(), lambda user: directory.issue_token(user, lifetime=lifetime)
        ),
        templates=_templates(),
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            console.agencies.close()
            engine.dispose()

    app = FastAPI(title="康复服务工作台", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.console = console
    app.state.jurisdiction = jurisdiction = load_jurisdiction(deployment_reference())
    places = {jurisdiction.jurisdiction: jurisdiction.name}
    console.templates.env.filters["refusal"] = lambda problem: refusal_text(
        problem.code, problem.detail, places
    )
    app.state.policy_titles = policy_titles()
    names = {institution.id: institution.name for institution in jurisdiction.assessment_institutions}
    names.update({institution.id: institution.name for institution in jurisdiction.service_institutions})
    console.templates.env.globals["scope_label"] = lambda scope: labels.scope_label(scope, names)
    catalogue = labels.catalogue_of(jurisdiction)
    console.templates.env.globals["offered_items"] = lambda chosen=(): labels.offered(catalogue, chosen)
    _install_handlers(app)
    app.mount("/static/console", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(assets_router)
    app.include_router(login_router)
    app.include_router(street_router)
    app.include_router(import_router)
    app.include_router(approval_router)
    app.include_router(assessment_router)
    app.include_router(delivery_router)
    app.include_router(settlement_router)
    app.include_router(person_router)
    app.include_router(printing_router)
    app.include_router(dashboards_router)

    @app.get("/")
    def home(request: Request, clerk: SignedIn) -> Response:
        if home := HOMES.get(clerk.agency):
            return RedirectResponse(home, status_code=303)
        return render(request, "home.html")

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"service": "console", "status": "ok"}

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        response.headers.update(SECURITY_HEADERS)
        if response.headers.get("content-type", "").startswith("application/pdf"):
            # A PDF runs no script; the browser's built-in viewer is itself a plugin that
            # object-src 'none' may block, so a printed form is sent without the page policy.
            del response.headers["Content-Security-Policy"]
        if not request.url.path.startswith("/static/"):
            response.headers["Cache-Control"] = "no-store"  # pages carry personal data
        return response

    # Outermost: a body over the kernel's limits (1 MiB a form, 16 MiB an upload) is refused unread.
    app.add_middleware(
        BodyLimit, max_body_bytes=DEFAULT_MAX_BODY_BYTES, max_upload_bytes=DEFAULT_MAX_UPLOAD_BYTES
    )
    app.add_middleware(FormTooLargePage, headers=SECURITY_HEADERS)  # the browser's 413 as a page
    return app


def policy_titles() -> dict[str, str]:
    """Every policy's title by its id (the dashboards' notes name a policy by its title, not its id)."""
    return {policy.view.id: policy.view.title for pack in every_pack() for policy in pack.policies}


def _templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=HERE / "templates")
    environment = templates.env
    environment.filters["cn_date"] = labels.cn_date
    environment.filters["labels"] = labels.labels_of
    environment.filters["yuan"] = labels.yuan
    environment.filters["area"] = labels.area_name
    environment.filters["plain"] = messages.plain  # a service's kept reason, as Problem.of shows one
    environment.globals.update(
        SEX=labels.SEX_LABELS,
        CATEGORIES=labels.CATEGORY_LABELS,
        GRADES=labels.GRADE_LABELS,
        ECONOMIC=labels.ECONOMIC_LABELS,
        SUBTYPES=labels.SUBTYPE_LABELS,
        HARDSHIPS=labels.HARDSHIP_LABELS,
        INSURANCE=labels.INSURANCE_LABELS,
        ITEMS=labels.ITEM_LABELS,
        AGENCIES=labels.AGENCY_LABELS,
        ROLES=labels.ROLE_LABELS,
        STATUSES=labels.STATUS_LABELS,
        BLOCKS=labels.BLOCK_LABELS,
        SIGNERS=labels.SIGNER_LABELS,
        SUBSIDIES=labels.SUBSIDY_LABELS,
        ATTACHMENTS=labels.ATTACHMENT_LABELS,
        scope_label=labels.scope_label,
    )
    return templates


HTTP_PAGES = {
    404: ("页面不存在", "没有这个页面：地址可能输错了，请从工作台的导航进入。"),
    405: ("无法这样打开", "这个地址只接受表单提交，请从页面上的按钮进入。"),
    413: ("提交的内容太大", "这次提交超过了工作台的上限，没有读取，也没有保存任何内容。请删减后重试。"),
}
"""The console's own answers for an address it does not serve, as a page in Chinese (not JSON)."""


def _install_handlers(app: FastAPI) -> None:
    install_error_pages(app, SECURITY_HEADERS)  # any other exception: a Chinese 500 page with its number

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        title, message = HTTP_PAGES.get(error.status_code, ("无法完成", str(error.detail)))
        return render(request, "refused.html", error.status_code, title=title, message=message)

    @app.exception_handler(LoginRequired)
    async def to_login(request: Request, error: LoginRequired) -> Response:
        if request.headers.get("HX-Request"):
            return Response(status_code=401, headers={"HX-Redirect": error.location()})
        return RedirectResponse(error.location(), status_code=303)

    @app.exception_handler(Redirect)
    async def redirect(_request: Request, error: Redirect) -> Response:
        return RedirectResponse(error.location, status_code=303)

    @app.exception_handler(CsrfRefused)
    async def csrf(request: Request, _error: CsrfRefused) -> Response:
        message = "表单校验码不符（页面可能已过期或来自其他网站），未作任何处理。请返回刷新页面后重试。"
        return render(request, "refused.html", 403, title="请求已拒绝", message=message)

    @app.exception_handler(ServiceRefused)
    async def refused(request: Request, error: ServiceRefused) -> Response:
        titles = {403: "无权查看", 404: "未找到", 401: "工作台配置有误"}
        title = titles.get(error.problem.status, "无法完成")
        return render(
            request,
            "refused.html",
            error.problem.status,
            title=title,
            message=refusal_text(
                error.problem.code,
                error.problem.detail,
                {request.app.state.jurisdiction.jurisdiction: request.app.state.jurisdiction.name},
            ),
        )

    @app.exception_handler(ServiceUnavailable)
    async def unavailable(request: Request, error: ServiceUnavailable) -> Response:
        title = f"{SERVICE_NAMES.get(error.service, error.service)}暂时无法访问"
        return render(request, "refused.html", 503, title=title, message=str(error))
