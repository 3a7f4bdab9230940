"""The approval service's own tables: received referrals, issued service cards, sign-off steps, and the
approved items that places 救助名额 are counted from.

Applications themselves live in their event streams; the approved items are a projection of them."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

tables = MetaData()

referrals = Table(
    "approval_referrals",
    tables,
    Column("referral_id", String(36), primary_key=True),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("assessment_id", String(36), nullable=False),
    Column("person_id", String(36), nullable=False, index=True),
    Column("from_institution_id", String(100), nullable=False),
    Column("to_institution_id", String(100), nullable=False),
    Column("to_kind", String(40), nullable=False),
    Column("items", Text, nullable=False),
    Column("issued_on", Date, nullable=False),
    Column("year", Integer, nullable=False),
    Column("street", String(50)),
    Column("community", String(50)),
    Column("disability_categories", Text),
)
"""Projection of assessment.referral_issued: which items each person has been referred for, where the
person is registered (street, community) and their disability categories 残疾类别 (JSON) as the year's
survey recorded them (NULL in referrals issued before the event carried them)."""

service_cards = Table(
    "approval_service_cards",
    tables,
    Column("card_number", String(20), primary_key=True),
    Column("year", Integer, nullable=False),
    Column("sequence", Integer, nullable=False),
    Column("application_id", String(36), nullable=False, unique=True),
    UniqueConstraint("year", "sequence", name="uq_service_card_year_sequence"),
)
"""Service cards 服务卡 issued, written with the ApplicationApproved issuing them: numbers stay unique."""

sign_off_steps = Table(
    "approval_sign_off_steps",
    tables,
    Column("position", Integer, primary_key=True, autoincrement=True),
    Column("application_id", String(36), nullable=False, index=True),
    Column("proposal_id", String(36), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("block", String(30), nullable=False),
    Column("slot", String(120), nullable=False, unique=True),
    Column("signer", String(200), nullable=False),
    Column("role", String(20), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("signatories", Text),
    Column("command", Text),
    Column("reason", Text),
)
"""Two-step sign-off (docs/adr/0008-two-step-sign-off.md): append-only; ``slot`` is unique, so two
concurrent steps on one proposal (or two proposals of one block) cannot both be recorded."""

approved_items = Table(
    "approval_approved_items",
    tables,
    Column("application_id", String(36), primary_key=True),
    Column("item", String(60), primary_key=True),
    Column("year", Integer, nullable=False),
    Column("street", String(50), nullable=False),
    Index("ix_approval_approved_items_year_street", "year", "street"),
)
"""Projection of ApplicationApproved, written in its transaction: one row per approved item, so the places
an area has taken in a year are counted here instead of by replaying every application."""

serial_numbers = Table(
    "approval_serial_numbers",
    tables,
    Column("year", Integer, primary_key=True),
    Column("street", String(50), primary_key=True),
    Column("serial_number", String(200), primary_key=True),
    Column("application_id", String(36), nullable=False, unique=True),
)
"""The 序号 each street gave its forms of a year (附件2's heading: 年度, 街道, 序号), written with the
submission: one form per number, and the key keeps two concurrent submissions from taking one number."""

projection_builds = Table(
    "approval_projection_builds",
    tables,
    Column("projection", String(60), primary_key=True),
    Column("built_at", DateTime(timezone=True), nullable=False),
)
"""Which projections were built from the events: a store created before one existed rebuilds it once."""
