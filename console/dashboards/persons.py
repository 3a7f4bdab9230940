"""The drill-down from a street's coverage bar: the persons the street's coverage counts for the year, each
named as the survey registry releases names to the clerk (console.names) and linked to their one-person
page. Settlement gives the ids and what it counted; a name the registry does not release is not listed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import Response

from console.labels import area_name
from console.names import person_cards
from console.web import SignedIn, console_of, render

router = APIRouter()
SETTLEMENT = "settlement"
PURPOSE = "数据看板：街道覆盖率所计人员"


@dataclass(frozen=True)
class CountedPerson:
    """A person of the street's coverage: name, community and what coverage counted."""

    person_id: UUID
    name: str
    community: str
    has_needs: bool
    served: bool


@router.get("/streets/{street}")
def street_persons(
    request: Request,
    clerk: SignedIn,
    street: Annotated[str, Path(max_length=100)],
    year: Annotated[int | None, Query()] = None,
) -> Response:
    """人员名单 behind a street's bar: who has needs and who was served, by community."""
    shown = year or console_of(request).year()
    counted = console_of(request).agencies.get(
        SETTLEMENT,
        "/reports/coverage/persons",
        user=clerk.name,
        purpose=PURPOSE,
        params={"year": shown, "street": street},
    )
    ids = [UUID(str(each["person_id"])) for each in counted]
    cards = person_cards(request, clerk, ids, purpose=PURPOSE) if ids else {}
    persons = [
        CountedPerson(
            card.person_id, card.name, str(each["community"]), bool(each["has_needs"]), bool(each["served"])
        )
        for each in counted
        if (card := cards.get(UUID(str(each["person_id"])))) is not None
    ]
    persons.sort(key=lambda person: (person.community, person.name))
    return render(
        request,
        "dashboards/street.html",
        street=area_name(street),
        street_code=street,
        year=shown,
        persons=persons,
        counted=len(counted),
        with_needs=sum(1 for each in counted if each["has_needs"]),
        served=sum(1 for each in counted if each["served"]),
        unseen=len(counted) - len(persons),
    )
