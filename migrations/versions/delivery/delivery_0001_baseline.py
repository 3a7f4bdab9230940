"""The delivery service's own tables: entitlements, institution changes, its records' index.

Each table and index is created only if missing, so a store the last release without migrations
created (with ``create_all``) is adopted as it is; an empty database gets them all.

Revision ID: delivery_0001
Revises:
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "delivery_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("delivery",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "delivery_entitlements",
        sa.Column("application_id", sa.String(length=36), nullable=False),
        sa.Column("item", sa.String(length=60), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("street", sa.String(length=50), nullable=False),
        sa.Column("service_card_number", sa.String(length=40), nullable=False),
        sa.Column("institution_id", sa.String(length=100), nullable=True),
        sa.Column("subsidy_mode", sa.String(length=20), nullable=False),
        sa.Column("amount_fen", sa.Integer(), nullable=True),
        sa.Column("approved_on", sa.Date(), nullable=False),
        sa.Column("approval_event_id", sa.String(length=36), nullable=False),
        sa.PrimaryKeyConstraint("application_id", "item"),
        if_not_exists=True,
    )
    op.create_index(
        "ix_delivery_entitlements_person_id", "delivery_entitlements", ["person_id"], if_not_exists=True
    )
    op.create_table(
        "delivery_institution_changes",
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("application_id", sa.String(length=36), nullable=False),
        sa.Column("item", sa.String(length=60), nullable=False),
        sa.Column("from_institution_id", sa.String(length=100), nullable=False),
        sa.Column("to_institution_id", sa.String(length=100), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("event_id"),
        if_not_exists=True,
    )
    op.create_index(
        "ix_delivery_institution_changes_item",
        "delivery_institution_changes",
        ["application_id", "item"],
        if_not_exists=True,
    )
    op.create_table(
        "delivery_projection_builds",
        sa.Column("projection", sa.String(length=60), nullable=False),
        sa.Column("built_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("projection"),
        if_not_exists=True,
    )
    op.create_table(
        "delivery_records",
        sa.Column("delivery_id", sa.String(length=36), nullable=False),
        sa.Column("application_id", sa.String(length=36), nullable=False),
        sa.Column("item", sa.String(length=60), nullable=False),
        sa.PrimaryKeyConstraint("delivery_id"),
        if_not_exists=True,
    )
    op.create_index(
        "ix_delivery_records_application_id", "delivery_records", ["application_id"], if_not_exists=True
    )


def downgrade() -> None:
    for table in (
        "delivery_records",
        "delivery_projection_builds",
        "delivery_institution_changes",
        "delivery_entitlements",
    ):
        op.drop_table(table)
