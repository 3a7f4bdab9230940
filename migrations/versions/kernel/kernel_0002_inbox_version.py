"""The inbox keeps each consumed envelope's ``version`` in an indexed column (ADR 0014).

Consumers read the versions seen of a batch's aggregates from it in one indexed query. Rows written
before keep NULL there and their readers fall back to the envelope. The release before migrations
added the column itself at start-up (``ALTER TABLE``), so a store may already have it.

Revision ID: kernel_0002
Revises: kernel_0001
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "kernel_0002"
down_revision: str | Sequence[str] | None = "kernel_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COMMENT = "The envelope's version; NULL only in rows written before the column (read the envelope)."


def upgrade() -> None:
    columns = {column["name"] for column in sa.inspect(op.get_bind()).get_columns("inbox")}
    if "version" not in columns:
        op.add_column(
            "inbox",
            sa.Column(
                "version",
                sa.Integer(),
                nullable=True,
                comment=COMMENT,
            ),
        )
    op.create_index(
        "ix_inbox_aggregate_version", "inbox", ["source_stream", "stream_id", "version"], if_not_exists=True
    )


def downgrade() -> None:
    op.drop_index("ix_inbox_aggregate_version", table_name="inbox")
    op.drop_column("inbox", "version")
