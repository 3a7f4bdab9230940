"""The kernel's tables as the last release without migrations created them (inbox without ``version``).

A store that release (or an older one) created has some or all of them: each table and index is
created only if missing, so such a store is adopted as it is; an empty database gets them all.

Revision ID: kernel_0001
Revises:
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "kernel_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("kernel",)
depends_on: str | Sequence[str] | None = None

Position = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    _events_and_outbox()
    _inbox_and_kept_answers()
    _parked_and_reconciled()
    _audit_log()


def _events_and_outbox() -> None:
    op.create_table(
        "events",
        sa.Column("position", Position, autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("stream_id", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column("schema_version", sa.Integer(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("producer", sa.String(length=50), nullable=False),
        sa.Column("correlation_id", sa.String(length=36), nullable=False),
        sa.Column("causation_id", sa.String(length=36), nullable=True),
        sa.Column("signature", sa.Text(), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("position"),
        sa.UniqueConstraint("event_id"),
        sa.UniqueConstraint("stream_id", "version", name="uq_events_stream_version"),
        sqlite_autoincrement=True,
        if_not_exists=True,
    )
    op.create_index("ix_events_correlation_id", "events", ["correlation_id"], if_not_exists=True)
    op.create_index("ix_events_event_type", "events", ["event_type"], if_not_exists=True)
    op.create_table(
        "outbox",
        sa.Column("position", Position, autoincrement=False, nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("stream_entry_id", sa.String(length=40), nullable=True),
        sa.PrimaryKeyConstraint("position"),
        sa.UniqueConstraint("event_id"),
        if_not_exists=True,
    )
    op.create_index("ix_outbox_published_at", "outbox", ["published_at"], if_not_exists=True)


def _inbox_and_kept_answers() -> None:
    op.create_table(
        "inbox",
        sa.Column("position", Position, autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("source_stream", sa.String(length=100), nullable=False),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column("stream_id", sa.String(length=200), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("envelope", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("position"),
        sa.UniqueConstraint("event_id"),
        sqlite_autoincrement=True,
        if_not_exists=True,
    )
    op.create_index("ix_inbox_event_type", "inbox", ["event_type"], if_not_exists=True)
    op.create_index("ix_inbox_stream_id", "inbox", ["stream_id"], if_not_exists=True)
    op.create_table(
        "idempotency_keys",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("request_id", sa.String(length=36), nullable=False),
        sa.Column("event_ids", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("response_headers", sa.Text(), nullable=True),
        sa.Column("response_body", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("key"),
        if_not_exists=True,
    )


def _parked_and_reconciled() -> None:
    op.create_table(
        "parked",
        sa.Column("position", Position, autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("source_stream", sa.String(length=100), nullable=False),
        sa.Column("stream_id", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("source_entry_id", sa.String(length=40), nullable=False),
        sa.Column("fields", sa.Text(), nullable=False, comment="The stream entry's fields as a JSON object."),
        sa.Column("parked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("position"),
        sa.UniqueConstraint("event_id"),
        sqlite_autoincrement=True,
        if_not_exists=True,
    )
    op.create_index(
        "ix_parked_aggregate", "parked", ["source_stream", "stream_id", "version"], if_not_exists=True
    )
    op.create_table(
        "reconciled",
        sa.Column("source_stream", sa.String(length=100), nullable=False),
        sa.Column(
            "entry_id",
            sa.String(length=40),
            nullable=False,
            comment="Every entry up to it was accounted for.",
        ),
        sa.PrimaryKeyConstraint("source_stream"),
        if_not_exists=True,
    )


def _audit_log() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user", sa.String(length=100), nullable=False),
        sa.Column("agency", sa.String(length=20), nullable=False),
        sa.Column("roles", sa.String(length=100), nullable=False),
        sa.Column("scope", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=300), nullable=False),
        sa.Column("subject", sa.String(length=100), nullable=False),
        sa.Column("purpose", sa.String(length=200), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        if_not_exists=True,
    )
    for column in ("read_at", "subject", "user"):
        op.create_index(f"ix_audit_log_{column}", "audit_log", [column], if_not_exists=True)


def downgrade() -> None:
    for table in ("audit_log", "reconciled", "parked", "idempotency_keys", "inbox", "outbox", "events"):
        op.drop_table(table)
