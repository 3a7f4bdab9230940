"""The fact log says whom each fact concerns, and what the books leave unsettled is kept (ADR 0021).

The live ledger keeps the books of recent persons only and builds a person's book from their facts when
needed: the fact log gets ``person`` and ``application`` (indexed), filled for the rows logged before
from each row's own text, an institution change taking the person of its application's other facts.
``settlement_unsettled`` keeps what each person's book leaves unsettled; ``settlement_projections``
names the projections built: a store upgraded from the previous release has none, and the service builds
``unsettled`` from the fact log at start-up.

Revision ID: settlement_0002
Revises: settlement_0001
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "settlement_0002"
down_revision: str | Sequence[str] | None = "settlement_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Where person and application sit in a fact-log row ``[name, *fields]`` when this revision was written
# (fields are only ever added at the end, so these places hold for every row logged before).
_PERSON_AT = {"surveyed": 2, "assessed": 2, "approved": 3, "refused": 3, "recorded": 4, "described": 3}
_APPLICATION_AT = {"approved": 2, "refused": 2, "recorded": 3, "changed": 2, "described": 2}


def upgrade() -> None:
    bind = op.get_bind()
    present = {column["name"] for column in sa.inspect(bind).get_columns("settlement_facts")}
    added = [column for column in _key_columns() if column.name not in present]
    if added:
        with op.batch_alter_table("settlement_facts") as table:
            for column in added:
                table.add_column(column)
        _fill_keys(bind.dialect.name)
    op.create_index(
        "ix_settlement_facts_person", "settlement_facts", ["person", "position"], if_not_exists=True
    )
    op.create_index(
        "ix_settlement_facts_application", "settlement_facts", ["application"], if_not_exists=True
    )
    op.create_table(
        "settlement_unsettled",
        sa.Column("person", sa.String(length=36), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column(
            "source_event_ids", sa.Text(), nullable=False, comment="JSON list of the events it rests on"
        ),
        if_not_exists=True,
    )
    op.create_index("ix_settlement_unsettled_person", "settlement_unsettled", ["person"], if_not_exists=True)
    op.create_index(
        "ix_settlement_unsettled_subject", "settlement_unsettled", ["subject"], if_not_exists=True
    )
    op.create_table(
        "settlement_projections",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("name"),
        if_not_exists=True,
    )


def _key_columns() -> list[sa.Column[str]]:
    return [
        sa.Column(
            "person",
            sa.String(length=36),
            nullable=True,
            comment="whom the fact concerns (an institution change: its application's)",
        ),
        sa.Column(
            "application",
            sa.String(length=36),
            nullable=True,
            comment="the application the fact names, if any",
        ),
    ]


def _fill_keys(dialect: str) -> None:
    def element(index: int) -> str:
        if dialect == "postgresql":
            return f"(fact::json ->> {index})"
        return f"json_extract(fact, '$[{index}]')"

    name = "(fact::json ->> 0)" if dialect == "postgresql" else "json_extract(fact, '$[0]')"

    def by_type(places: dict[str, int]) -> str:
        cases = " ".join(f"WHEN '{fact}' THEN {element(index)}" for fact, index in places.items())
        return f"CASE {name} {cases} END"

    op.execute(
        f"UPDATE settlement_facts SET person = {by_type(_PERSON_AT)}, "
        f"application = {by_type(_APPLICATION_AT)}"
    )
    op.execute(
        "UPDATE settlement_facts SET person = (SELECT named.person FROM settlement_facts AS named "
        "WHERE named.application = settlement_facts.application AND named.person IS NOT NULL LIMIT 1) "
        "WHERE person IS NULL AND application IS NOT NULL"
    )


def downgrade() -> None:
    op.drop_table("settlement_projections")
    op.drop_index("ix_settlement_unsettled_subject", table_name="settlement_unsettled")
    op.drop_index("ix_settlement_unsettled_person", table_name="settlement_unsettled")
    op.drop_table("settlement_unsettled")
    op.drop_index("ix_settlement_facts_application", table_name="settlement_facts")
    op.drop_index("ix_settlement_facts_person", table_name="settlement_facts")
    with op.batch_alter_table("settlement_facts") as table:
        table.drop_column("application")
        table.drop_column("person")
