"""`rehab dlq`: list the dead letters of the services and re-deliver one after a fix."""

from __future__ import annotations

from collections.abc import Iterable

import redis

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
        raise DeadLetterNotFound(f"no dead letter {dead_letter_id} on {stream}")
    letter = DeadLetter.from_entry(*entries[0])
    if not letter.source_stream or not letter.fields:
        raise DeadLetterNotFound(f"dead letter {dead_letter_id} names no source stream or fields")
    # redis-py types XADD's fields as an invariant dict of its own unions: dict[str, str] is refused
    new_id = client.xadd(letter.source_stream, letter.fields)  # type: ignore[arg-type]
    client.xdel(stream, dead_letter_id)
    return new_id.decode() if isinstance(new_id, bytes) else str(new_id)


def render(letters: list[tuple[str, DeadLetter]]) -> str:
    """One line per dead letter: service, id, when, source entry, reason, deliveries, event."""
    if not letters:
        return "no dead letters\n"
    lines = [f"{'service':<11} {'dead letter id':<16} {'when (UTC)':<20} {'source':<36} reason"]
    for service, letter in letters:
        when = letter.dead_lettered_at.strftime("%Y-%m-%d %H:%M:%S")
        source = f"{letter.source_stream} {letter.source_entry_id}"
        event = f" [{letter.event_type} {letter.event_id}]" if letter.event_id else ""
        reason = letter.reason.splitlines()[0] if letter.reason else ""
        lines.append(
            f"{service:<11} {letter.id:<16} {when:<20} {source:<36} "
            f"{reason} (deliveries: {letter.delivery_count}){event}"
        )
    return "\n".join(lines) + "\n"
