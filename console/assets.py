"""The browser libraries the console serves itself (no CDN): npm packages installed by scripts/setup."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import FileResponse, Response

from kernel.web.api_docs import asset_file, missing_asset

router = APIRouter()

VENDOR = {
    "htmx.min.js": ("htmx.org", "dist/htmx.min.js"),
    "echarts.min.js": ("echarts", "dist/echarts.min.js"),  # the dashboards' charts (SVG renderer)
}
"""Served at /static/vendor/<name>: name -> (npm package, file in it)."""


@router.get("/static/vendor/{name}", include_in_schema=False)
def vendor(name: str) -> Response:
    if name not in VENDOR:
        return Response(status_code=404)
    file = asset_file(*VENDOR[name])
    if not file.is_file():
        return missing_asset(file)
    return FileResponse(file, headers={"Cache-Control": "public, max-age=86400"})
