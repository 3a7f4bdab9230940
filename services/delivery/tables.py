"""The delivery service's own table: the entitlements projected from approvals."""

from __future__ import annotations

from sqlalchemy import Column, Date, Integer, MetaData, String, Table

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
