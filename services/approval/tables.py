"""The approval service's own tables: received referrals and issued service cards.

Applications themselves live only in their event streams; nothing about them is kept here."""

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
