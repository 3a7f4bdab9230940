"""The 序号 each street gave its forms of a year (附件2's heading), one form per number: the projection a new
form's number is looked up in, keyed by (year, street, serial_number).

Left empty here: the service builds it from the applications' events on its first submission after this
(approval_projection_builds records that it was built).

Revision ID: approval_0003
Revises: approval_0002
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "approval_0003"
down_revision: str | Sequence[str] | None = "approval_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "approval_serial_numbers",
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("street", sa.String(length=50), nullable=False),
        sa.Column("serial_number", sa.String(length=200), nullable=False),
        sa.Column("application_id", sa.String(length=36), nullable=False),
        sa.PrimaryKeyConstraint("year", "street", "serial_number"),
        sa.UniqueConstraint("application_id"),
        if_not_exists=True,
    )


def downgrade() -> None:
    op.drop_table("approval_serial_numbers")
