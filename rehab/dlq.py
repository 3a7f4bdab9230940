"""`rehab dlq`: list the dead letters of the services and re-deliver one, or all of them, after a fix."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import redis
from redis.typing import EncodableT, FieldT

from kernel.access.audit import printable
from kernel.messaging.dead_letters import RETRY_FOR, DeadLetter, dead_letter_stream

NOT_UTF8 = "entry.not_utf8"
"""The code of a dead letter whose entry was not UTF-8 (``kernel.messaging.dead_letter_reasons``)."""


class DeadLetterNotFound(LookupError):
    """No dead letter with that id on the service's dead-letter stream."""


class CannotRetry(ValueError):
    """A dead letter whose original entry cannot be published again as it was."""


def dead_letters(client: redis.Redis, services: Iterable[str]) -> list[tuple[str, DeadLetter]]:
    """(service, dead letter) of the given services, oldest first within each service."""
    found = []
    for service in services:
        for entry_id, fields in client.xrange(dead_letter_stream(service)) or []:
            found.append((service, DeadLetter.from_entry(entry_id, fields)))
    return found


def why_not_retried(letter: DeadLetter) -> str | None:
    """Why ``letter`` cannot be published again as it was; None when it can.

    An entry that was not UTF-8 is kept as text with U+FFFD in place of its bytes: publishing that would
    be another entry than the one dead-lettered (and the original could never be decoded anyway).
    """
    if not letter.source_stream or not letter.fields:
        return "没有来源流或原事件（no source stream or fields）"
    if letter.code == NOT_UTF8 or "UnicodeDecodeError" in f"{letter.reason} {letter.detail}":
        return (
            "原条目不是 UTF-8 文本，死信只保存了替换（U+FFFD）后的文字，重新投递会发布另一个条目；"
            "请让生产方重新发布该事件"
        )
    return None


def retry(client: redis.Redis, service: str, dead_letter_id: str) -> str:
    """Publish the original entry again on its source stream for the group that dead-lettered it;
    returns the new entry id.

    The copy carries :data:`RETRY_FOR` naming that group: the stream is shared, and every other group
    passes the copy by (it applied the original, or dead-lettered it itself and keeps its own dead letter
    to retry). The dead letter is deleted only after XADD succeeded: a failure in between leaves both (the
    event may then be delivered twice, which the consumers' inbox makes harmless), never neither.
    """
    stream = dead_letter_stream(service)
    entries = client.xrange(stream, min=dead_letter_id, max=dead_letter_id)
    if not entries:
        raise DeadLetterNotFound(f"{stream} 上没有死信 {dead_letter_id}（no dead letter）")
    letter = DeadLetter.from_entry(*entries[0])
    if (why := why_not_retried(letter)) is not None:
        raise CannotRetry(f"死信 {dead_letter_id} 不能重新投递：{why}")
    new_id = client.xadd(letter.source_stream, _copy(letter.fields, {letter.consumer_group or service}))
    client.xdel(stream, dead_letter_id)
    return new_id.decode() if isinstance(new_id, bytes) else str(new_id)


def _copy(fields: dict[str, str], groups: set[str]) -> dict[FieldT, EncodableT]:
    """The original fields, addressed to ``groups`` (a copy retried before is addressed anew)."""
    copy: dict[FieldT, EncodableT] = {name: value for name, value in fields.items() if name != RETRY_FOR}
    copy[RETRY_FOR] = ",".join(sorted(groups))
    return copy


@dataclass(frozen=True)
class Retried:
    """What a bulk retry did."""

    dead_letters: int
    events: int
    services: tuple[str, ...]
    refused: tuple[tuple[str, str, str], ...] = ()
    """(service, dead letter id, why) of each dead letter left in place: it cannot be published as it was."""


def retry_all(client: redis.Redis, services: Iterable[str], reason: str | None = None) -> Retried:
    """Re-publish every dead letter of ``services`` (those whose reason, code or technical detail contains
    ``reason``, ignoring case, when given), e.g. after an outage that dead-lettered good events (issue 14).

    An event several services dead-lettered is published once, addressed (:data:`RETRY_FOR`) to the groups
    whose dead letters are retried, and to no other: a group that dead-lettered it too but is not among
    ``services`` keeps its dead letter and passes the copy by, rather than dead-lettering it a second time.
    Each dead letter is deleted only after its event's XADD succeeded, as in :func:`retry`; one that
    cannot be published as it was (:func:`why_not_retried`) is left in place and reported.
    """
    wanted = reason.casefold() if reason else None
    chosen = [
        (service, letter)
        for service, letter in dead_letters(client, services)
        if wanted is None or wanted in _reason_texts(letter)
    ]
    refused = tuple(
        (service, letter.id, why)
        for service, letter in chosen
        if (why := why_not_retried(letter)) is not None
    )
    retried = [(service, letter) for service, letter in chosen if why_not_retried(letter) is None]
    events: dict[tuple[str, str], tuple[DeadLetter, set[str]]] = {}
    for service, letter in retried:
        event = (letter.source_stream, letter.event_id or letter.id)
        events.setdefault(event, (letter, set()))[1].add(letter.consumer_group or service)
    published: set[tuple[str, str]] = set()
    for service, letter in retried:
        event = (letter.source_stream, letter.event_id or letter.id)
        if event not in published:
            first, groups = events[event]
            client.xadd(first.source_stream, _copy(first.fields, groups))
            published.add(event)
        client.xdel(dead_letter_stream(service), letter.id)
    return Retried(
        len(retried), len(published), tuple(sorted({service for service, _letter in retried})), refused
    )


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
