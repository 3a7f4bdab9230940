"""The envelope every rehab event travels in, and its plain-JSON wire form on Redis streams."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

WIRE_FIELDS = (
    "event_id",
    "event_type",
    "schema_version",
    "occurred_at",
    "recorded_at",
    "producer",
    "stream_id",
    "version",
    "correlation_id",
    "causation_id",
    "signature",
    "payload",
)
"""Field names of a stream entry, in the order the relay writes them."""


class EventPayload(BaseModel):
    """Base of every event payload: frozen, strict about unknown fields, self-describing.

    Subclasses set the class variables; they are the contract, not Python paths.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: ClassVar[str]
    """Stable dotted name, e.g. ``survey.need_surveyed``."""
    schema_version: ClassVar[int] = 1
    """Raised on every change; see docs/adr/0002-event-versioning.md."""
    stream: ClassVar[str]
    """The Redis stream its producer publishes it on."""
    producer: ClassVar[str]
    """The agency id of the only service allowed to emit it."""


class EventEnvelope(BaseModel):
    """Metadata shared by every event, wrapping one payload (kept as its JSON object)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: UUID = Field(
        description="Unique, time-ordered (UUIDv7) id of this event; consumers deduplicate on it.",
        examples=["01934f3e-7d5c-7b1a-9c2e-3f4a5b6c7d8e"],
    )
    event_type: str = Field(
        description="Stable dotted type name, never a Python path.",
        examples=["survey.need_surveyed"],
        pattern=r"^[a-z]+(\.[a-z_]+)+$",
    )
    schema_version: int = Field(description="Version of the payload schema.", ge=1, examples=[1])
    occurred_at: AwareDatetime = Field(
        description="Business time: when the fact happened in the world (e.g. the survey date).",
    )
    recorded_at: AwareDatetime = Field(
        description="When the producing service accepted and stored the event.",
    )
    producer: str = Field(description="Agency id of the producing service.", examples=["survey"])
    stream_id: str = Field(
        description="The aggregate the event belongs to, e.g. 'person-<uuid>'.",
        examples=["person-7f0c1e9a-2d3b-4c5d-8e9f-0a1b2c3d4e5f"],
        min_length=1,
        max_length=200,
    )
    version: int = Field(description="Position of the event in its aggregate, from 1, gap-free.", ge=1)
    correlation_id: UUID = Field(
        description="Id shared by every event of one business case (e.g. one person's journey).",
    )
    causation_id: UUID | None = Field(
        default=None, description="The event (or command) that directly caused this one."
    )
    signature: str | None = Field(
        default=None,
        description=(
            "The producing agency's Ed25519 signature of the canonical envelope (every other field), "
            "as 'ed25519:<key id>:<base64>'; set by its outbox relay, absent where no keys are configured."
        ),
        examples=["ed25519:approval-20250101T000000000000Z-3f9a1c:FMOdqbYBvvb5W1R4MchG...Dw=="],
    )
    payload: dict[str, Any] = Field(description="The event's payload as a JSON object.")

    def to_wire(self) -> dict[str, str]:
        """Plain string fields for XADD: readable by redis-cli and any client."""
        data = self.model_dump(mode="json")
        fields = {name: _text(data[name]) for name in WIRE_FIELDS if name != "payload"}
        fields["payload"] = json.dumps(data["payload"], ensure_ascii=False, sort_keys=True)
        return fields

    @classmethod
    def from_wire(cls, fields: Mapping[str, str] | Mapping[bytes, bytes]) -> EventEnvelope:
        """Parse a stream entry written by :meth:`to_wire`; raises ValueError when malformed."""
        # Decoded inline, not by a function per field: this runs for every entry a consumer reads.
        text = {
            (key if isinstance(key, str) else key.decode()): (
                value if isinstance(value, str) else value.decode()
            )
            for key, value in fields.items()
        }
        missing = [
            name for name in WIRE_FIELDS if name not in ("causation_id", "signature") and name not in text
        ]
        if missing:
            raise ValueError(f"stream entry lacks fields: {', '.join(missing)}")
        data: dict[str, Any] = {name: text.get(name) or None for name in WIRE_FIELDS}
        try:
            data["payload"] = json.loads(text["payload"])
        except json.JSONDecodeError as error:
            raise ValueError(f"payload is not JSON: {error.msg}") from error
        return cls.model_validate(data)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def format_time(moment: datetime) -> str:
    """ISO-8601 with offset, the form used on the wire."""
    return moment.isoformat()
