"""The methods a path supports, as HTTP says them: HEAD is served wherever GET is, OPTIONS answers the
path's methods, and a 405 lists in ``Allow`` every method of the path (not only the first route's)."""

from __future__ import annotations

from collections.abc import Iterable

from fastapi.routing import iter_route_contexts
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["PathMethods", "allowed_methods"]


def allowed_methods(routes: Iterable[BaseRoute], scope: Scope) -> list[str]:
    """Every method some route takes at the request's path, HEAD with GET and OPTIONS with any; [] when
    no route has the path."""
    methods: set[str] = set()
    for route in iter_route_contexts(list(routes)):  # an included router's routes too
        declared = route.methods
        if declared and route.matches(scope)[0] is not Match.NONE:
            methods |= set(declared)
    if not methods:
        return []
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods | {"OPTIONS"})


class PathMethods:
    """ASGI middleware, just outside the router: a HEAD request runs as the GET (the answer's headers,
    without its body), an OPTIONS request is answered 204 with ``Allow``.

    Inside access control: a HEAD or OPTIONS needs the same token as a GET. The method is GET only while
    the route runs; the outer middleware see HEAD again from the answer on, so a HEAD of a personal-data
    route is audited as the GET would be, its entry's action ``HEAD /path`` (its status and length tell
    whether the person is registered and how much is kept).
    """

    def __init__(self, app: ASGIApp, routes: Iterable[BaseRoute]) -> None:
        self.app = app
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope.get("method") if scope["type"] == "http" else None
        if method == "HEAD":
            await self._head(scope, receive, send)
        elif method == "OPTIONS" and (allowed := allowed_methods(self.routes, scope)):
            headers = [(b"allow", ", ".join(allowed).encode()), (b"content-length", b"0")]
            await send({"type": "http.response.start", "status": 204, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
        else:
            await self.app(scope, receive, send)

    async def _head(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["method"] = "GET"

        async def headers_only(message: Message) -> None:
            scope["method"] = "HEAD"
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        try:
            await self.app(scope, receive, headers_only)
        finally:
            scope["method"] = "HEAD"
