"""The approval service's own tables: referrals, service cards, sign-off steps, approved items.

Each table and index is created only if missing, so a store the last release without migrations
created (with ``create_all``) is adopted as it is; an empty database gets them all.

Revision ID: approval_0001
Revises:
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "approval_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("approval",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "approval_approved_items",
        sa.Column("application_id", sa.String(length=36), nullable=False),
        sa.Column("item", sa.String(length=60), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("street", sa.String(length=50), nullable=False),
        sa.PrimaryKeyConstraint("application_id", "item"),
        if_not_exists=True,
    )
    op.create_index(
        "ix_approval_approved_items_year_street",
        "approval_approved_items",
        ["year", "street"],
        if_not_exists=True,
    )
    op.create_table(
        "approval_projection_builds",
        sa.Column("projection", sa.String(length=60), nullable=False),
        sa.Column("built_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("projection"),
        if_not_exists=True,
    )
    op.create_table(
        "approval_referrals",
        sa.Column("referral_id", sa.String(length=36), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("assessment_id", sa.String(length=36), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("from_institution_id", sa.String(length=100), nullable=False),
        sa.Column("to_institution_id", sa.String(length=100), nullable=False),
        sa.Column("to_kind", sa.String(length=40), nullable=False),
        sa.Column("items", sa.Text(), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("referral_id"),
        sa.UniqueConstraint("event_id"),
        if_not_exists=True,
    )
    op.create_index(
        "ix_approval_referrals_person_id", "approval_referrals", ["person_id"], if_not_exists=True
    )
    op.create_table(
        "approval_service_cards",
        sa.Column("card_number", sa.String(length=20), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.String(length=36), nullable=False),
        sa.PrimaryKeyConstraint("card_number"),
        sa.UniqueConstraint("application_id"),
        sa.UniqueConstraint("year", "sequence", name="uq_service_card_year_sequence"),
        if_not_exists=True,
    )
    op.create_table(
        "approval_sign_off_steps",
        sa.Column("position", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("application_id", sa.String(length=36), nullable=False),
        sa.Column("proposal_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("block", sa.String(length=30), nullable=False),
        sa.Column("slot", sa.String(length=120), nullable=False),
        sa.Column("signer", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("signatories", sa.Text(), nullable=True),
        sa.Column("command", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("position"),
        sa.UniqueConstraint("slot"),
        if_not_exists=True,
    )
    op.create_index(
        "ix_approval_sign_off_steps_application_id",
        "approval_sign_off_steps",
        ["application_id"],
        if_not_exists=True,
    )


def downgrade() -> None:
    for table in (
        "approval_sign_off_steps",
        "approval_service_cards",
        "approval_referrals",
        "approval_projection_builds",
        "approval_approved_items",
    ):
        op.drop_table(table)
