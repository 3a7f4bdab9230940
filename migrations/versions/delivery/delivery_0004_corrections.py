"""Corrections 更正 of service records: the correcting event, when, by whom and why.

Revision ID: delivery_0004
Revises: delivery_0003
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "delivery_0004"
down_revision: str | Sequence[str] | None = "delivery_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "delivery_corrections",
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("delivery_id", sa.String(length=36), nullable=False),
        sa.Column("corrected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("corrected_by", sa.String(length=100), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("event_id"),
        if_not_exists=True,  # a store create_all made before migrations (ADR 0018) may have it
    )
    op.create_index(
        "ix_delivery_corrections_delivery_id", "delivery_corrections", ["delivery_id"], if_not_exists=True
    )


def downgrade() -> None:
    op.drop_table("delivery_corrections")
