"""The event store's ``idempotency_keys`` rows: a keyed command's key, its events and the answer it got
(see ``kernel.web.idempotency`` for how they are used)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Engine, Result, bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kernel.store.keyed import IdempotencyRecord, IdempotentRequest, StoredResponse
from kernel.store.sqlite import busy_means_retry
from kernel.store.tables import idempotency_keys_table

log = logging.getLogger("kernel.store.store")


_RECORD_OF_KEY = select(idempotency_keys_table).where(idempotency_keys_table.c.key == bindparam("key"))

_KEEP_RESPONSE = (
    update(idempotency_keys_table)
    .where(
        idempotency_keys_table.c.key == bindparam("kept_key"),
        idempotency_keys_table.c.request_id == bindparam("kept_request_id"),
    )
    .values(
        response_status=bindparam("kept_status"),
        response_headers=bindparam("kept_headers"),
        response_body=bindparam("kept_body"),
    )
)
"""Cached statements with their values as parameters: a keyed command compiles none of them."""


class KeptAnswers:
    """Reading, completing and expiring the kept keys (a part of ``EventStore``)."""

    engine: Engine
    read_engine: Engine

    def idempotency_record(self, key: str) -> IdempotencyRecord | None:
        """What is known of an ``Idempotency-Key``: its request, its events, its response."""
        # Asked before every keyed command: a connection and a cached statement, not an ORM session.
        with self.read_engine.connect() as connection:
            row = connection.execute(_RECORD_OF_KEY, {"key": key}).mappings().first()
        if row is None:
            return None
        return IdempotencyRecord(
            key=row["key"],
            request_hash=row["request_hash"],
            event_ids=json.loads(row["event_ids"]),
            status=row["response_status"],
            headers=[tuple(pair) for pair in json.loads(row["response_headers"] or "[]")],
            body=row["response_body"],
            request_id=row["request_id"],
        )

    def record_response(
        self, request: IdempotentRequest, status: int, headers: list[tuple[str, str]], body: bytes
    ) -> None:
        """Keep the successful response of a keyed command (which may have recorded no event)."""
        try:
            with Session(self.engine) as session, session.begin():
                if not keep_response(session, request, (status, headers, body)):
                    values = {"response_status": status, "response_headers": json.dumps(headers)}
                    row = {**key_row(request, []), **values, "response_body": body}
                    session.execute(insert(idempotency_keys_table).values(row))
        except IntegrityError:
            log.warning("%r was recorded by another request meanwhile; its response is kept", request.key)

    def forget_idempotency_keys(self, recorded_before: datetime) -> int:
        """Delete the keys, and the responses kept with them, recorded before a time; returns how many.

        A key only guards a client's retries, which come within minutes; kept forever, the table
        would grow without end and hold every response body.
        """
        table = idempotency_keys_table
        with busy_means_retry(), Session(self.engine) as session, session.begin():
            deleted = session.execute(delete(table).where(table.c.recorded_at < recorded_before))
            return _rows(deleted)


def key_row(request: IdempotentRequest, event_ids: list[str]) -> dict[str, Any]:
    return {
        "key": request.key,
        "request_hash": request.request_hash,
        "request_id": request.request_id,
        "event_ids": json.dumps(event_ids),
        "recorded_at": datetime.now(UTC),
    }


def keep_response(session: Session, request: IdempotentRequest, response: StoredResponse) -> int:
    """Keep the response with the request's key row; returns how many rows had it (0: none yet)."""
    status, headers, body = response
    values = {"kept_status": status, "kept_headers": json.dumps(headers), "kept_body": body}
    kept = session.connection().execute(
        _KEEP_RESPONSE, {"kept_key": request.key, "kept_request_id": request.request_id, **values}
    )
    return _rows(kept)


def _rows(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE touched."""
    return int(cast("CursorResult[Any]", result).rowcount)
