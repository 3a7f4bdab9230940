"""The answer of ``/health``: 200 when the service is ready, 503 with each reason when it is not.

A load balancer or an orchestrator reads the status code; an operator reads the reasons, each with a
stable code and a Chinese explanation (the same shape as the API's refusals). The body keeps what the
endpoint always showed (the service, its status, its event counts), ready or not.
"""

from __future__ import annotations

from collections.abc import Sequence

from fastapi.responses import JSONResponse

Problem = tuple[str, str]
"""One reason the service is not ready: a stable code and what it means, in Chinese."""


def health_response(body: dict[str, object], problems: Sequence[Problem]) -> JSONResponse:
    """``body`` with ``problems`` listed; 503 when there is any, the status then saying so."""
    if problems and body.get("status") == "ok":
        body["status"] = "not ready"
    body["problems"] = [{"code": code, "reason": reason} for code, reason in problems]
    return JSONResponse(body, status_code=503 if problems else 200)
