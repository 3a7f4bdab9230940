"""The delivery service's own tables: the entitlements and institution changes projected from approvals, and
the index of its own service records by application."""

from __future__ import annotations

from sqlalchemy import Column, Date, DateTime, Index, Integer, MetaData, String, Table, Text

tables = MetaData()

entitlements = Table(
    "delivery_entitlements",
    tables,
    Column("application_id", String(36), primary_key=True),
    Column("item", String(60), primary_key=True),
    Column("person_id", String(36), nullable=False, index=True),
    Column("year", Integer, nullable=False),
    Column("street", String(50), nullable=False),
    Column("service_card_number", String(40), nullable=False),
    Column("institution_id", String(100)),
    Column("subsidy_mode", String(20), nullable=False),
    Column("amount_fen", Integer),
    Column("approved_on", Date, nullable=False),
    Column("approval_event_id", String(36), nullable=False),
)
"""Projection of approval.application_approved: one row per approved item 享受的康复项目."""

institution_changes = Table(
    "delivery_institution_changes",
    tables,
    Column("event_id", String(36), primary_key=True),
    Column("application_id", String(36), nullable=False),
    Column("item", String(60), nullable=False),
    Column("from_institution_id", String(100), nullable=False),
    Column("to_institution_id", String(100), nullable=False),
    Column("effective_on", Date, nullable=False),
    Index("ix_delivery_institution_changes_item", "application_id", "item"),
)
"""Projection of approval.institution_change_approved: from effective_on the item has another institution."""

records = Table(
    "delivery_records",
    tables,
    Column("delivery_id", String(36), primary_key=True),
    Column("application_id", String(36), nullable=False, index=True),
    Column("item", String(60), nullable=False),
)
"""Projection of this service's ServiceDelivered, written in its transaction: the records of an application
are found here instead of by reading every record ever kept."""

projection_builds = Table(
    "delivery_projection_builds",
    tables,
    Column("projection", String(60), primary_key=True),
    Column("built_at", DateTime(timezone=True), nullable=False),
)
"""Which projections were built from the events: a store created before one existed rebuilds it once."""

refused_records = Table(
    "delivery_refused_records",
    tables,
    Column("refusal_id", String(36), primary_key=True),
    Column("institution_id", String(100), nullable=False, index=True),
    Column("application_id", String(36), nullable=False),
    Column("item", String(60), nullable=False),
    Column("record", Text, nullable=False),
    Column("status", Integer, nullable=False),
    Column("code", String(100), nullable=False),
    Column("field", String(100)),
    Column("reason", Text, nullable=False),
    Column("refused_at", DateTime(timezone=True), nullable=False),
    Column("refused_by", String(100)),
    Column("dismissed_at", DateTime(timezone=True)),
    Column("dismissed_by", String(100)),
    Column("dismissal_reason", Text),
)
"""Service records a rule refused, as sent (JSON), with the reason: kept in the refusal's own transaction
so the institution can correct and resend them. Not events: nothing happened to the person. A refusal the
institution will not resend is dismissed 撤销 (when, who, why): it leaves the list and stays in the table."""

corrections = Table(
    "delivery_corrections",
    tables,
    Column("event_id", String(36), primary_key=True),
    Column("delivery_id", String(36), nullable=False, index=True),
    Column("corrected_at", DateTime(timezone=True), nullable=False),
    Column("corrected_by", String(100)),
    Column("reason", Text, nullable=False),
)
"""Corrections 更正 of service records: the correcting ServiceDelivered (its event id, the same delivery_id),
when, by whom and why, as the clerk wrote it. The reason stays here (free text is not published): the
event carries the corrected record, which settlement adjusts to (ADR 0006)."""
