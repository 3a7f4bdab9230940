"""The assessment service's own tables: the worklist, its assessments and referrals.

Each table and index is created only if missing, so a store the last release without migrations
created (with ``create_all``) is adopted as it is; an empty database gets them all.

Revision ID: assessment_0001
Revises:
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "assessment_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("assessment",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "assessment_records",
        sa.Column("assessment_id", sa.String(length=36), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.String(length=100), nullable=False),
        sa.Column("institution_level", sa.String(length=20), nullable=False),
        sa.Column("assessed_on", sa.Date(), nullable=False),
        sa.Column("mode", sa.String(length=20), nullable=False),
        sa.Column("assessed_needs", sa.JSON(), nullable=False),
        sa.Column("referral_needed", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("assessment_id"),
        if_not_exists=True,
    )
    op.create_index(
        "ix_assessment_records_institution_id", "assessment_records", ["institution_id"], if_not_exists=True
    )
    op.create_index(
        "ix_assessment_records_person_id", "assessment_records", ["person_id"], if_not_exists=True
    )
    op.create_index("ix_assessment_records_year", "assessment_records", ["year"], if_not_exists=True)
    op.create_table(
        "assessment_referrals",
        sa.Column("referral_id", sa.String(length=36), nullable=False),
        sa.Column("assessment_id", sa.String(length=36), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("from_institution_id", sa.String(length=100), nullable=False),
        sa.Column("to_institution_id", sa.String(length=100), nullable=False),
        sa.Column("to_kind", sa.String(length=30), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("referral_id"),
        if_not_exists=True,
    )
    op.create_index(
        "ix_assessment_referrals_assessment_id", "assessment_referrals", ["assessment_id"], if_not_exists=True
    )
    op.create_index(
        "ix_assessment_referrals_person_id", "assessment_referrals", ["person_id"], if_not_exists=True
    )
    op.create_index("ix_assessment_referrals_year", "assessment_referrals", ["year"], if_not_exists=True)
    op.create_table(
        "assessment_worklist",
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("street", sa.String(length=50), nullable=False),
        sa.Column("community", sa.String(length=50), nullable=False),
        sa.Column("has_needs", sa.Boolean(), nullable=False),
        sa.Column("needed_items", sa.JSON(), nullable=False),
        sa.Column("home_visit_required", sa.Boolean(), nullable=False),
        sa.Column("surveyed_on", sa.Date(), nullable=False),
        sa.Column("certified", sa.Boolean(), nullable=False),
        sa.Column("survey_event_id", sa.String(length=36), nullable=False),
        sa.Column("supersedes_event_id", sa.String(length=36), nullable=True),
        sa.Column("correlation_id", sa.String(length=36), nullable=False),
        sa.PrimaryKeyConstraint("person_id", "year"),
        if_not_exists=True,
    )
    op.create_index("ix_assessment_worklist_street", "assessment_worklist", ["street"], if_not_exists=True)


def downgrade() -> None:
    for table in ("assessment_worklist", "assessment_referrals", "assessment_records"):
        op.drop_table(table)
