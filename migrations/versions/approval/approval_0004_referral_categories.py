"""A referral keeps the person's disability categories 残疾类别 (assessment.referral_issued's optional
``disability_categories``, JSON): a form it backs must tick the same ones.

Rows of referrals received before keep NULL there (the events did not carry them): not checked.

Revision ID: approval_0004
Revises: approval_0003
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "approval_0004"
down_revision: str | Sequence[str] | None = "approval_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    columns = {column["name"] for column in sa.inspect(op.get_bind()).get_columns("approval_referrals")}
    if "disability_categories" not in columns:
        op.add_column("approval_referrals", sa.Column("disability_categories", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("approval_referrals") as table:
        table.drop_column("disability_categories")
