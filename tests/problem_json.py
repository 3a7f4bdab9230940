"""Assertions on ``application/problem+json`` answers (docs/adr/0005), shared by the API tests."""

from __future__ import annotations

import re
from typing import Any

_CHINESE = re.compile(r"[\u3400-\u9fff]")


def is_chinese(text: str) -> bool:
    """True when the text is written for a Chinese reader (it has Han characters)."""
    return bool(_CHINESE.search(text))


def problem_of(response: Any, status: int | None = None) -> dict[str, Any]:
    """The problem document of an error response, checked for the shape every service promises."""
    if status is not None:
        assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    body: dict[str, Any] = response.json()
    assert body["status"] == response.status_code
    assert body["type"] == "urn:rehab:problem:" + body["code"]
    assert is_chinese(body["title"]) and is_chinese(body["detail"]), body
    assert "Traceback" not in response.text
    for error in body["errors"]:
        assert {"field", "code", "message"} <= set(error), error
    return body


def field_error_of(response: Any, status: int | None = None) -> dict[str, str]:
    """The first field error of a problem answer: ``{"field", "code", "message"}``, message in Chinese."""
    body = problem_of(response, status)
    assert body["errors"], body
    error: dict[str, str] = body["errors"][0]
    assert is_chinese(error["message"]), error
    return error
