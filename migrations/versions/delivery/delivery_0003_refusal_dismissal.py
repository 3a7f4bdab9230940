"""A refused service record the institution will not resend is dismissed 撤销: when, who and why. It
leaves the list of 被退回的服务记录 and stays in the table for audit; rows before keep NULL (listed).

Revision ID: delivery_0003
Revises: delivery_0002
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "delivery_0003"
down_revision: str | Sequence[str] | None = "delivery_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = (
    ("dismissed_at", sa.DateTime(timezone=True)),
    ("dismissed_by", sa.String(length=100)),
    ("dismissal_reason", sa.Text()),
)


def upgrade() -> None:
    present = {column["name"] for column in sa.inspect(op.get_bind()).get_columns("delivery_refused_records")}
    for name, kind in COLUMNS:
        if name not in present:
            op.add_column("delivery_refused_records", sa.Column(name, kind, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("delivery_refused_records") as table:
        for name, _kind in reversed(COLUMNS):
            table.drop_column(name)
