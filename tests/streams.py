"""Redis stream entries for tests, typed: read back as text, appended from any string mapping.

redis-py types an entry id as ``bytes | str | None`` and its fields as an optional dict (whether the
client decodes responses is not in its type), and XADD's fields as an invariant ``dict`` that
refuses ``dict[str, str]``; these helpers keep those types out of the tests.
"""

from __future__ import annotations

from collections.abc import Mapping

import redis
from redis.typing import EncodableT, FieldT, StreamEntry

from kernel.messaging.dead_letters import as_text

Entry = tuple[str, dict[str, str]]
"""An entry id and its fields, decoded."""


def entries(
    client: redis.Redis, stream: str | bytes, first: str = "-", last: str = "+", count: int | None = None
) -> list[Entry]:
    """The entries of ``stream`` from ``first`` to ``last``, oldest first (``count`` of them, when given)."""
    return [_decoded(entry) for entry in client.xrange(stream, min=first, max=last, count=count) or []]


def add(
    client: redis.Redis, stream: str, fields: Mapping[str, str] | Mapping[bytes, bytes], entry_id: str = "*"
) -> str:
    """Append ``fields`` to ``stream`` (as ``entry_id``, when given); returns the new entry's id."""
    wire: dict[FieldT, EncodableT] = {name: value for name, value in fields.items()}
    return as_text(client.xadd(stream, wire, id=entry_id))


def read_group(
    client: redis.Redis, stream: str, group: str, consumer: str, count: int | None = None
) -> list[Entry]:
    """What XREADGROUP delivers to ``consumer`` of ``group``: entries never delivered to the group before."""
    reply = client.xreadgroup(group, consumer, {stream: ">"}, count=count)
    assert isinstance(reply, list), "XREADGROUP answers a list of (stream, entries) over RESP2"
    [[_stream, delivered]] = reply
    return [_decoded(entry) for entry in delivered]


def _decoded(entry: StreamEntry) -> Entry:
    entry_id, fields = entry
    return as_text(entry_id), {as_text(name): as_text(value) for name, value in (fields or {}).items()}


class PendingAcknowledgedMeanwhile:
    """A Redis whose ``group`` had pending entries when XINFO GROUPS counted them and none when XPENDING
    ran (acknowledged in between): XPENDING's summary then names no lowest entry."""

    def __init__(self, group: str, last_delivered: str = "1700000000000-5") -> None:
        self.group, self.last_delivered = group, last_delivered

    async def xinfo_groups(self, stream: str) -> list[dict[str, object]]:
        return [
            {"name": self.group.encode(), "last-delivered-id": self.last_delivered.encode(), "pending": 1}
        ]

    async def xpending(self, stream: str, group: str) -> dict[str, object]:
        return {"pending": 0, "min": None, "max": None, "consumers": []}
