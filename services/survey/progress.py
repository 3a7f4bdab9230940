"""Where each person with needs stands in the year after the survey: the street office's worklist of
persons with needs not yet assessed, or referred and not yet applied for (issue 12).

The steps come from the assessment and approval events the registry follows (relations.py); the street
office reads them here, never in the other agencies' services, whose scopes do not cover streets.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from services.survey.projection import FORGOTTEN_ID_PREFIX, persons_table, surveys_table
from services.survey.relations import person_years_table

__all__ = [
    "ASSESSED",
    "AWAITING_DECISION",
    "DECIDED",
    "NOT_APPLIED",
    "NOT_ASSESSED",
    "YearProgress",
    "year_progress",
]

NOT_ASSESSED = "not_assessed"
"""Surveyed with needs, no assessment recorded in the year (待评估)."""
NOT_APPLIED = "not_applied"
"""Referred to a service institution, no application (附件2) submitted in the year (待申请)."""
AWAITING_DECISION = "awaiting_decision"
"""Applied, not yet decided by 区残联办 (待审定)."""
DECIDED = "decided"
"""The year's application was approved or refused (已审定)."""
ASSESSED = "assessed"
"""Assessed, not referred to a service institution (yet, or no service needed)."""


@dataclass(frozen=True)
class YearProgress:
    """The persons with needs of an area and year, each with their stage, and the count of each stage."""

    counts: dict[str, int]
    persons: list[dict[str, Any]]


def year_progress(session: Session, *, year: int, street: str | None, community: str | None) -> YearProgress:
    """Every person of the area with a current needs survey of ``year`` saying 有需求, with their stage."""
    surveys, persons, years = surveys_table.c, persons_table.c, person_years_table.c
    conditions = [surveys.survey_year == year, surveys.has_needs.is_(True), surveys.superseded_by.is_(None)]
    if street is not None:
        conditions.append(surveys.street == street)
    if community is not None:
        conditions.append(surveys.community == community)
    rows = session.execute(
        select(
            surveys.person_id,
            surveys.street,
            surveys.community,
            surveys.surveyed_on,
            surveys.needed_items,
            surveys.home_visit_required,
            persons.name,
            persons.id_number,
            years.assessed_on,
            years.referred_on,
            years.applied_on,
            years.decided_on,
            years.decision,
        )
        .join(persons_table, persons.person_id == surveys.person_id)
        .outerjoin(person_years_table, and_(years.person_id == surveys.person_id, years.year == year))
        .where(*conditions)
        .order_by(surveys.community, surveys.surveyed_on, surveys.person_id)
    ).mappings()
    listed = []
    counts = {stage: 0 for stage in (NOT_ASSESSED, ASSESSED, NOT_APPLIED, AWAITING_DECISION, DECIDED)}
    for row in rows:
        if row["id_number"].startswith(FORGOTTEN_ID_PREFIX):
            continue  # forgotten: nobody is to follow them up by name any more
        entry = {name: value for name, value in row.items() if name != "id_number"}
        entry["stage"] = _stage(entry)
        counts[entry["stage"]] += 1
        listed.append(entry)
    return YearProgress(counts, listed)


def _stage(row: dict[str, Any]) -> str:
    if row["decided_on"] is not None:
        return DECIDED
    if row["applied_on"] is not None:
        return AWAITING_DECISION
    if row["referred_on"] is not None:
        return NOT_APPLIED
    if row["assessed_on"] is not None:
        return ASSESSED
    return NOT_ASSESSED
