"""Money stored beyond its bound in settlement's store: what `rehab verify` and `rehab replay` report
instead of crashing on it (issue 14, defect 3).

Commands refuse amounts above ``MAX_AMOUNT_FEN`` since issue 14, but an archive may hold events recorded
before: their amounts are named here, with the event that carries them and the postings they made.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

from rehab_contracts import MAX_AMOUNT_FEN
from sqlalchemy import Connection, or_, select

from kernel.store.store import inbox_table

_LONG_NUMBER = re.compile(r"[0-9]{9,}")
"""Text that may hold an amount above the bound (nine digits or more): only such envelopes are decoded
when the whole archive is searched (the contracts refuse a negative amount even in stored events)."""


def amounts_beyond_bound(value: Any, path: str = "") -> Iterator[tuple[str, int]]:
    """(path, amount) of every ``*_fen`` integer in a decoded payload outside 0..MAX_AMOUNT_FEN."""
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if key.endswith("_fen") and isinstance(item, int) and not isinstance(item, bool):
                if not 0 <= item <= MAX_AMOUNT_FEN:
                    yield where, item
            else:
                yield from amounts_beyond_bound(item, where)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from amounts_beyond_bound(item, f"{path}.{index}")


def postings_beyond_bound(connection: Connection) -> list[tuple[str, str, int, list[str]]]:
    """(key, rule, amount, source event ids) of each posting whose amount is outside 1..MAX_AMOUNT_FEN."""
    from services.settlement.ledger.tables import postings_table

    postings = postings_table.c
    query = select(postings.key, postings.rule, postings.amount_fen, postings.source_event_ids).where(
        or_(postings.amount_fen > MAX_AMOUNT_FEN, postings.amount_fen <= 0)
    )
    return [
        (row.key, row.rule, int(row.amount_fen), [str(i) for i in json.loads(row.source_event_ids)])
        for row in connection.execute(query.order_by(postings.key))
    ]


def archived_beyond_bound(connection: Connection, event_ids: Iterable[str] | None = None) -> list[str]:
    """One line per amount outside 0..MAX_AMOUNT_FEN in the archive (of ``event_ids``, or of every event)."""
    query = select(inbox_table.c.event_id, inbox_table.c.envelope).order_by(inbox_table.c.position)
    if event_ids is not None:
        query = query.where(inbox_table.c.event_id.in_(sorted(set(event_ids))))
    found = []
    for event_id, text in connection.execute(query):
        if not _LONG_NUMBER.search(text):
            continue
        envelope = json.loads(text)
        found += [
            f"事件 {event_id}（{envelope.get('event_type', '?')}）：{path} = {amount} 分（fen），"
            f"超出 0..{MAX_AMOUNT_FEN}"
            for path, amount in amounts_beyond_bound(envelope.get("payload"))
        ]
    return found


def stored_amounts_beyond_bound(connection: Connection, *, whole_archive: bool) -> list[str]:
    """The postings outside 1..MAX_AMOUNT_FEN and the archived amounts behind them (or, with
    ``whole_archive``, every archived amount out of range), one line each."""
    postings = postings_beyond_bound(connection)
    lines = [
        f"记账 {key}（{rule}）：amount_fen = {amount} 分（fen），超出 1..{MAX_AMOUNT_FEN}"
        for key, rule, amount, _sources in postings
    ]
    sources = None if whole_archive else [source for *_posting, ids in postings for source in ids]
    if sources == []:
        return lines
    return lines + archived_beyond_bound(connection, sources)
