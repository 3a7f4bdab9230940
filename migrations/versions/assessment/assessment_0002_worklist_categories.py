"""The worklist keeps the disability categories 残疾类别 of each needs survey (survey.need_surveyed's
``disability_categories``), for the referrals it issues to carry them.

Rows of surveys followed before keep NULL there: their referrals carry no categories.

Revision ID: assessment_0002
Revises: assessment_0001
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "assessment_0002"
down_revision: str | Sequence[str] | None = "assessment_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    columns = {column["name"] for column in sa.inspect(op.get_bind()).get_columns("assessment_worklist")}
    if "disability_categories" not in columns:
        op.add_column("assessment_worklist", sa.Column("disability_categories", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("assessment_worklist") as table:
        table.drop_column("disability_categories")
