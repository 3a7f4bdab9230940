"""The AsyncAPI 3 document of a service's streams, generated from the contracts and the deployment.

Every channel is a Redis stream; every message is one stream entry of plain string fields (ADR 0003):
the envelope's attributes, ``signature`` and ``payload`` (the event's JSON object as text, whose JSON
Schema is the contracts' snapshot). The document is built from ``rehab_contracts`` (event types, their
streams and schemas) and the topology the runtime reads from deploy/services.toml; nothing is written
by hand but the descriptions of the entry layout, signing and dead letters.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from rehab_contracts import EventEnvelope
from rehab_contracts.envelope import WIRE_FIELDS, EventPayload
from rehab_contracts.registry import PAYLOAD_CLASSES
from rehab_contracts.streams import ALL_STREAMS

ASYNCAPI_VERSION = "3.0.0"
SIGNING_SCHEME = "ed25519"

ENTRY_LAYOUT = (
    "Each stream entry is written with XADD as plain string fields, one per envelope attribute, readable "
    "by `redis-cli XRANGE` and any Redis client (ADR 0003): `event_id`, `event_type`, `schema_version`, "
    "`occurred_at`, `recorded_at`, `producer`, `stream_id`, `version`, `correlation_id`, `causation_id` "
    "(empty when none), `signature` (empty when the deployment runs without keys) and `payload`, the "
    "event's JSON object as text. `rehab_contracts.EventEnvelope.from_wire(fields)` parses an entry; "
    "`rehab_contracts.parse_payload(envelope)` validates its payload in the schema version it names."
)
SIGNING = (
    "Every entry is signed by its producing agency's Ed25519 key: `signature` is "
    "`ed25519:<key id>:<standard base64 of 64 bytes>`, over the canonical envelope: every field but "
    "`signature` as JSON (the entry's fields parsed back into the envelope: UUIDs as lowercase text, "
    "times as recorded, `causation_id` null when absent, `payload` as its JSON object), keys sorted at "
    "every level, separators `,` and `:`, non-ASCII kept, UTF-8. The key id starts with the producer; "
    "its public key is `<key id>.pub` (PEM) in the deployment's key directory (`rehab keys list`). "
    "Reject an entry that is unsigned, signed by another agency's key or by a revoked key."
)
DELIVERY = (
    "Read with a consumer group of your own (XGROUP CREATE <stream> <group> 0 MKSTREAM, then XREADGROUP "
    "... STREAMS <stream> >, XACK after your effect is committed). Delivery is at least once: deduplicate "
    "on `event_id`. Order holds within a stream; within an aggregate (`stream_id`) `version` counts from 1 "
    "without gaps. See docs/integrators.md."
)

DEAD_LETTER_FIELDS: dict[str, str] = {
    "source_stream": "The stream the entry was read from.",
    "source_entry_id": "Its Redis entry id there.",
    "consumer_group": "The consumer group that gave up on it (the consuming service's name).",
    "reason": "Why it could not be decoded or applied: one short Chinese sentence ending with its code.",
    "code": "The reason's machine code, e.g. `event.invalid`, `event.rejected`, `delivery.failed`.",
    "detail": "The technical text behind the reason (exception type and message, English), for developers.",
    "delivery_count": "How many times it was delivered before it was set aside (decimal text).",
    "dead_lettered_at": "When, ISO 8601 with offset.",
    "fields": "The original entry's fields as a JSON object (text): `rehab dlq retry` publishes them again.",
}
"""The fields of a dead-letter entry (kernel.messaging.dead_letters.DeadLetter.to_entry)."""


@dataclass(frozen=True)
class StreamTopology:
    """What one service does with the deployment's streams (read by the runtime from services.toml)."""

    service: str
    title: str
    publishes_to: str | None
    """The stream the service publishes its events on; None for a service that only consumes."""
    subscribes_to: tuple[str, ...]
    """The streams it consumes with its consumer group (named after the service)."""
    dead_letters: str | None
    """Its dead-letter stream; None when it consumes nothing."""
    redis_url: str = "redis://127.0.0.1:6379/0"


def asyncapi_document(topology: StreamTopology) -> dict[str, Any]:
    """The AsyncAPI 3.0 document: every event stream of the deployment, the service's operations on them."""
    schemas: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    channels: dict[str, Any] = {}
    for stream in ALL_STREAMS:
        channel_messages: dict[str, Any] = {}
        for payload_class in _payloads_on(stream):
            name = payload_class.event_type
            schema_name = _add_payload_schema(schemas, payload_class)
            messages[name] = _event_message(payload_class, schema_name)
            channel_messages[name] = {"$ref": f"#/components/messages/{name}"}
        channels[_channel_id(stream)] = {
            "address": stream,
            "title": stream,
            "description": f"Events of {stream.split('.')[1]}, in the order they were recorded. {DELIVERY}",
            "messages": channel_messages,
            "servers": [{"$ref": "#/servers/redis"}],
        }
    if topology.dead_letters:
        messages["DeadLetter"] = _dead_letter_message()
        channels[_channel_id(topology.dead_letters)] = {
            "address": topology.dead_letters,
            "title": topology.dead_letters,
            "description": f"Entries {topology.service} could not decode or apply, with the reason "
            "(`rehab dlq list`, `rehab dlq retry`).",
            "messages": {"DeadLetter": {"$ref": "#/components/messages/DeadLetter"}},
            "servers": [{"$ref": "#/servers/redis"}],
        }
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "id": f"urn:rehab:{topology.service}",
        "info": {
            "title": f"{topology.title} — streams",
            "version": "0.1.0",
            "description": "\n\n".join((ENTRY_LAYOUT, SIGNING, DELIVERY)),
        },
        "defaultContentType": "application/json",
        "servers": {"redis": _server(topology.redis_url)},
        "channels": channels,
        "operations": dict(_operations(topology, channels)),
        "components": {
            "schemas": schemas,
            "messages": messages,
            "securitySchemes": {
                "redisUser": {
                    "type": "userPassword",
                    "description": "A Redis ACL user (deploy/redis/users.acl): each agency's service "
                    "connects as its own; an integrator gets a user with read and consumer-group rights "
                    "on the streams it subscribes to.",
                }
            },
        },
    }


def asyncapi_json(topology: StreamTopology) -> bytes:
    return json.dumps(asyncapi_document(topology), ensure_ascii=False, indent=2).encode()


def _payloads_on(stream: str) -> list[type[EventPayload]]:
    return [payload_class for payload_class in PAYLOAD_CLASSES if payload_class.stream == stream]


def _channel_id(stream: str) -> str:
    return stream.replace("rehab.", "", 1).replace(".", "_")


def _server(redis_url: str) -> dict[str, Any]:
    parsed = urlparse(redis_url)
    host = f"{parsed.hostname or '127.0.0.1'}:{parsed.port or 6379}"  # never the credentials
    return {
        "host": host,
        "protocol": "rediss" if parsed.scheme == "rediss" else "redis",
        "description": "The deployment's Redis (AOF on, noeviction). Streams are plain JSON fields.",
        "security": [{"$ref": "#/components/securitySchemes/redisUser"}],
    }


def _operations(topology: StreamTopology, channels: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    def operation(action: str, stream: str, summary: str) -> dict[str, Any]:
        channel_id = _channel_id(stream)
        return {
            "action": action,
            "channel": {"$ref": f"#/channels/{channel_id}"},
            "summary": summary,
            "messages": [
                {"$ref": f"#/channels/{channel_id}/messages/{name}"}
                for name in channels[channel_id]["messages"]
            ],
        }

    if topology.publishes_to:
        yield (
            "publishEvents",
            operation(
                "send",
                topology.publishes_to,
                f"{topology.service}'s outbox relay publishes every recorded event.",
            ),
        )
    for stream in topology.subscribes_to:
        yield (
            f"consume_{_channel_id(stream)}",
            operation(
                "receive", stream, f"{topology.service} consumes with consumer group `{topology.service}`."
            ),
        )
    if topology.dead_letters:
        yield (
            "setAsideDeadLetters",
            operation(
                "send",
                topology.dead_letters,
                "Entries given up on after repeated failures or a bad signature.",
            ),
        )


def _event_message(payload_class: type[EventPayload], schema_name: str) -> dict[str, Any]:
    summary = (payload_class.__doc__ or payload_class.event_type).strip().splitlines()[0]
    return {
        "name": payload_class.event_type,
        "title": payload_class.__name__,
        "summary": summary,
        "contentType": "application/json",
        "description": f"Produced by {payload_class.producer}, "
        f"schema version {payload_class.schema_version}. "
        "The message payload below is the stream entry's fields; the event's own fields are in `payload`, "
        f"a JSON object as text, described by `#/components/schemas/{schema_name}`.",
        "payload": _entry_schema(payload_class, schema_name),
        "x-event-type": payload_class.event_type,
        "x-schema-version": payload_class.schema_version,
    }


def _entry_schema(payload_class: type[EventPayload], schema_name: str) -> dict[str, Any]:
    """The stream entry of one event type: string fields, some fixed, ``payload`` the JSON text."""
    envelope = EventEnvelope.model_json_schema()["properties"]
    fixed = {
        "event_type": payload_class.event_type,
        "schema_version": str(payload_class.schema_version),
        "producer": payload_class.producer,
    }
    properties: dict[str, Any] = {}
    for name in WIRE_FIELDS:
        field: dict[str, Any] = {"type": "string", "description": envelope[name].get("description", "")}
        if name in fixed:
            field["const"] = fixed[name]
        properties[name] = field
    properties["signature"]["description"] += " Verify it before use (the document's description says how)."
    properties["payload"].update(
        contentMediaType="application/json",
        description=f"The event's fields as JSON text: parse it, then check it against "
        f"`#/components/schemas/{schema_name}`.",
    )
    properties["payload"]["x-parsed-schema"] = {"$ref": f"#/components/schemas/{schema_name}"}
    required = [name for name in WIRE_FIELDS if name not in ("causation_id", "signature")]
    return {"type": "object", "required": required, "properties": properties, "additionalProperties": False}


def _dead_letter_message() -> dict[str, Any]:
    return {
        "name": "DeadLetter",
        "title": "Dead letter",
        "summary": "A stream entry a consumer gave up on, with the reason.",
        "contentType": "application/json",
        "payload": {
            "type": "object",
            "required": list(DEAD_LETTER_FIELDS),
            "properties": {
                name: {"type": "string", "description": text} for name, text in DEAD_LETTER_FIELDS.items()
            },
        },
    }


def _add_payload_schema(schemas: dict[str, Any], payload_class: type[EventPayload]) -> str:
    """Put the payload's JSON Schema into ``schemas`` (its ``$defs`` hoisted beside it); its name."""
    schema = payload_class.model_json_schema()
    name = f"{payload_class.event_type}.v{payload_class.schema_version}"
    definitions = schema.pop("$defs", {})
    renamed = {definition: definition for definition in definitions}
    for definition, body in definitions.items():  # a name another event defines differently: qualified
        if definition in schemas and schemas[definition] != _rewrite_refs(body, renamed):
            renamed[definition] = f"{name}.{definition}"
    for definition, body in definitions.items():
        schemas[renamed[definition]] = _rewrite_refs(body, renamed)
    schemas[name] = _rewrite_refs(schema, renamed)
    return name


def _rewrite_refs(node: Any, renamed: Mapping[str, str]) -> Any:
    """``#/$defs/X`` -> ``#/components/schemas/<X as renamed>``, at every level."""
    if isinstance(node, dict):
        rewritten = {key: _rewrite_refs(value, renamed) for key, value in node.items()}
        reference = rewritten.get("$ref")
        if isinstance(reference, str) and reference.startswith("#/$defs/"):
            rewritten["$ref"] = "#/components/schemas/" + renamed[reference.removeprefix("#/$defs/")]
        return rewritten
    if isinstance(node, list):
        return [_rewrite_refs(item, renamed) for item in node]
    return node
