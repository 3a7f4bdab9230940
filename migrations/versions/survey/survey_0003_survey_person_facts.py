"""A survey's facts about the person where a standard depends on them (issue 13, rule 5): 低视力/盲/孤独症,
family hardship beyond 低保/低收入, a 居住证. Surveys recorded before say none.

Revision ID: survey_0003
Revises: survey_0002
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "survey_0003"
down_revision: str | Sequence[str] | None = "survey_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Added only where missing: a store a release without migrations made with ``create_all`` from code
    # that already declared them has them.
    present = {column["name"] for column in sa.inspect(op.get_bind()).get_columns("survey_results")}
    missing = [column for column in _columns() if column.name not in present]
    if missing:
        with op.batch_alter_table("survey_results") as table:
            for column in missing:
                table.add_column(column)


def _columns() -> list[sa.Column[object]]:
    return [
        sa.Column("disability_subtypes", sa.JSON(), nullable=False, server_default="[]"),
        sa.Column("hardship_statuses", sa.JSON(), nullable=False, server_default="[]"),
        sa.Column("residence_permit", sa.Boolean(), nullable=False, server_default=sa.false()),
    ]


def downgrade() -> None:
    with op.batch_alter_table("survey_results") as table:
        table.drop_column("residence_permit")
        table.drop_column("hardship_statuses")
        table.drop_column("disability_subtypes")
