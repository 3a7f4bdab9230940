"""HTTP API of the street offices: register persons, record and list needs surveys."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response, status

from kernel.access.access import PERSONAL_DATA, Caller, caller_of
from kernel.access.auth import Principal
from kernel.access.scopes import area_of, require_area, visible_area
from kernel.domain.rejections import NotFound
from kernel.http import (
    MAX_QUERY_TEXT,
    Limit,
    Offset,
    Runtime,
    Street,
    command_for,
    in_command_thread,
    jurisdiction_of,
)
from kernel.runtime import ServiceRuntime
from services.survey import handlers, projection
from services.survey.domain import Guardian, NeedsSurveyRequest, Person, PersonDetails
from services.survey.handbook import basic_info_page
from services.survey.schemas import (
    CommunitiesOut,
    CommunityCount,
    Corrected,
    CorrectPersonBody,
    Created,
    GuardianBody,
    HandbookPage,
    PersonBody,
    PersonPage,
    PersonSummary,
    PersonView,
    RegisterPersonBody,
    SurveyBody,
    SurveyCreated,
    SurveyPage,
    SurveySummary,
)

router = APIRouter(tags=["survey"])


@router.post(
    "/persons",
    status_code=status.HTTP_201_CREATED,
    response_model=Created,
    summary="Register a person's basic information 残疾人基本信息",
)
async def register_person(body: RegisterPersonBody, request: Request) -> Response:
    # The commands read their command, jurisdiction and caller from the request, and only their unit of
    # work goes to a thread: the hot path of issue 17 (``kernel.http.in_command_thread``).
    command, area, caller = command_for(request), jurisdiction_of(request), caller_of(request)
    require_area(caller, body.street, body.community)
    details = _details(body)

    def register() -> Response:
        with command.unit() as unit:
            person_id = handlers.register_person(
                unit, area.streets, details, body.registered_on, area.communities.listed, _sight(caller)
            )
            answer = Created(person_id=person_id)
            return command.answer(answer, status=201, location=f"/persons/{person_id}")

    return await in_command_thread(register)


@router.get(
    "/communities",
    response_model=CommunitiesOut,
    summary="The 社区 the registry holds persons of, in the caller's street (names and counts)",
    description=(
        "What a registration form suggests for 社区, so that a typo does not start a community of its own. "
        "Names and counts only: no personal data, so no X-Purpose and no audit entry."
    ),
)
def list_communities(runtime: Runtime, street: Street, caller: Caller) -> CommunitiesOut:
    area = visible_area(caller, street, None)
    with runtime.store.reading() as unit:
        found = projection.communities(unit.session, street=area.street, community=area.community)
    counts = [CommunityCount(community=name, persons=count) for name, count in found]
    return CommunitiesOut(street=area.street, communities=counts)


@router.get(
    "/persons",
    response_model=PersonPage,
    summary="List registered persons (of the caller's street or community)",
    openapi_extra=PERSONAL_DATA,
)
def list_persons(
    runtime: Runtime,
    street: Street,
    caller: Caller,
    community: Annotated[str | None, Query(max_length=MAX_QUERY_TEXT)] = None,
    id_number: Annotated[
        str | None, Query(max_length=MAX_QUERY_TEXT, description="Find the person with this ID number.")
    ] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> PersonPage:
    area = visible_area(caller, street, community)
    with runtime.store.reading() as unit:
        page = projection.list_persons(
            unit.session,
            street=area.street,
            community=area.community,
            id_number=id_number,
            limit=limit,
            offset=offset,
        )
    items = [PersonSummary.model_validate(row) for row in page.rows]
    return PersonPage(total=page.total, limit=limit, offset=offset, items=items)


@router.get(
    "/persons/{person_id}",
    response_model=PersonView,
    summary="A person's basic information and surveys",
    openapi_extra=PERSONAL_DATA,
)
def get_person(person_id: UUID, runtime: Runtime, caller: Caller) -> PersonView:
    person, envelopes = _person_in_area(runtime, person_id, caller)
    surveys = _surveys(runtime, person_id=person_id, include_superseded=True)
    return _view(person, len(envelopes), surveys)


@router.post(
    "/persons/{person_id}/corrections",
    status_code=status.HTTP_201_CREATED,
    response_model=Corrected,
    summary="Correct a person's basic information",
)
async def correct_person(person_id: UUID, body: CorrectPersonBody, request: Request) -> Response:
    command, area, caller = command_for(request), jurisdiction_of(request), caller_of(request)
    changes = _changes(body)
    check = _in_area(caller, moving_to=changes)

    def correct() -> Response:
        with command.unit() as unit:
            corrected = handlers.correct_person(
                unit,
                area.streets,
                person_id,
                changes,
                body.reason,
                check,
                area.communities.listed,
                _sight(caller),
            )
            answer = Corrected(person_id=person_id, corrected=corrected)
            return command.answer(answer, status=201, location=f"/persons/{person_id}")

    return await in_command_thread(correct)


@router.get(
    "/persons/{person_id}/handbook",
    response_model=HandbookPage,
    summary="附件1 精准康复服务手册, page 1: 残疾人基本信息",
    openapi_extra=PERSONAL_DATA,
)
def get_handbook(person_id: UUID, runtime: Runtime, caller: Caller) -> HandbookPage:
    person, _ = _person_in_area(runtime, person_id, caller)
    return basic_info_page(person)


@router.post(
    "/persons/{person_id}/surveys",
    status_code=status.HTTP_201_CREATED,
    response_model=SurveyCreated,
    summary="Record the year's needs survey 康复需求调查 (or correct it with `supersedes`)",
)
async def survey_needs(person_id: UUID, body: SurveyBody, request: Request) -> Response:
    command, caller = command_for(request), caller_of(request)
    survey = NeedsSurveyRequest(
        survey_year=body.survey_year,
        surveyed_on=body.surveyed_on,
        has_needs=body.has_needs,
        needed_items=tuple(item.value for item in body.needed_items),
        home_visit_required=body.home_visit_required,
        surveyor=body.surveyor,
        supersedes=body.supersedes,
        disability_subtypes=tuple(subtype.value for subtype in body.disability_subtypes),
        hardship_statuses=tuple(status.value for status in body.hardship_statuses),
        residence_permit=body.residence_permit,
    )

    def record() -> Response:
        with command.unit() as unit:
            survey_id = handlers.survey_needs(unit, person_id, survey, _in_area(caller))
            answer = SurveyCreated(survey_id=survey_id, person_id=person_id, survey_year=body.survey_year)
            return command.answer(answer, status=201, location=f"/persons/{person_id}/surveys/{survey_id}")

    return await in_command_thread(record)


@router.get(
    "/persons/{person_id}/surveys",
    response_model=list[SurveySummary],
    summary="A person's surveys, superseded ones included",
    openapi_extra=PERSONAL_DATA,
)
def list_person_surveys(person_id: UUID, runtime: Runtime, caller: Caller) -> list[SurveySummary]:
    _person_in_area(runtime, person_id, caller)
    return _surveys(runtime, person_id=person_id, include_superseded=True)


@router.get(
    "/persons/{person_id}/surveys/{survey_id}",
    response_model=SurveySummary,
    summary="One survey",
    openapi_extra=PERSONAL_DATA,
)
def get_survey(person_id: UUID, survey_id: UUID, runtime: Runtime, caller: Caller) -> SurveySummary:
    _person_in_area(runtime, person_id, caller)
    for survey in _surveys(runtime, person_id=person_id, include_superseded=True):
        if survey.survey_id == survey_id:
            return survey
    raise NotFound(
        f"此人没有编号为 {survey_id} 的需求调查", field="survey_id", code="survey.survey.not_found"
    )


@router.get(
    "/surveys",
    response_model=SurveyPage,
    summary="Survey results, current (not superseded) by default",
    openapi_extra=PERSONAL_DATA,  # each result names its person (issue 14: listed without an audit entry)
)
def list_surveys(
    runtime: Runtime,
    street: Street,
    caller: Caller,
    year: Annotated[int | None, Query(ge=2000, le=2100, description="Survey year.")] = None,
    community: Annotated[str | None, Query(max_length=MAX_QUERY_TEXT)] = None,
    has_needs: bool | None = None,
    include_superseded: bool = False,
    limit: Limit = 50,
    offset: Offset = 0,
) -> SurveyPage:
    area = visible_area(caller, street, community)
    with runtime.store.reading() as unit:
        page = projection.list_surveys(
            unit.session,
            year=year,
            street=area.street,
            community=area.community,
            has_needs=has_needs,
            person_id=None,
            include_superseded=include_superseded,
            limit=limit,
            offset=offset,
        )
    items = [SurveySummary.model_validate(row) for row in page.rows]
    return SurveyPage(total=page.total, limit=limit, offset=offset, items=items)


def _person_in_area(
    runtime: ServiceRuntime, person_id: UUID, caller: Principal | None
) -> tuple[Person, list]:
    """The person, if registered in the caller's street (community); else 404 or 403."""
    person, envelopes = handlers.load_person(runtime.store, person_id)
    _in_area(caller)(person)
    return person, envelopes


def _sight(caller: Principal | None) -> handlers.Sight:
    """Whether the caller may see the persons of a street (community): their area holds it."""
    own = area_of(caller)

    def sees(street: str, community: str | None) -> bool:
        return own.street in (None, street) and own.community in (None, community)

    return sees


def _in_area(caller: Principal | None, moving_to: Mapping[str, Any] | None = None) -> handlers.Guard:
    """The check of a loaded person: registered in the caller's street (community), and so is the
    street (community) a correction ``moving_to`` gives them."""

    def check(person: Person) -> None:
        if caller is None:
            return
        details = person.details
        assert details is not None
        require_area(caller, details.street, details.community)
        changes = moving_to or {}
        if "street" in changes or "community" in changes:
            street = changes.get("street", details.street)
            require_area(caller, street, changes.get("community", details.community))

    return check


# -- translation between bodies and the domain -----------------------------------------------------------
def _details(body: PersonBody) -> PersonDetails:
    values: dict[str, Any] = {name: getattr(body, name) for name in PersonBody.model_fields}
    return PersonDetails(**_domain_values(values))


def _changes(body: CorrectPersonBody) -> dict[str, Any]:
    given = {name: getattr(body, name) for name in body.model_fields_set if name != "reason"}
    return _domain_values({name: value for name, value in given.items() if value is not None})


def _domain_values(values: dict[str, Any]) -> dict[str, Any]:
    converted: dict[str, Any] = {}
    for name, value in values.items():
        if isinstance(value, GuardianBody):
            converted[name] = Guardian(**_domain_values(value.model_dump()))
        elif isinstance(value, list):
            converted[name] = tuple(str(item) for item in value)
        elif hasattr(value, "value"):
            converted[name] = value.value
        else:
            converted[name] = value
    return converted


def _surveys(runtime: ServiceRuntime, *, person_id: UUID, include_superseded: bool) -> list[SurveySummary]:
    with runtime.store.reading() as unit:
        page = projection.list_surveys(
            unit.session,
            year=None,
            street=None,
            community=None,
            has_needs=None,
            person_id=person_id,
            include_superseded=include_superseded,
            limit=1000,
            offset=0,
        )
    return [SurveySummary.model_validate(row) for row in page.rows]


def _view(person: Person, version: int, surveys: list[SurveySummary]) -> PersonView:
    assert person.details is not None
    values = dict(vars(person.details))
    guardian = person.details.guardian
    values["guardian"] = vars(guardian) if guardian is not None else None
    return PersonView.model_validate(
        {
            **values,
            "person_id": person.person_id,
            "certified": person.details.certified,
            "registered_on": person.registered_on,
            "version": version,
            "forgotten": person.forgotten,
            "surveys": surveys,
        }
    )
