"""HTTP API of the street office's worklist: persons with needs and where their year stands."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from kernel.access.access import PERSONAL_DATA, Caller
from kernel.access.scopes import visible_area
from kernel.http import MAX_QUERY_TEXT, Limit, Offset, Runtime, Street
from services.survey.progress import year_progress

router = APIRouter(tags=["survey"])

STAGES = (
    "not_assessed 待评估, assessed 已评估未转介, not_applied 已转介待申请, awaiting_decision 待审定, "
    "decided 已审定"
)


class StageCounts(BaseModel):
    with_needs: int = Field(description="Persons whose current survey of the year says 有康复需求.")
    not_assessed: int = Field(description="With needs, not yet assessed (待评估).")
    assessed: int = Field(description="Assessed, not referred to a service institution.")
    not_applied: int = Field(description="Referred to a service institution, not yet applied for (待申请).")
    awaiting_decision: int = Field(description="Applied (附件2), not yet decided by 区残联办.")
    decided: int = Field(description="The year's application approved or refused.")


class ProgressEntry(BaseModel):
    person_id: UUID
    name: str = Field(description="姓名.")
    street: str
    community: str
    surveyed_on: date
    needed_items: list[str]
    home_visit_required: bool
    stage: str = Field(description=STAGES)
    assessed_on: date | None
    referred_on: date | None
    applied_on: date | None
    decided_on: date | None
    decision: str | None = Field(description="approved or rejected, once decided.")


class StreetWorklist(BaseModel):
    year: int
    counts: StageCounts = Field(description="Every person with needs of the area, whatever ``stage`` asks.")
    total: int = Field(description="Persons listed with ``stage`` (all stages without it), before paging.")
    limit: int
    offset: int
    persons: list[ProgressEntry] = Field(description="Persons with needs, by community and survey date.")


@router.get(
    "/worklist",
    response_model=StreetWorklist,
    summary="Persons with needs of the year and their stage: not yet assessed, not yet applied for, …",
    description=(
        "The stages come from the assessment and approval events the registry follows. "
        "Names are listed: each read is audited as a read of personal data."
    ),
    openapi_extra=PERSONAL_DATA,
)
def get_worklist(
    runtime: Runtime,
    street: Street,
    caller: Caller,
    year: Annotated[int, Query(ge=2000, le=2100, description="Survey year.")],
    community: Annotated[str | None, Query(max_length=MAX_QUERY_TEXT)] = None,
    stage: Annotated[
        str | None, Query(max_length=MAX_QUERY_TEXT, description=f"Only this stage: {STAGES}.")
    ] = None,
    limit: Limit = 500,
    offset: Offset = 0,
) -> StreetWorklist:
    area = visible_area(caller, street, community)
    with runtime.store.reading() as unit:
        progress = year_progress(unit.session, year=year, street=area.street, community=area.community)
    listed = [row for row in progress.persons if stage in (None, row["stage"])]
    persons = [ProgressEntry.model_validate(row) for row in listed[offset : offset + limit]]
    counts = StageCounts(with_needs=len(progress.persons), **progress.counts)
    return StreetWorklist(
        year=year, counts=counts, total=len(listed), limit=limit, offset=offset, persons=persons
    )
