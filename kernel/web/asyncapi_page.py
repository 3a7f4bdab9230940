"""Serves a service's AsyncAPI document at /asyncapi.json and a page of it at /asyncapi, offline.

The page is rendered on the server from the document (channels, operations, messages, the fields of
each stream entry and of each event): no script, no asset, nothing fetched from another site. The npm
AsyncAPI renderers are React bundles that would have to be installed and served like Swagger UI; a
table per message is what an integrator reads anyway, and the JSON is one link away.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from html import escape
from typing import Any

from starlette.responses import HTMLResponse, Response

from kernel.web.api_docs import ASGIApp, Receive, Scope, Send
from kernel.web.asyncapi import StreamTopology, asyncapi_document, asyncapi_json

JSON_PATH = "/asyncapi.json"
PAGE_PATH = "/asyncapi"
PAGE_POLICY = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"

STYLE = """
body { font-family: system-ui, "Noto Sans CJK SC", sans-serif; margin: 2rem auto; max-width: 72rem; }
h1 { font-size: 1.5rem; } h2 { margin-top: 2.5rem; border-bottom: 1px solid #ccc; } h3 { margin-top: 1.5rem; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; font-size: .9rem; }
th, td { border: 1px solid #ddd; padding: .3rem .5rem; text-align: left; vertical-align: top; }
th { background: #f4f4f4; } code { background: #f4f4f4; padding: 0 .2rem; }
.intro p { max-width: 60rem; }
"""


class AsyncApiDocs:
    """ASGI middleware answering GET /asyncapi.json and /asyncapi; add it after access control (it
    carries no data, like /docs)."""

    def __init__(self, app: ASGIApp, *, topology: StreamTopology) -> None:
        self.app = app
        self.topology = topology
        self._json: bytes | None = None
        self._page: str | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        reading = scope["type"] == "http" and scope["method"] in ("GET", "HEAD")
        response = self._response(scope["path"]) if reading else None
        if response is None:
            await self.app(scope, receive, send)
            return
        await response(scope, receive, send)

    def _response(self, path: str) -> Response | None:
        if path == JSON_PATH:
            if self._json is None:
                self._json = asyncapi_json(self.topology)
            return Response(self._json, media_type="application/json")
        if path == PAGE_PATH:
            if self._page is None:
                self._page = render_page(asyncapi_document(self.topology))
            return HTMLResponse(self._page, headers={"Content-Security-Policy": PAGE_POLICY})
        return None


def render_page(document: Mapping[str, Any]) -> str:
    """The whole page: introduction, channels with their operations, then every message."""
    info = document["info"]
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{escape(info['title'])}</title><style>{STYLE}</style></head><body>",
        f"<h1>{escape(info['title'])}</h1>",
        f"<p>AsyncAPI {escape(document['asyncapi'])} · <a href='{JSON_PATH}'>asyncapi.json</a> · "
        "<a href='/docs'>HTTP API</a></p>",
        "<div class='intro'>",
        *(f"<p>{_inline_code(paragraph)}</p>" for paragraph in info["description"].split("\n\n")),
        "</div>",
        *_servers(document["servers"]),
        *_channels(document),
        "<h2>Messages</h2>",
        *_messages(document),
        "</body></html>",
    ]
    return "\n".join(parts)


def _servers(servers: Mapping[str, Any]) -> Iterator[str]:
    yield "<h2>Servers</h2><table><tr><th>name</th><th>host</th><th>protocol</th><th>about</th></tr>"
    for name, server in servers.items():
        yield (
            f"<tr><td>{escape(name)}</td><td><code>{escape(server['host'])}</code></td>"
            f"<td>{escape(server['protocol'])}</td><td>{escape(server.get('description', ''))}</td></tr>"
        )
    yield "</table>"


def _channels(document: Mapping[str, Any]) -> Iterator[str]:
    operations_of: dict[str, list[str]] = {}
    for name, operation in document["operations"].items():
        channel = operation["channel"]["$ref"].rsplit("/", 1)[-1]
        operations_of.setdefault(channel, []).append(
            f"{operation['action']} ({name}): {operation['summary']}"
        )
    yield "<h2>Channels (Redis streams)</h2>"
    yield "<table><tr><th>stream</th><th>messages</th><th>this service</th></tr>"
    for channel_id, channel in document["channels"].items():
        messages = ", ".join(
            f"<a href='#{escape(name)}'><code>{escape(name)}</code></a>" for name in channel["messages"]
        )
        ours = "<br>".join(_inline_code(text) for text in operations_of.get(channel_id, [])) or "—"
        yield f"<tr><td><code>{escape(channel['address'])}</code></td><td>{messages}</td><td>{ours}</td></tr>"
    yield "</table>"


def _messages(document: Mapping[str, Any]) -> Iterator[str]:
    schemas = document["components"]["schemas"]
    for name, message in document["components"]["messages"].items():
        yield f"<h3 id='{escape(name)}'><code>{escape(name)}</code> — {escape(message.get('title', ''))}</h3>"
        yield f"<p>{escape(message.get('summary', ''))}</p>"
        if "description" in message:
            yield f"<p>{_inline_code(message['description'])}</p>"
        yield "<p>Fields of the stream entry (all strings):</p>"
        yield from _field_table(message["payload"], schemas)
        event_schema = message["payload"]["properties"].get("payload", {}).get("x-parsed-schema")
        if event_schema:
            resolved = _resolve(event_schema, schemas)
            yield "<p>Fields of <code>payload</code> (the event, parsed from its JSON text):</p>"
            yield from _field_table(resolved, schemas)


def _field_table(schema: Mapping[str, Any], schemas: Mapping[str, Any]) -> Iterator[str]:
    required = set(schema.get("required", []))
    yield "<table><tr><th>field</th><th>type</th><th>required</th><th>description</th></tr>"
    for field, body in schema.get("properties", {}).items():
        fixed = f" = <code>{escape(str(body['const']))}</code>" if "const" in body else ""
        yield (
            f"<tr><td><code>{escape(field)}</code></td><td>{escape(_type_of(body, schemas))}{fixed}</td>"
            f"<td>{'yes' if field in required else ''}</td>"
            f"<td>{_inline_code(body.get('description', ''))}</td></tr>"
        )
    yield "</table>"


def _type_of(body: Mapping[str, Any], schemas: Mapping[str, Any]) -> str:
    if "$ref" in body:
        target = body["$ref"].rsplit("/", 1)[-1]
        enum = schemas.get(target, {}).get("enum")
        return f"{target} ({' | '.join(map(str, enum))})" if enum else target
    for combined in ("anyOf", "oneOf", "allOf"):
        if combined in body:
            return " | ".join(_type_of(option, schemas) for option in body[combined])
    if body.get("type") == "array" and "items" in body:
        return f"array of {_type_of(body['items'], schemas)}"
    kind = str(body.get("type", "any"))
    return f"{kind} ({body['format']})" if "format" in body else kind


def _resolve(reference: Mapping[str, Any], schemas: Mapping[str, Any]) -> Mapping[str, Any]:
    target: Mapping[str, Any] = schemas[reference["$ref"].rsplit("/", 1)[-1]]
    return target


def _inline_code(text: str) -> str:
    """Escape, then show `backticked` words as code."""
    pieces = escape(text).split("`")
    return "".join(f"<code>{piece}</code>" if index % 2 else piece for index, piece in enumerate(pieces))
