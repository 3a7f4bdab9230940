"""The process log is one JSON object per line (service, level, event, request id) with personal data masked,
or plain text without colour codes when it is not a terminal; ``REHAB_LOG_FORMAT`` chooses."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kernel.web.logs import FORMAT_VARIABLE, RequestLogging, configure_logging, log_format
from services.survey.identity import check_character

NUMBER = "50010219800101123" + check_character("50010219800101123")  # a valid resident ID number
PHONE = "13812345678"


@pytest.fixture
def restored_logging(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[logging.Handler]]:
    """Whatever handlers a test configures are removed afterwards, and the root's level restored."""
    monkeypatch.delenv(FORMAT_VARIABLE, raising=False)
    root = logging.getLogger()
    level, installed = root.level, list[logging.Handler]()
    yield installed
    for handler in installed:
        root.removeHandler(handler)
    root.setLevel(level)
    structlog.reset_defaults()


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def app_logging_a_person() -> FastAPI:
    app = FastAPI()

    @app.get("/persons")
    def find(id_number: str) -> dict[str, str]:
        logging.getLogger("services.survey").info("looking up %s", id_number, extra={"phone": PHONE})
        structlog.get_logger("services.survey").info("person found", id_number=id_number, name="张三丰")
        return {"found": "no"}

    app.add_middleware(RequestLogging)
    return app


def test_a_request_carrying_an_id_number_logs_json_lines_with_the_number_masked(
    restored_logging: list[logging.Handler],
) -> None:
    stream = io.StringIO()
    restored_logging.append(configure_logging("survey", stream=stream))
    with TestClient(app_logging_a_person()) as client:
        answer = client.get("/persons", params={"id_number": NUMBER}, headers={"X-Request-ID": "req-42"})
    assert answer.headers["x-request-id"] == "req-42"
    assert NUMBER not in stream.getvalue() and PHONE not in stream.getvalue()
    looking, found, request = (line for line in lines(stream) if line["logger"] != "httpx")
    assert looking["service"] == "survey" and looking["level"] == "info" and looking["request_id"] == "req-42"
    assert looking["event"] == "looking up 500102************" and looking["phone"] == "138****5678"
    assert found["event"] == "person found" and found["request_id"] == "req-42"
    assert found["id_number"] == "500102************" and found["name"] == "张**"
    assert request["event"] == "request" and request["request_id"] == "req-42"
    assert request["path"] == "/persons?id_number=500102************"
    assert request["status"] == 200 and request["method"] == "GET"


def test_a_request_without_an_id_gets_one_made_for_it(restored_logging: list[logging.Handler]) -> None:
    stream = io.StringIO()
    restored_logging.append(configure_logging("survey", stream=stream))
    with TestClient(app_logging_a_person()) as client:
        answer = client.get("/persons", params={"id_number": "x"}, headers={"X-Request-ID": "not an id!"})
    made = answer.headers["x-request-id"]
    assert len(made) == 32 and made != "not an id!"
    assert {line["request_id"] for line in lines(stream) if line["logger"] != "httpx"} == {made}


def test_text_written_to_a_file_has_no_colour_codes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, restored_logging: list[logging.Handler]
) -> None:
    monkeypatch.setenv(FORMAT_VARIABLE, "text")
    with (tmp_path / "survey.log").open("w", encoding="utf-8") as file:
        restored_logging.append(configure_logging("survey", stream=file))
        try:
            raise ValueError(f"bad number {NUMBER}")
        except ValueError:
            logging.getLogger("kernel").exception("import failed for %s", NUMBER)
    written = (tmp_path / "survey.log").read_text(encoding="utf-8")
    assert "import failed for 500102************" in written and "ValueError" in written
    assert "\x1b[" not in written
    assert NUMBER not in written


def test_configuring_again_writes_each_line_once(restored_logging: list[logging.Handler]) -> None:
    first, second = io.StringIO(), io.StringIO()
    logging.basicConfig()  # what a CLI may have done before: replaced too, not doubled
    restored_logging.append(configure_logging("survey", stream=first))
    restored_logging.append(configure_logging("survey", stream=second))
    logging.getLogger("kernel").warning("once")
    assert first.getvalue() == ""
    assert [line["event"] for line in lines(second)] == ["once"]


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_format_is_json_unless_a_terminal_and_the_variable_chooses(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(FORMAT_VARIABLE, raising=False)
    assert log_format(io.StringIO()) == "json"
    assert log_format(Terminal()) == "text"
    monkeypatch.setenv(FORMAT_VARIABLE, "json")
    assert log_format(Terminal()) == "json"
    monkeypatch.setenv(FORMAT_VARIABLE, "TEXT")
    assert log_format(io.StringIO()) == "text"


def test_a_line_of_faststreams_broker_logger_is_json_without_colour_codes(
    restored_logging: list[logging.Handler],
) -> None:
    stream = io.StringIO()
    restored_logging.append(configure_logging("survey", stream=stream))

    logging.getLogger("faststream.survey").info("callback for Task-22 is being executed...")

    assert "\x1b[" not in stream.getvalue()
    (line,) = lines(stream)
    assert line["event"] == "callback for Task-22 is being executed..."
    assert (line["logger"], line["service"]) == ("faststream.survey", "survey")
