"""A referral keeps the street and community the person is registered in (assessment.referral_issued's
optional ``street`` and ``community``): only that street's communities may apply with it.

Rows of referrals received before keep NULL there (the events did not carry them).

Revision ID: approval_0002
Revises: approval_0001
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "approval_0002"
down_revision: str | Sequence[str] | None = "approval_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    columns = {column["name"] for column in sa.inspect(op.get_bind()).get_columns("approval_referrals")}
    for name in ("street", "community"):
        if name not in columns:
            op.add_column("approval_referrals", sa.Column(name, sa.String(length=50), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("approval_referrals") as table:
        table.drop_column("community")
        table.drop_column("street")
