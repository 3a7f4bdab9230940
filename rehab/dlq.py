"""`rehab dlq`: list the dead letters of the services and re-deliver one, or all of them, after a fix."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import redis

from kernel.access.audit import printable
from kernel.messaging.dead_letters import DeadLetter, dead_letter_stream


class DeadLetterNotFound(LookupError):
    """No dead letter with that id on the service's dead-letter stream."""


def dead_letters(client: redis.Redis, services: Iterable[str]) -> list[tuple[str, DeadLetter]]:
    """(service, dead letter) of the given services, oldest first within each service."""
    found = []
    for service in services:
        for entry_id, fields in client.xrange(dead_letter_stream(service)) or []:
            found.append((service, DeadLetter.from_entry(entry_id, fields)))
    return found


def retry(client: redis.Redis, service: str, dead_letter_id: str) -> str:
    """Publish the original entry again on its source stream; returns the new entry id.

    The dead letter is deleted only after XADD succeeded: a failure in between leaves both (the
    event may then be delivered twice, which the consumers' inbox makes harmless), never neither.
    Every group on the source stream sees the entry again; those that applied it already skip it.
    """
    stream = dead_letter_stream(service)
    entries = client.xrange(stream, min=dead_letter_id, max=dead_letter_id)
    if not entries:
        raise DeadLetterNotFound(f"{stream} 上没有死信 {dead_letter_id}（no dead letter）")
    letter = DeadLetter.from_entry(*entries[0])
    if not letter.source_stream or not letter.fields:
        raise DeadLetterNotFound(f"死信 {dead_letter_id} 没有来源流或原事件（no source stream or fields）")
    # redis-py types XADD's fields as an invariant dict of its own unions: dict[str, str] is refused
    new_id = client.xadd(letter.source_stream, letter.fields)  # type: ignore[arg-type]
    client.xdel(stream, dead_letter_id)
    return new_id.decode() if isinstance(new_id, bytes) else str(new_id)


@dataclass(frozen=True)
class Retried:
    """What a bulk retry did."""

    dead_letters: int
    events: int
    services: tuple[str, ...]


def retry_all(client: redis.Redis, services: Iterable[str], reason: str | None = None) -> Retried:
    """Re-publish every dead letter of ``services`` (those whose reason, code or technical detail contains
    ``reason``, ignoring case, when given), e.g. after an outage that dead-lettered good events (issue 14).

    An event several services dead-lettered is published once: every group of its stream sees it
    again, and those that applied it skip it. Each dead letter is deleted only after its event's
    XADD succeeded, as in :func:`retry`.
    """
    wanted = reason.casefold() if reason else None
    chosen = [
        (service, letter)
        for service, letter in dead_letters(client, services)
        if letter.source_stream and letter.fields and (wanted is None or wanted in _reason_texts(letter))
    ]
    published: set[tuple[str, str]] = set()
    for service, letter in chosen:
        event = (letter.source_stream, letter.event_id or letter.id)
        if event not in published:
            # redis-py types XADD's fields as an invariant dict of its own unions: dict[str, str] is refused
            client.xadd(letter.source_stream, letter.fields)  # type: ignore[arg-type]
            published.add(event)
        client.xdel(dead_letter_stream(service), letter.id)
    return Retried(len(chosen), len(published), tuple(sorted({service for service, _letter in chosen})))


def _reason_texts(letter: DeadLetter) -> str:
    return "\n".join((letter.reason, letter.code, letter.detail)).casefold()


DEAD_LETTER_HEADINGS = (
    "服务（service）",
    "死信编号（dead letter id）",
    "时间（UTC）",
    "来源条目（source）",
    "投递次数",
    "事件（event）",
    "原因（reason）",
)


def dead_letter_rows(letters: list[tuple[str, DeadLetter]]) -> list[tuple[str, ...]]:
    """One row per dead letter under :data:`DEAD_LETTER_HEADINGS`, the reason last (the longest).

    Every value that came from a stream entry is :func:`printable`: a reason or an event type holding
    a newline or a terminal escape cannot forge a row (issue 14)."""
    return [
        (
            service,
            letter.id,
            letter.dead_lettered_at.strftime("%Y-%m-%d %H:%M:%S"),
            printable(f"{letter.source_stream} {letter.source_entry_id}"),
            str(letter.delivery_count),
            printable(f"{letter.event_type} {letter.event_id}") if letter.event_id else "",
            printable(letter.reason),
        )
        for service, letter in letters
    ]
