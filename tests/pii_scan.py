"""Session-wide privacy scan: the suite fails if a valid resident ID number leaked anywhere it looks.

It looks at every log record emitted in the test process, every HTTP error body a test client
received, every log file the suite's service processes wrote under pytest's temporary directory,
and the shared test Redis (key names and stream fields outside v1 person payloads) before each
flush. A hit is an 18-character string with a valid GB 11643 checksum and birth date.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from kernel.messaging.dead_letters import as_text
from services.survey.identity import check_character
from tests.streams import entries

_CANDIDATE = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dX](?![0-9A-Za-z])")

_leaks: list[str] = []


def resident_ids_in(text: str) -> list[str]:
    """Every string in `text` that is a resident ID number by checksum and birth date."""
    return [found for found in _CANDIDATE.findall(text) if _is_resident_id(found)]


def _is_resident_id(number: str) -> bool:
    if check_character(number[:17]) != number[17]:
        return False
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    return 1900 <= born.year <= 2100


def _record(where: str, text: str) -> None:
    for number in resident_ids_in(text):
        _leaks.append(f"{where}: {number[:6]}…{number[-2:]} in {text[:200]!r}")


LEGACY_PLAIN_TYPES = frozenset({"survey.person_registered", "survey.person_details_corrected"})
"""Version 1 of these carries personal details in clear by design (history is immutable, ADR 0007)."""


def scan_redis(client: redis.Redis, where: str = "redis") -> None:
    """Every key name, and every stream entry's fields outside the payloads of v1 person events."""
    for key in client.scan_iter(count=500):
        name = as_text(key)
        _record(f"{where} key", name)
        if client.type(key) != b"stream":
            continue
        for _entry_id, fields in entries(client, key):
            _scan_entry(f"{where} {name}", fields)


def _scan_entry(where: str, fields: dict[str, str]) -> None:
    if "fields" in fields:  # a dead letter carries its original entry as JSON
        try:
            original = json.loads(fields["fields"])
        except ValueError:
            original = None
        if isinstance(original, dict):
            _scan_entry(f"{where} (dead letter)", {str(k): str(v) for k, v in original.items()})
            fields = {name: value for name, value in fields.items() if name != "fields"}
    legacy = fields.get("event_type") in LEGACY_PLAIN_TYPES and fields.get("schema_version") == "1"
    for name, value in fields.items():
        if not (legacy and name == "payload"):
            _record(f"{where} field {name}", value)


class _LogScanner(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        try:
            _record(f"log {record.name}", self.format(record))
        except Exception:  # a scanner must never break the code it watches
            self.handleError(record)


def pytest_sessionstart(session: pytest.Session) -> None:
    logging.getLogger().addHandler(_LogScanner(level=logging.DEBUG))
    original_send = httpx.Client.send

    def scanning_send(self: httpx.Client, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        response = original_send(self, request, **kwargs)
        if response.status_code >= 400:
            _record(f"HTTP {response.status_code} body of {request.method} {request.url.path}", response.text)
        return response

    httpx.Client.send = scanning_send  # type: ignore[method-assign]  # on purpose: every client, all session


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    factory = getattr(session.config, "_tmp_path_factory", None)
    if factory is not None:
        base = Path(factory.getbasetemp())
        for log_file in base.rglob("*.log"):
            if any(part.startswith("runpytest-") for part in log_file.relative_to(base).parts):
                continue  # an inner run of the scan's own tests, which leaks on purpose
            _record(f"file {log_file.name}", log_file.read_text(encoding="utf-8", errors="replace"))
    if _leaks:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        lines = ["PRIVACY: valid resident ID numbers leaked into logs or error bodies:", *_leaks[:20]]
        if reporter is not None:
            reporter.write_line("\n".join(lines), red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
