"""Rules of assessments and referrals: designation, escalation to the city level, dates and modes.

Pure functions the assessment aggregate calls from its command methods; each raises
CommandRejected (422) or StateConflict (409) naming the offending field.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from services.eventing.rejections import CommandRejected, StateConflict

if TYPE_CHECKING:
    from services.assessment.domain import (
        AssessmentCompleted,
        AssessmentRequest,
        CaseFacts,
        Institution,
        Network,
        ReferralRequest,
        SurveyedNeeds,
    )

DISTRICT, CITY = "district", "city"
SERVICE_INSTITUTION, ASSESSMENT_INSTITUTION = "service_institution", "assessment_institution"
AT_INSTITUTION, HOME_VISIT, GROUP = "at_institution", "home_visit", "group"


def assessment_institution(network: Network, institution_id: str) -> Institution:
    institution = network.assessment.get(institution_id)
    if institution is None:
        known = ", ".join(sorted(network.assessment))
        raise CommandRejected(
            f"{institution_id!r} is not a designated assessment institution 定点康复评估机构 of this "
            f"jurisdiction; known: {known}",
            field="institution_id",
        )
    return institution


def surveyed_with_needs(survey: SurveyedNeeds | None, request: AssessmentRequest) -> SurveyedNeeds:
    if survey is None:
        raise StateConflict(
            f"the needs survey of person {request.person_id} for {request.assessment_year} "
            "has not reached the assessment service yet: the street may not have recorded it, "
            "or it is still on its way; try again shortly",
            field="person_id",
        )
    if not survey.has_needs:
        raise StateConflict(
            f"the street's {survey.year} survey of person {request.person_id} found no rehabilitation needs; "
            "the street must record a corrected survey with needs before an assessment",
            field="person_id",
        )
    return survey


def check_assessment_date(assessed_on: date, survey: SurveyedNeeds, today: date) -> None:
    if assessed_on > today:
        raise CommandRejected(f"assessed_on {assessed_on} is in the future", field="assessed_on")
    if assessed_on < survey.surveyed_on:
        raise CommandRejected(
            f"assessed_on {assessed_on} is before the needs survey of {survey.surveyed_on}",
            field="assessed_on",
        )


def check_mode(mode: str, survey: SurveyedNeeds) -> None:
    if mode not in (AT_INSTITUTION, HOME_VISIT, GROUP):
        raise CommandRejected(f"unknown assessment mode {mode!r}", field="mode")
    if survey.home_visit_required and mode == AT_INSTITUTION:
        raise CommandRejected(
            "the survey recorded that the person cannot travel (行动不便): assess at home (home_visit) "
            "or in a group session (group), not at the institution",
            field="mode",
        )


def check_not_assessed_before(request: AssessmentRequest, institution: Institution, case: CaseFacts) -> None:
    for earlier in case.earlier:
        if earlier.institution_id == institution.id or (
            earlier.level == DISTRICT and institution.level == DISTRICT
        ):
            raise StateConflict(
                f"person {request.person_id} was already assessed for {request.assessment_year} by "
                f"{earlier.institution_id} (assessment {earlier.assessment_id}); "
                "one district-level assessment "
                "per person and year",
                field="person_id",
            )
    if institution.level == CITY and institution.id not in case.escalated_to:
        raise StateConflict(
            f"{institution.id} is a city-level institution: it assesses persons a district-level institution "
            f"escalated to it, and person {request.person_id} was not escalated to it "
            f"for {request.assessment_year}",
            field="institution_id",
        )


def check_escalation_declared(request: AssessmentRequest, institution: Institution, network: Network) -> None:
    outside = [item for item in request.assessed_needs if item not in institution.designated_items]
    if request.referral_needed and not request.assessed_needs:
        raise CommandRejected("referral_needed, but no assessed needs to refer", field="referral_needed")
    if not outside:
        return
    for item in outside:
        if not network.city_institutions_for(item, excluding=institution.id):
            raise CommandRejected(
                f"{item} is outside {institution.id}'s designation and no city-level "
                "assessment institution is "
                "designated for it to escalate to",
                field="assessed_needs",
            )
    if not request.referral_needed:
        raise CommandRejected(
            f"{', '.join(outside)} outside {institution.id}'s designation: set referral_needed and escalate "
            "them to a city-level assessment institution (转介至市级评估机构复评)",
            field="referral_needed",
        )


def check_referral_items(items: tuple[str, ...], record: AssessmentCompleted) -> None:
    if not items:
        raise CommandRejected("name the items referred", field="items")
    require_unique(items, "items")
    not_assessed = [item for item in items if item not in record.assessed_needs]
    if not_assessed:
        raise CommandRejected(
            f"{', '.join(not_assessed)} not among the assessed needs ({', '.join(record.assessed_needs)})",
            field="items",
        )


def check_referral_date(issued_on: date, record: AssessmentCompleted, today: date) -> None:
    if issued_on > today:
        raise CommandRejected(f"issued_on {issued_on} is in the future", field="issued_on")
    if issued_on < record.assessed_on:
        raise CommandRejected(
            f"issued_on {issued_on} is before the assessment of {record.assessed_on}", field="issued_on"
        )


def check_service_referral(request: ReferralRequest, issuer: Institution, network: Network) -> None:
    target = network.service.get(request.to_institution_id)
    if target is None:
        raise CommandRejected(
            f"{request.to_institution_id!r} is not a designated service institution 定点康复服务机构; "
            f"known: {', '.join(sorted(network.service))}",
            field="to_institution_id",
        )
    beyond_issuer = [item for item in request.items if item not in issuer.designated_items]
    if beyond_issuer:
        raise CommandRejected(
            f"{', '.join(beyond_issuer)} outside {issuer.id}'s designation: escalate them to a city-level "
            "assessment institution (to_kind assessment_institution) instead of referring them to a service",
            field="items",
        )
    beyond_target = [item for item in request.items if item not in target.designated_items]
    if beyond_target:
        raise CommandRejected(
            f"{target.id} ({target.name}) is not designated for {', '.join(beyond_target)}; "
            "it is designated for "
            f"{', '.join(sorted(target.designated_items))}",
            field="items",
        )


def check_escalation(request: ReferralRequest, issuer: Institution, network: Network) -> None:
    target = network.assessment.get(request.to_institution_id)
    if target is None or target.level != CITY:
        cities = [i.id for i in network.assessment.values() if i.level == CITY]
        raise CommandRejected(
            f"{request.to_institution_id!r} is not a city-level assessment institution; escalations go to "
            f"one of: {', '.join(cities)}",
            field="to_institution_id",
        )
    if target.id == issuer.id:
        raise CommandRejected("an institution cannot escalate to itself", field="to_institution_id")
    beyond_target = [item for item in request.items if item not in target.designated_items]
    if beyond_target:
        raise CommandRejected(
            f"{target.id} ({target.name}) is not designated to assess {', '.join(beyond_target)}",
            field="items",
        )


def require_unique(values: tuple[str, ...], field_name: str) -> None:
    repeated = sorted({value for value in values if values.count(value) > 1})
    if repeated:
        raise CommandRejected(f"{field_name} repeats {', '.join(repeated)}", field=field_name)
