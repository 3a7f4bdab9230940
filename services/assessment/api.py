"""HTTP API of the designated assessment institutions: worklist, assessments, referrals."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response, status

from kernel.access.access import Caller, Forbidden
from kernel.access.auth import Principal
from kernel.access.scopes import require_institution, visible_institution
from kernel.domain.rejections import CommandRejected, NotFound
from kernel.http import MAX_QUERY_TEXT, Command, Limit, Offset, Runtime, Street
from services.assessment import handlers, projection
from services.assessment.domain import Assessment, AssessmentRequest, Network, ReferralRequest
from services.assessment.record import assessment_record, created, institution_view
from services.assessment.schemas import (
    AssessmentBody,
    AssessmentCreated,
    AssessmentPage,
    AssessmentRecord,
    AssessmentSummary,
    InstitutionView,
    ReferralBody,
    ReferralCreated,
    ReferralView,
    WorklistEntry,
    WorklistPage,
    WorklistStatus,
)

router = APIRouter(tags=["assessment"])


def network_of(request: Request) -> Network:
    network: Network = request.app.state.network
    return network


Institutions = Annotated[Network, Depends(network_of)]


@router.get(
    "/worklist", response_model=WorklistPage, summary="Persons with needs and where their assessment stands"
)
def get_worklist(
    runtime: Runtime,
    network: Institutions,
    caller: Caller,
    year: Annotated[int, Query(ge=2000, le=2100, description="Survey year.")],
    street: Street,
    status_filter: Annotated[
        WorklistStatus,
        Query(alias="status", description="'open' (default) = not yet fully assessed; 'all' = everyone."),
    ] = "open",
    institution_id: Annotated[
        str | None,
        Query(
            max_length=MAX_QUERY_TEXT,
            description="Only cases this assessment institution can act on or has assessed.",
        ),
    ] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> WorklistPage:
    institution = None
    institution_id = visible_institution(caller, institution_id)
    if institution_id is not None:
        known = network.assessment.get(institution_id)
        if known is None:
            raise CommandRejected(
                f"“{institution_id}”不是定点康复评估机构",
                field="institution_id",
                code="assessment.institution_id.not_designated",
            )
        institution = (known.id, known.level or "district")
    statuses = {
        "open": projection.OPEN_STATUSES,
        "all": (*projection.OPEN_STATUSES, projection.ASSESSED),
    }.get(status_filter, (status_filter,))
    with runtime.store.reading() as unit:
        page = projection.worklist(
            unit.session,
            year=year,
            street=street,
            statuses=statuses,
            institution=institution,
            limit=limit,
            offset=offset,
        )
    items = [WorklistEntry.model_validate(row) for row in page.rows]
    return WorklistPage(total=page.total, limit=limit, offset=offset, items=items)


@router.get(
    "/institutions", response_model=list[InstitutionView], summary="Designated institutions and their items"
)
def list_institutions(network: Institutions) -> list[InstitutionView]:
    return [institution_view(network, i) for i in (*network.assessment, *network.service)]


@router.post(
    "/assessments",
    status_code=status.HTTP_201_CREATED,
    response_model=AssessmentCreated,
    summary="Record a 康复需求评估 of a surveyed person",
)
def complete_assessment(
    body: AssessmentBody, command: Command, network: Institutions, caller: Caller
) -> Response:
    require_institution(caller, body.institution_id)
    request = AssessmentRequest(
        person_id=body.person_id,
        assessment_year=body.assessment_year,
        institution_id=body.institution_id,
        assessor=body.assessor,
        assessed_on=body.assessed_on,
        mode=body.mode.value,
        assessed_needs=tuple(item.value for item in body.assessed_needs),
        referral_needed=body.referral_needed,
        opinion=body.opinion,
    )
    with command.unit() as unit:
        assessment = handlers.complete_assessment(unit, network, request)
        assert assessment.record is not None
        location = f"/assessments/{assessment.record.assessment_id}"
        return command.answer(created(assessment, network), status=201, location=location)


@router.get(
    "/assessments", response_model=AssessmentPage, summary="Assessments, by year, person or institution"
)
def list_assessments(
    runtime: Runtime,
    caller: Caller,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    person_id: UUID | None = None,
    institution_id: Annotated[str | None, Query(max_length=MAX_QUERY_TEXT)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> AssessmentPage:
    institution_id = visible_institution(caller, institution_id)
    with runtime.store.reading() as unit:
        page = projection.list_assessments(
            unit.session,
            year=year,
            person_id=person_id,
            institution_id=institution_id,
            limit=limit,
            offset=offset,
        )
    items = [AssessmentSummary.model_validate(row) for row in page.rows]
    return AssessmentPage(total=page.total, limit=limit, offset=offset, items=items)


@router.get(
    "/assessments/{assessment_id}",
    response_model=AssessmentRecord,
    summary="The 康复需求评估与转介记录 of an assessment",
)
def get_assessment(
    assessment_id: UUID, runtime: Runtime, network: Institutions, caller: Caller
) -> AssessmentRecord:
    return assessment_record(_visible_assessment(runtime, assessment_id, caller), network)


@router.post(
    "/assessments/{assessment_id}/referrals",
    status_code=status.HTTP_201_CREATED,
    response_model=ReferralCreated,
    summary="Refer to a service institution, or escalate to the city level",
)
def issue_referral(
    assessment_id: UUID, body: ReferralBody, command: Command, network: Institutions, caller: Caller
) -> Response:
    request = ReferralRequest(
        to_institution_id=body.to_institution_id,
        to_kind=body.to_kind.value,
        items=tuple(item.value for item in body.items),
        issued_on=body.issued_on,
    )
    with command.unit() as unit:
        referral_id = handlers.issue_referral(unit, network, assessment_id, request, _made_by(caller))
        answer = ReferralCreated(referral_id=referral_id, assessment_id=assessment_id)
        location = f"/assessments/{assessment_id}/referrals/{referral_id}"
        return command.answer(answer, status=201, location=location)


@router.get(
    "/assessments/{assessment_id}/referrals/{referral_id}",
    response_model=ReferralView,
    summary="One referral 转介",
)
def get_referral(
    assessment_id: UUID, referral_id: UUID, runtime: Runtime, network: Institutions, caller: Caller
) -> ReferralView:
    record = assessment_record(_visible_assessment(runtime, assessment_id, caller), network)
    for referral in record.referrals:
        if referral.referral_id == referral_id:
            return referral
    raise NotFound(
        f"评估 {assessment_id} 没有编号为 {referral_id} 的转介",
        field="referral_id",
        code="assessment.referral.not_found",
    )


def _made_by(caller: Principal | None) -> handlers.Guard:
    """The check of a loaded assessment: made by the caller's institution."""

    def check(assessment: Assessment) -> None:
        require_institution(caller, assessment.record.institution_id if assessment.record else None)

    return check


def _visible_assessment(runtime: Runtime, assessment_id: UUID, caller: Principal | None) -> Assessment:
    """An assessment the caller's institution made, or one that escalated the person to it; else 403."""
    assessment = handlers.load_assessment(runtime.store, assessment_id)
    own = visible_institution(caller)
    if own is None or assessment.record is None or assessment.record.institution_id == own:
        return assessment
    escalated_to = {
        referral.to_institution_id
        for referral in assessment.referrals
        if referral.to_kind == "assessment_institution"
    }
    if own not in escalated_to:
        raise Forbidden(
            f"此评估由 {assessment.record.institution_id} 完成，未转介到本机构（{own}）",
            code="access.other_institution",
        )
    return assessment
