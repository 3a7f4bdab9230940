"""What a service wired into its app at start, read through the TestClient that runs it."""

from __future__ import annotations

from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.datastructures import State


def state_of(client: TestClient) -> State:
    """The app's ``state`` (``runtime``, ``audit_trail``, ...), set once the client has started it.

    TestClient types its app as a bare ASGI callable, which has no state; a service's app is a
    FastAPI (Starlette) app.
    """
    app = client.app
    assert isinstance(app, Starlette), f"{app!r} is not a Starlette app"
    return app.state
