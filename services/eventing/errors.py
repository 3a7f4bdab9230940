"""Errors a command can end in, and how every service answers them over HTTP (never a stack trace)."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from services.eventing.rejections import CommandRejected, NotFound, StateConflict
from services.eventing.store import ConcurrencyConflict

__all__ = ["CommandRejected", "NotFound", "StateConflict", "install_error_handlers", "problem"]

log = logging.getLogger(__name__)


def problem(status_code: int, message: str, *, field: str | None, code: str) -> JSONResponse:
    """An error body shaped like FastAPI's own validation errors: a list of {loc, msg, type}."""
    location = ["body", field] if field else ["body"]
    return JSONResponse(
        status_code=status_code,
        content={"detail": [{"loc": location, "msg": message, "type": code}]},
    )


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(CommandRejected)
    async def on_rejected(_request: Request, error: CommandRejected) -> JSONResponse:
        return problem(error.status_code, error.message, field=error.field, code=error.code)

    @app.exception_handler(ConcurrencyConflict)
    async def on_conflict(_request: Request, error: ConcurrencyConflict) -> JSONResponse:
        return problem(409, f"{error}; retry the command", field=None, code="concurrent_update")

    @app.exception_handler(Exception)
    async def on_unexpected(_request: Request, error: Exception) -> JSONResponse:
        log.exception("unexpected error")
        return JSONResponse(status_code=500, content={"detail": "internal error; it has been logged"})
