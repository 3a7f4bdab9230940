"""Small ASGI helpers the kernel's middleware share: one request header, the whole request body."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.types import Receive


def header(scope: Mapping[str, Any], name: bytes) -> str | None:
    """The value of a request header (``name`` in lower case), stripped; None when absent."""
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return str(value.decode("latin-1")).strip()
    return None


async def read_body(receive: Receive) -> bytes | None:
    """The whole request body; None when the client went away before sending all of it."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)
