"""Every service's API documentation (Swagger UI at /docs, ReDoc at /redoc) from locally served assets.

FastAPI's own pages load Swagger UI, ReDoc and Google Fonts from CDNs, which an intranet cannot reach
(a blank page). The assets come from npm packages that `scripts/setup` installs into ``node_modules``
(or ``$REHAB_ASSETS_DIR``); a middleware serves the two pages and their files ahead of access control,
since they carry no data (the OpenAPI document itself is already public at /openapi.json).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from starlette.responses import FileResponse, PlainTextResponse, Response

from kernel.config import RehabSettings

__all__ = ["ASSETS_VARIABLE", "ApiDocs", "asset_file", "assets_dir", "install_api_docs"]

ASSETS_VARIABLE = "REHAB_ASSETS_DIR"
"""Environment variable naming the folder of npm packages (default: node_modules at the project root)."""

ASSETS_PATH = "/docs/assets/"
DOCS_ASSETS = {
    "swagger-ui-bundle.js": ("swagger-ui-dist", "swagger-ui-bundle.js"),
    "swagger-ui.css": ("swagger-ui-dist", "swagger-ui.css"),
    "favicon.png": ("swagger-ui-dist", "favicon-32x32.png"),
    "redoc.standalone.js": ("redoc", "bundles/redoc.standalone.js"),
}
"""What the docs pages load: the name served under /docs/assets/ -> (npm package, file in it)."""

DOCS_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' blob:; worker-src 'self' blob:; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'"
)
"""The pages' Content-Security-Policy: nothing from another site, not even ReDoc's own logo (a CDN)."""

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class ApiDocsSettings(RehabSettings):
    """Where the API documentation's scripts and styles are served from."""

    assets_dir: Path | None = None
    """``REHAB_ASSETS_DIR``: the folder of the npm packages; default ``node_modules`` of the checkout."""


def assets_dir() -> Path:
    """The folder holding the npm packages the project serves itself."""
    configured = ApiDocsSettings().assets_dir
    return configured or Path(__file__).resolve().parents[2] / "node_modules"


def asset_file(package: str, name: str) -> Path:
    """One file of an installed npm package (it may be missing: scripts/setup installs them)."""
    return assets_dir() / package / name


def missing_asset(path: Path) -> Response:
    """Why a page has no script: say what to run rather than fall back to a CDN."""
    return PlainTextResponse(
        f"{path} 不存在：请运行 scripts/setup 安装本地前端资源（npm ci）", status_code=503
    )


class ApiDocs:
    """ASGI middleware answering GET /docs, /redoc and /docs/assets/<file>; everything else passes on."""

    def __init__(self, app: ASGIApp, *, title: str, openapi_url: str = "/openapi.json") -> None:
        self.app = app
        self.title = title
        self.openapi_url = openapi_url

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        reading = scope["type"] == "http" and scope["method"] in ("GET", "HEAD")
        response = self._page(scope) if reading else None
        if response is None:
            await self.app(scope, receive, send)
            return
        await response(scope, receive, send)

    def _page(self, scope: Scope) -> Response | None:
        path: str = scope["path"]
        if path == "/docs":
            return _local_only(
                get_swagger_ui_html(
                    openapi_url=self.openapi_url,
                    title=f"{self.title} - Swagger UI",
                    swagger_js_url=ASSETS_PATH + "swagger-ui-bundle.js",
                    swagger_css_url=ASSETS_PATH + "swagger-ui.css",
                    swagger_favicon_url=ASSETS_PATH + "favicon.png",
                    swagger_ui_parameters={"validatorUrl": None},  # no badge fetched from swagger.io
                )
            )
        if path == "/redoc":
            return _local_only(
                get_redoc_html(
                    openapi_url=self.openapi_url,
                    title=f"{self.title} - ReDoc",
                    redoc_js_url=ASSETS_PATH + "redoc.standalone.js",
                    redoc_favicon_url=ASSETS_PATH + "favicon.png",
                    with_google_fonts=False,
                )
            )
        if path.startswith(ASSETS_PATH):
            return _asset(path.removeprefix(ASSETS_PATH))
        return None


def _local_only(page: Response) -> Response:
    page.headers["Content-Security-Policy"] = DOCS_POLICY
    return page


def _asset(name: str) -> Response:
    if name not in DOCS_ASSETS:
        return PlainTextResponse("not found", status_code=404)
    file = asset_file(*DOCS_ASSETS[name])
    if not file.is_file():
        return missing_asset(file)
    return FileResponse(file, headers={"Cache-Control": "public, max-age=86400"})


def install_api_docs(app: FastAPI) -> None:
    """Serve /docs and /redoc from local assets; add it last, so it answers before access control.

    FastAPI's own CDN pages are removed from the routes (the middleware answers first anyway).
    """
    cdn_pages = {app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url} - {None}
    app.router.routes[:] = [
        route for route in app.router.routes if getattr(route, "path", None) not in cdn_pages
    ]
    app.docs_url = app.redoc_url = None
    app.add_middleware(ApiDocs, title=app.title, openapi_url=app.openapi_url or "/openapi.json")
