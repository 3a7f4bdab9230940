"""Dead letters: stream entries a consumer gave up on, kept with the reason on a stream per service.

Each dead letter is one entry of plain string fields, readable by redis-cli: where the original
entry came from (source stream, entry id, consumer group), why it failed — ``reason``, one short Chinese
sentence for the operator, ``code``, a machine code, and ``detail``, the exception's whole text for
developers (``kernel.messaging.dead_letter_reasons``) — how many times it was delivered, when, and the
original fields as a JSON object, so ``rehab dlq retry`` can publish exactly the same entry again after a
fix.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kernel.messaging.dead_letter_reasons import DeadLetterReason


def dead_letter_stream(service: str) -> str:
    return f"rehab.{service}.dead_letters"


RETRY_FOR = "retry_for"
"""Field `rehab dlq retry` adds to an entry it publishes again: the consumer groups (comma-separated) that
dead-lettered it and are to have it again. The source stream is shared, so every group sees the copy;
the others pass it by (acknowledged, no effect): they applied the original, hold it pending, or
dead-lettered it themselves and keep that dead letter for their own retry (issue 14: retrying
settlement's dead letters made assessment dead-letter the same events twice)."""


def retried_for_others(fields: Mapping[Any, Any], group: str) -> bool:
    """True for an entry `rehab dlq retry` published again for other groups than ``group``."""
    addressed = fields.get(RETRY_FOR, fields.get(RETRY_FOR.encode()))
    return addressed is not None and group not in as_text(addressed).split(",")


@dataclass(frozen=True)
class DeadLetter:
    """One entry of a dead-letter stream."""

    source_stream: str
    source_entry_id: str
    consumer_group: str
    reason: str
    delivery_count: int
    dead_lettered_at: datetime
    fields: dict[str, str]
    id: str = ""
    """The dead letter's own entry id (empty until written)."""
    code: str = ""
    """Machine code of the reason (``event.invalid``); empty for a dead letter written before codes."""
    detail: str = ""
    """The technical text behind the reason (exception type and message), for developers."""

    @property
    def event_id(self) -> str:
        return self.fields.get("event_id", "")

    @property
    def event_type(self) -> str:
        return self.fields.get("event_type", "")

    def to_entry(self) -> dict[str, str]:
        return {
            "source_stream": self.source_stream,
            "source_entry_id": self.source_entry_id,
            "consumer_group": self.consumer_group,
            "reason": self.reason[:2000],
            "code": self.code,
            "detail": self.detail[:4000],
            "delivery_count": str(self.delivery_count),
            "dead_lettered_at": self.dead_lettered_at.isoformat(),
            "fields": json.dumps(self.fields, ensure_ascii=False),
        }

    @classmethod
    def from_entry(cls, entry_id: Any, raw: Mapping[Any, Any] | None) -> DeadLetter:
        """Read a dead letter back; tolerant of entries written before every field existed.

        Takes an entry as redis-py returns it, whose fields it types as optional (none for an entry
        deleted while pending).
        """
        text = {as_text(key): as_text(value) for key, value in (raw or {}).items()}
        dead_id = as_text(entry_id)
        at = text.get("dead_lettered_at")
        return cls(
            id=dead_id,
            source_stream=text.get("source_stream", ""),
            source_entry_id=text.get("source_entry_id", ""),
            consumer_group=text.get("consumer_group", ""),
            reason=text.get("reason", ""),
            delivery_count=int(text.get("delivery_count") or 0),
            dead_lettered_at=datetime.fromisoformat(at) if at else _time_of_entry(dead_id),
            fields=json.loads(text.get("fields") or "{}"),
            code=text.get("code", ""),
            detail=text.get("detail", ""),
        )


def new_dead_letter(
    *,
    source_stream: str,
    source_entry_id: str,
    consumer_group: str,
    reason: str | DeadLetterReason,
    delivery_count: int,
    fields: Mapping[Any, Any],
) -> DeadLetter:
    """A dead letter of an entry; ``reason`` from :func:`reason_of` (a bare text has no code or detail)."""
    if isinstance(reason, str):
        reason = DeadLetterReason("", reason, "")
    return DeadLetter(
        source_stream=source_stream,
        source_entry_id=source_entry_id,
        consumer_group=consumer_group,
        reason=reason.text,
        code=reason.code,
        detail=reason.detail,
        delivery_count=delivery_count,
        dead_lettered_at=datetime.now(UTC),
        fields={as_text(key): as_text(value) for key, value in fields.items()},
    )


def as_text(value: Any) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def fields_as_text(fields: Mapping[Any, Any]) -> dict[str, str]:
    """A stream entry's fields as text, as :func:`as_text` decodes each (inline: every entry read)."""
    return {
        (key.decode(errors="replace") if isinstance(key, bytes) else str(key)): (
            value.decode(errors="replace") if isinstance(value, bytes) else str(value)
        )
        for key, value in fields.items()
    }


def _time_of_entry(entry_id: str) -> datetime:
    milliseconds = int(entry_id.split("-")[0] or 0)
    return datetime.fromtimestamp(milliseconds / 1000, UTC)
