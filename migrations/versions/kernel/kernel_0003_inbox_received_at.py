"""The inbox's ``received_at`` is indexed: settlement's ledger as of a date bounds the archive by it.

``rehab replay --as-of`` (and GET /replay/as-of) counts the events archived before an instant and finds
the first one archived at or after it; without the index both read the whole inbox, envelopes and all.
Every consumer writes a batch's rows with one ``received_at``, rising, so the index grows at its end.

Revision ID: kernel_0003
Revises: kernel_0002
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "kernel_0003"
down_revision: str | Sequence[str] | None = "kernel_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_inbox_received_at", "inbox", ["received_at"], if_not_exists=True)


def downgrade() -> None:
    op.drop_index("ix_inbox_received_at", table_name="inbox")
