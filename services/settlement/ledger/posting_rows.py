"""Postings as rows of the postings table and back, and their bulk insert (a driver fast path on SQLite)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from json.encoder import c_make_encoder, encode_basestring, encode_basestring_ascii  # type: ignore[attr-defined]
from typing import Any

from sqlalchemy import Connection, insert, select
from sqlalchemy.orm import Session

from services.settlement.book.dues import Posting, posting_id_text
from services.settlement.ledger.tables import postings_table

Database = Session | Connection

_BATCH = 5000


def insert_postings(database: Database, postings: Sequence[Posting]) -> None:
    """Insert postings (their journal lines are the view's); no check for existing keys."""
    insert_rows(database, [posting_row(posting) for posting in postings])


def insert_rows(database: Database, rows: list[tuple[object, ...]]) -> None:
    """Insert postings as their rows (``posting_row``)."""
    connection = database.connection() if isinstance(database, Session) else database
    if connection.dialect.name == "sqlite":
        # Straight to the driver: SQLAlchemy's per-row parameter processing was most of the time.
        for start in range(0, len(rows), _BATCH):
            connection.exec_driver_sql(_SQLITE_INSERT, rows[start : start + _BATCH])
        return
    names = [column.name for column in postings_table.columns]
    for start in range(0, len(rows), _BATCH):
        batch = [dict(zip(names, row, strict=True)) for row in rows[start : start + _BATCH]]
        for values in batch:
            values["business_date"] = date.fromisoformat(str(values["business_date"]))
        connection.execute(insert(postings_table), batch)


def write_postings(database: Database, postings: Sequence[Posting]) -> int:
    """Insert the postings whose id (uuid5 of the key) is not in the ledger yet; returns how many were new."""
    by_id = {str(row[0]): row for row in map(posting_row, postings)}  # a row begins with its id
    ids, existing = list(by_id), set[str]()
    for start in range(0, len(ids), _BATCH):
        stored = postings_table.c.posting_id
        existing.update(database.scalars(select(stored).where(stored.in_(ids[start : start + _BATCH]))))
    fresh = [row for posting_id, row in by_id.items() if posting_id not in existing]
    insert_rows(database, fresh)
    return len(fresh)


def posting_row(posting: Posting) -> tuple[object, ...]:
    """A posting as the row of the postings table: columns in order, the date as ISO text, provenance
    as JSON: the text ``json.dumps`` gives the event ids and ``json.dumps(inputs, ensure_ascii=False,
    sort_keys=True)`` the inputs (dates as ISO text)."""
    # Unpacked at once rather than read field by field: a replay makes one row per posting.
    rule, key, day, debit, credit, amount_fen, policy_id, policy_version, sources, inputs = posting
    return (
        posting_id_text(key),
        rule,
        key,
        day.isoformat(),
        debit,
        credit,
        amount_fen,
        policy_id,
        policy_version,
        # A list of strings as json.dumps writes it: each escaped as its encoder does, ", " between.
        f"[{', '.join(map(encode_basestring_ascii, sources))}]",
        "".join(_INPUTS_JSON(inputs if type(inputs) is dict else dict(inputs), 0)),
    )


def posting_of(row: Any) -> Posting:
    """A stored posting as the domain value."""
    return Posting(
        rule=row.rule,
        key=row.key,
        business_date=row.business_date,
        debit_account=row.debit_account,
        credit_account=row.credit_account,
        amount_fen=row.amount_fen,
        policy_id=row.policy_id,
        policy_version=row.policy_version,
        source_event_ids=tuple(json.loads(row.source_event_ids)),
        inputs=json.loads(row.inputs),
    )


_COLUMNS = ", ".join(f'"{column.name}"' for column in postings_table.columns)
_SQLITE_INSERT = f"INSERT INTO postings ({_COLUMNS}) VALUES ({', '.join('?' * len(postings_table.columns))})"


def _json_value(value: object) -> str:
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


# The C encoder that json.dumps(inputs, ensure_ascii=False, sort_keys=True, default=_json_value) builds
# on every call, built once (the same text; no circular-reference check, which provenance, made of plain
# values, never needs). CPython's private helper: if a Python release drops it, json.dumps with those
# arguments gives the same text, only slower.
_INPUTS_JSON = c_make_encoder(None, _json_value, encode_basestring, None, ": ", ", ", True, False, True)
