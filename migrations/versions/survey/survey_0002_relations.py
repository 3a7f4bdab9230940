"""What survey learns from the other agencies' events (ADR 0016).

Which institutions serve whom, how far each person's year has gone, and the year of each assessment
or application.

Created only if missing: code released before migrations made these tables with ``create_all``.

Revision ID: survey_0002
Revises: survey_0001
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "survey_0002"
down_revision: str | Sequence[str] | None = "survey_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "survey_cases",
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("case_id"),
        if_not_exists=True,
    )
    op.create_table(
        "survey_institution_persons",
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("institution_id", sa.String(length=100), nullable=False),
        sa.Column("relation", sa.String(length=20), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("since", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("person_id", "institution_id", "relation", "year"),
        if_not_exists=True,
    )
    op.create_index(
        "ix_survey_institution_persons_institution_id",
        "survey_institution_persons",
        ["institution_id"],
        if_not_exists=True,
    )
    op.create_table(
        "survey_person_years",
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("assessed_on", sa.Date(), nullable=True),
        sa.Column("referred_on", sa.Date(), nullable=True),
        sa.Column("applied_on", sa.Date(), nullable=True),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("decision", sa.String(length=20), nullable=True),
        sa.PrimaryKeyConstraint("person_id", "year"),
        if_not_exists=True,
    )


def downgrade() -> None:
    for table in ("survey_person_years", "survey_institution_persons", "survey_cases"):
        op.drop_table(table)
