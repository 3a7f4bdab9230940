"""The survey service's own tables: persons, needs surveys and the persons' data keys (ADR 0007).

Each table and index is created only if missing, so a store the last release without migrations
created (with ``create_all``) is adopted as it is; an empty database gets them all.

Revision ID: survey_0001
Revises:
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "survey_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("survey",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "person_keys",
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("key_id", sa.String(length=40), nullable=False),
        sa.Column("key", sa.LargeBinary(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("destroyed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("person_id"),
        sa.UniqueConstraint("key_id"),
        if_not_exists=True,
    )
    op.create_table(
        "survey_persons",
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("id_number", sa.String(length=18), nullable=False),
        sa.Column("street", sa.String(length=50), nullable=False),
        sa.Column("community", sa.String(length=50), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("sex", sa.String(length=10), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("certified", sa.Boolean(), nullable=False),
        sa.Column("registered_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("person_id"),
        sa.UniqueConstraint("id_number"),
        if_not_exists=True,
    )
    op.create_index("ix_survey_persons_street", "survey_persons", ["street"], if_not_exists=True)
    op.create_table(
        "survey_results",
        sa.Column("survey_id", sa.String(length=36), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("survey_year", sa.Integer(), nullable=False),
        sa.Column("street", sa.String(length=50), nullable=False),
        sa.Column("community", sa.String(length=50), nullable=False),
        sa.Column("surveyed_on", sa.Date(), nullable=False),
        sa.Column("has_needs", sa.Boolean(), nullable=False),
        sa.Column("needed_items", sa.JSON(), nullable=False),
        sa.Column("home_visit_required", sa.Boolean(), nullable=False),
        sa.Column("surveyor", sa.String(length=200), nullable=False),
        sa.Column("certified", sa.Boolean(), nullable=False),
        sa.Column("supersedes", sa.String(length=36), nullable=True),
        sa.Column("superseded_by", sa.String(length=36), nullable=True),
        sa.PrimaryKeyConstraint("survey_id"),
        if_not_exists=True,
    )
    op.create_index("ix_survey_results_person_id", "survey_results", ["person_id"], if_not_exists=True)
    op.create_index("ix_survey_results_street", "survey_results", ["street"], if_not_exists=True)
    op.create_index("ix_survey_results_survey_year", "survey_results", ["survey_year"], if_not_exists=True)


def downgrade() -> None:
    for table in ("survey_results", "survey_persons", "person_keys"):
        op.drop_table(table)
