"""HTTP API of the person search 查找人员: a street's persons found by part of the 姓名 or the ID number's
last digits, within the caller's street (community).

``POST /persons:search`` is a read sent as a POST so that neither a name nor an ID number ever stands in
an address (the console's, this service's access logs, a proxy's): it changes nothing, so auditors may
send it, and it audits each person it answers itself (one entry per person, with the caller's
X-Purpose), since the access middleware audits reads by GET and HEAD only. The audit entry names the person
found, not what was typed.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from pydantic import BaseModel, ConfigDict, Field

from kernel.access.access import PERSONAL_DATA, QUERY_BY_POST, caller_of
from kernel.access.scopes import visible_area
from kernel.domain.rejections import CommandRejected
from kernel.http import MAX_OFFSET, MAX_QUERY_TEXT, Runtime
from services.survey import projection
from services.survey.key_release import audit_release
from services.survey.schemas import PersonPage, PersonSummary

SEARCH_PATH = "/persons:search"
MAX_NAME = 200
"""As long as a registered name may be (schemas.Text)."""
MIN_ID_DIGITS = 4
"""The fewest last characters of an ID number searched for: fewer would list most of a street."""
ID_NUMBER_LENGTH = 18


class PersonSearch(BaseModel):
    """What a clerk typed: part of a name, or an ID number (whole, or its last characters)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(
        default=None,
        max_length=MAX_NAME,
        description="Part of the 姓名 (2 characters find 王秀英 by 秀英).",
        examples=["王秀英"],
    )
    id_number: str | None = Field(
        default=None,
        max_length=ID_NUMBER_LENGTH,
        description=(
            f"The 身份证号, whole (18 characters) or its last {MIN_ID_DIGITS} to 17 characters "
            "(digits, the last may be X)."
        ),
        examples=["122318"],
    )
    street: str | None = Field(
        default=None, max_length=MAX_QUERY_TEXT, description="街道; a street user's own."
    )
    community: str | None = Field(
        default=None, max_length=MAX_QUERY_TEXT, description="社区 within the street."
    )
    limit: int = Field(default=50, ge=1, le=500, description="Page size.")
    offset: int = Field(default=0, ge=0, le=MAX_OFFSET, description="Rows to skip.")


def search_persons(body: PersonSearch, request: Request, runtime: Runtime) -> PersonPage:
    caller = caller_of(request)
    area = visible_area(caller, body.street, body.community)
    criteria = _criteria(body)
    with runtime.store.reading() as unit:
        page = projection.list_persons(
            unit.session,
            street=area.street,
            community=area.community,
            limit=body.limit,
            offset=body.offset,
            **criteria,
        )
    items = [PersonSummary.model_validate(row) for row in page.rows]
    if caller is not None:  # access control on: who read whom, before the answer leaves
        audit_release(request, caller, [item.person_id for item in items])
    return PersonPage(total=page.total, limit=body.limit, offset=body.offset, items=items)


def _criteria(body: PersonSearch) -> dict[str, Any]:
    name = (body.name or "").strip()
    id_number = (body.id_number or "").strip().upper()
    if not name and not id_number:
        raise CommandRejected("请填写要查找的姓名或身份证号", field="name", code="survey.search.empty")
    if id_number and not _id_characters(id_number):
        raise CommandRejected(
            f"身份证号只能是数字（最后一位可以是 X），至少填写后 {MIN_ID_DIGITS} 位",
            field="id_number",
            code="survey.search.id_number",
        )
    criteria: dict[str, Any] = {"id_number": None, "name": name or None}
    if len(id_number) == ID_NUMBER_LENGTH:
        criteria["id_number"] = id_number
    elif id_number:
        criteria["id_number_ending"] = id_number
    return criteria


def _id_characters(text: str) -> bool:
    digits = text[:-1] if text.endswith("X") else text
    return len(text) >= MIN_ID_DIGITS and digits.isascii() and digits.isdigit()


def add_person_search(app: FastAPI) -> None:
    """Serve the search on the app itself (the access middleware reads its marks before routing)."""
    app.add_api_route(
        SEARCH_PATH,
        search_persons,
        methods=["POST"],
        response_model=PersonPage,
        tags=["survey"],
        summary="Find persons of the caller's street (community) by part of the name or the ID number's end",
        description=(
            "A read sent as a POST: nothing typed stands in an address. Within the caller's street "
            "(community); a district user may name one. Forgotten persons are never found. Each person "
            "answered is audited with X-Purpose (422 `survey.search.empty` when nothing is asked, "
            "`survey.search.id_number` for an ID number that is not digits or shorter than "
            f"{MIN_ID_DIGITS})."
        ),
        openapi_extra={**PERSONAL_DATA, **QUERY_BY_POST},
    )
