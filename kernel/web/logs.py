"""The process's log, configured once: one JSON object per line (or plain text), personal data masked.

Every line names the service, its level, the event and, inside an HTTP request, the request's id (from the
caller's ``X-Request-ID`` or made here, and answered in the same header). ``REHAB_LOG_FORMAT`` chooses
``json`` or ``text``; by default JSON unless the output is a terminal. Colour codes are written only to a
terminal, never to a file or a pipe. What a line carries passes ``kernel.masking``: identity and phone
numbers in any field, and the whole value of the fields that hold a person's name or number.
"""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid
from collections.abc import Mapping, MutableMapping
from typing import Any, TextIO

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from structlog.typing import EventDict, Processor, WrappedLogger

from kernel.config import RehabSettings
from kernel.masking import install_log_masking, mask_personal_data

__all__ = ["RequestLogging", "configure_logging", "log_format", "mask_fields"]

JSON, TEXT = "json", "text"
FORMAT_VARIABLE = "REHAB_LOG_FORMAT"

NAME_FIELDS = frozenset(
    {"name", "full_name", "person_name", "guardian_name", "contact_name", "applicant_name"}
)
"""Fields holding a person's name (姓名): only the first character (the family name) is kept."""
NUMBER_FIELDS = frozenset(
    {"id_number", "identity_number", "certificate_number", "phone", "mobile", "contact_phone"}
)
"""Fields holding a person's number: masked like ``kernel.masking``, or wholly when it does not match."""

QUIET_PATHS = ("/health", "/metrics")
"""Requests logged at DEBUG only."""
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
log = logging.getLogger("kernel.web.requests")


class LogSettings(RehabSettings):
    """How a process writes its log."""

    log_format: str = ""
    """``REHAB_LOG_FORMAT``: ``json`` or ``text``; unset: JSON unless the log goes to a terminal."""


def log_format(stream: TextIO, chosen: str | None = None) -> str:
    """``json`` or ``text``: ``chosen`` (else ``REHAB_LOG_FORMAT``), by default JSON unless a terminal."""
    chosen = (chosen or LogSettings().log_format).strip().lower()
    if chosen in (JSON, TEXT):
        return chosen
    return TEXT if _is_terminal(stream) else JSON


def configure_logging(
    service: str, *, stream: TextIO | None = None, chosen_format: str | None = None, level: int = logging.INFO
) -> logging.Handler:
    """Send the root logger's records, and structlog's, to ``stream`` (stderr) as one line each.

    Configuring again replaces the handler installed before, and the plain handler ``logging.basicConfig``
    adds, so no line is written twice; other handlers (a test's capture) are left alone.
    """
    stream = stream or sys.stderr
    install_log_masking()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=_pre_chain(service),
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                _renderer(stream, chosen_format),
            ],
        )
    )
    handler.kernel_log = True  # type: ignore[attr-defined]
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "kernel_log", False) or type(old) is logging.StreamHandler:
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    _let_faststream_lines_reach_the_root()
    structlog.configure(
        processors=[*_pre_chain(service), structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    return handler


def _let_faststream_lines_reach_the_root() -> None:
    """FastStream's module logger ``faststream`` has its own handler (coloured text on stderr) and does not
    propagate, so the lines of the brokers' loggers below it (``faststream.<service>``) were written in
    colour beside the JSON; without its handler they reach the root's, as every other line."""
    import faststream  # noqa: F401  (its logger and handler are made when it is imported)

    own = logging.getLogger("faststream")
    for handler in list(own.handlers):
        own.removeHandler(handler)
    own.propagate = True


def _pre_chain(service: str) -> list[Processor]:
    def add_service(_logger: WrappedLogger, _method: str, event: EventDict) -> EventDict:
        event.setdefault("service", service)
        return event

    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
        add_service,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        mask_fields,
    ]


def _renderer(stream: TextIO, chosen: str | None) -> Processor:
    if log_format(stream, chosen) == JSON:
        return structlog.processors.JSONRenderer(ensure_ascii=False)
    colors = _is_terminal(stream)
    formatter = structlog.dev.rich_traceback if colors else structlog.dev.plain_traceback
    return structlog.dev.ConsoleRenderer(colors=colors, exception_formatter=formatter)


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # closed, or not a file at all
        return False


def mask_fields(_logger: WrappedLogger, _method: str, event: EventDict) -> EventDict:
    """structlog processor: personal data masked in every field of the line."""
    for key, value in event.items():
        if key in NAME_FIELDS and isinstance(value, str):
            event[key] = _masked_name(value)
        elif isinstance(value, str):
            masked = mask_personal_data(value)
            event[key] = masked if masked != value or key not in NUMBER_FIELDS else "*" * len(value)
        elif isinstance(value, Mapping | list | tuple):
            event[key] = mask_personal_data(str(value))
    return event


def _masked_name(name: str) -> str:
    return name[:1] + "*" * max(len(name) - 1, 1) if name else name


class RequestLogging:
    """ASGI middleware: a request id for every line logged while a request is handled, and one line
    per request (method, route path, status, milliseconds), the path and query masked."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        started, status = time.perf_counter(), 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                _log_request(scope, status, time.perf_counter() - started)


def _request_id(scope: MutableMapping[str, Any]) -> str:
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            given: str = value.decode("latin-1")
            if _REQUEST_ID.fullmatch(given):
                return given
    return uuid.uuid4().hex


def _log_request(scope: MutableMapping[str, Any], status: int, seconds: float) -> None:
    path = scope.get("path", "")
    if query := scope.get("query_string", b"").decode("latin-1"):
        path = f"{path}?{query}"
    path = mask_personal_data(path)  # on the record itself too: every handler gets it masked
    quiet = path.startswith(QUIET_PATHS)  # a probe or a scrape every few seconds is not news
    log.log(
        logging.DEBUG if quiet else logging.INFO,
        "request",
        extra={"method": scope.get("method"), "path": path, "status": status, "ms": round(seconds * 1000, 1)},
    )
