"""The delivery service's refused service records 被退回的服务记录: as sent, with the reason, when and who.

Revision ID: delivery_0002
Revises: delivery_0001
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "delivery_0002"
down_revision: str | Sequence[str] | None = "delivery_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "delivery_refused_records",
        sa.Column("refusal_id", sa.String(length=36), nullable=False),
        sa.Column("institution_id", sa.String(length=100), nullable=False),
        sa.Column("application_id", sa.String(length=36), nullable=False),
        sa.Column("item", sa.String(length=60), nullable=False),
        sa.Column("record", sa.Text(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=100), nullable=False),
        sa.Column("field", sa.String(length=100), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("refused_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("refused_by", sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint("refusal_id"),
        if_not_exists=True,  # a store create_all made before migrations (ADR 0018) may have it
    )
    op.create_index(
        "ix_delivery_refused_records_institution_id",
        "delivery_refused_records",
        ["institution_id"],
        if_not_exists=True,
    )


def downgrade() -> None:
    op.drop_table("delivery_refused_records")
