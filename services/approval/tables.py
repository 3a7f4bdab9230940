"""The approval service's own tables: received referrals, issued service cards, and the form facts
the contracts do not carry yet (declared economic status and categories, attachments added later)."""

from __future__ import annotations

from sqlalchemy import Column, Date, Integer, MetaData, String, Table, Text, UniqueConstraint

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
)
"""Projection of assessment.referral_issued: which items each person has been referred for."""

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

declarations = Table(
    "approval_application_declarations",
    tables,
    Column("application_id", String(36), primary_key=True),
    Column("economic_status", String(40), nullable=False),
    Column("disability_categories", Text, nullable=False),
)
"""家庭经济状况 and 残疾类别 as declared on the form; ApplicationSubmitted v1 has no field for them."""

attachment_additions = Table(
    "approval_attachment_additions",
    tables,
    Column("position", Integer, primary_key=True, autoincrement=True),
    Column("application_id", String(36), nullable=False, index=True),
    Column("attachments", Text, nullable=False),
    Column("added_on", Date, nullable=False),
    sqlite_autoincrement=True,
)
"""Attachments handed in after submission; the contracts have no event for them yet."""
