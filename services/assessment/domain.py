"""The assessment aggregate: one 康复需求评估与转介记录 and the referrals 转介 it leads to.

An institution assesses the catalogue items it is designated for. Needs outside its designation
are still recorded, but must be escalated to a city-level 二级 assessment institution designated
for them; only items within its designation may be referred to a service institution, and only
to one designated for them. Rules run in the public command methods; ``_apply`` only assigns.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from uuid import UUID

from services.eventing.errors import CommandRejected, StateConflict
from services.eventing.ids import new_aggregate_id

DISTRICT, CITY = "district", "city"
SERVICE_INSTITUTION, ASSESSMENT_INSTITUTION = "service_institution", "assessment_institution"
AT_INSTITUTION, HOME_VISIT, GROUP = "at_institution", "home_visit", "group"


@dataclass(frozen=True)
class Institution:
    """A designated institution of the jurisdiction; ``level`` is None for service institutions."""

    id: str
    name: str
    designated_items: frozenset[str]
    level: str | None = None


@dataclass(frozen=True)
class Network:
    """The jurisdiction's designated assessment and service institutions, by id."""

    assessment: Mapping[str, Institution]
    service: Mapping[str, Institution]

    def city_institutions_for(self, item: str, excluding: str) -> list[Institution]:
        return [
            i
            for i in self.assessment.values()
            if i.level == CITY and item in i.designated_items and i.id != excluding
        ]


@dataclass(frozen=True)
class SurveyedNeeds:
    """What the street's needs survey of the person and year said (the worklist entry)."""

    person_id: UUID
    year: int
    has_needs: bool
    needed_items: tuple[str, ...]
    home_visit_required: bool
    surveyed_on: date
    survey_event_id: UUID


@dataclass(frozen=True)
class EarlierAssessment:
    assessment_id: UUID
    institution_id: str
    level: str


@dataclass(frozen=True)
class CaseFacts:
    """What the assessment service knows of a person's year before a new assessment."""

    survey: SurveyedNeeds | None
    earlier: tuple[EarlierAssessment, ...] = ()
    escalated_to: frozenset[str] = frozenset()
    """Ids of city-level institutions the person's case was escalated to this year."""


@dataclass(frozen=True)
class AssessmentRequest:
    person_id: UUID
    assessment_year: int
    institution_id: str
    assessor: str
    assessed_on: date
    mode: str
    assessed_needs: tuple[str, ...]
    referral_needed: bool
    opinion: str | None = None


@dataclass(frozen=True)
class ReferralRequest:
    to_institution_id: str
    to_kind: str
    items: tuple[str, ...]
    issued_on: date


# -- domain events ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class AssessmentCompleted:
    assessment_id: UUID
    person_id: UUID
    assessment_year: int
    institution_id: str
    institution_level: str
    assessor: str
    assessed_on: date
    mode: str
    assessed_needs: tuple[str, ...]
    referral_needed: bool
    opinion: str | None = None


@dataclass(frozen=True)
class ReferralIssued:
    referral_id: UUID
    assessment_id: UUID
    person_id: UUID
    from_institution_id: str
    to_institution_id: str
    to_kind: str
    items: tuple[str, ...]
    issued_on: date


AssessmentEvent = AssessmentCompleted | ReferralIssued


# -- the aggregate ---------------------------------------------------------------------------------
@dataclass
class Assessment:
    """One institution's assessment of one person for one year, built from its events."""

    record: AssessmentCompleted | None = None
    referrals: list[ReferralIssued] = field(default_factory=list)

    @classmethod
    def from_history(cls, events: Iterable[AssessmentEvent]) -> Assessment:
        assessment = cls()
        for event in events:
            assessment._apply(event)
        return assessment

    # -- commands ----------------------------------------------------------------------------------
    def complete(
        self, request: AssessmentRequest, *, case: CaseFacts, network: Network, today: date
    ) -> list[AssessmentCompleted]:
        """Record the assessment 康复需求评估; ``case`` is what is known of the person's year."""
        if self.record is not None:
            raise StateConflict(f"assessment {self.record.assessment_id} is already completed")
        institution = _assessment_institution(network, request.institution_id)
        survey = _surveyed_with_needs(case.survey, request)
        _check_assessment_date(request.assessed_on, survey, today)
        _check_mode(request.mode, survey)
        _require_unique(request.assessed_needs, "assessed_needs")
        _check_not_assessed_before(request, institution, case)
        _check_escalation_declared(request, institution, network)
        return [
            AssessmentCompleted(
                assessment_id=new_aggregate_id(),
                person_id=request.person_id,
                assessment_year=request.assessment_year,
                institution_id=institution.id,
                institution_level=institution.level or DISTRICT,
                assessor=request.assessor,
                assessed_on=request.assessed_on,
                mode=request.mode,
                assessed_needs=request.assessed_needs,
                referral_needed=request.referral_needed,
                opinion=request.opinion,
            )
        ]

    def issue_referral(
        self, request: ReferralRequest, *, network: Network, today: date
    ) -> list[ReferralIssued]:
        """Refer needs to a service institution, or escalate them to a city-level assessment institution."""
        record = self._completed()
        if not record.referral_needed:
            raise StateConflict(
                "this assessment recorded that no referral is needed (是否需转介: 否); "
                "a referral would contradict it",
                field="referral_needed",
            )
        _check_referral_items(request.items, record)
        _check_referral_date(request.issued_on, record, today)
        issuer = _assessment_institution(network, record.institution_id)
        if request.to_kind == SERVICE_INSTITUTION:
            _check_service_referral(request, issuer, network)
        elif request.to_kind == ASSESSMENT_INSTITUTION:
            _check_escalation(request, issuer, network)
        else:
            raise CommandRejected(f"unknown to_kind {request.to_kind!r}", field="to_kind")
        self._check_not_referred_before(request)
        return [
            ReferralIssued(
                referral_id=new_aggregate_id(),
                assessment_id=record.assessment_id,
                person_id=record.person_id,
                from_institution_id=record.institution_id,
                to_institution_id=request.to_institution_id,
                to_kind=request.to_kind,
                items=request.items,
                issued_on=request.issued_on,
            )
        ]

    # -- queries -----------------------------------------------------------------------------------
    def items_to_escalate(self, network: Network) -> tuple[str, ...]:
        """Needs outside the institution's designation not yet escalated to a city-level institution."""
        record = self._completed()
        institution = network.assessment.get(record.institution_id)
        designated = institution.designated_items if institution else frozenset()
        escalated = {item for r in self.referrals if r.to_kind == ASSESSMENT_INSTITUTION for item in r.items}
        return tuple(i for i in record.assessed_needs if i not in designated and i not in escalated)

    def referral_pending(self, network: Network) -> bool:
        """A referral is declared needed but none was issued yet, or some needs still await escalation."""
        record = self._completed()
        return (record.referral_needed and not self.referrals) or bool(self.items_to_escalate(network))

    # -- state -------------------------------------------------------------------------------------
    def _completed(self) -> AssessmentCompleted:
        if self.record is None:
            raise StateConflict("the assessment is not completed")
        return self.record

    def _check_not_referred_before(self, request: ReferralRequest) -> None:
        for earlier in self.referrals:
            if earlier.to_kind != request.to_kind:
                continue
            repeated = sorted(set(earlier.items) & set(request.items))
            if repeated:
                raise StateConflict(
                    f"{', '.join(repeated)} already referred to {earlier.to_institution_id} "
                    f"by referral {earlier.referral_id}",
                    field="items",
                )

    def _apply(self, event: AssessmentEvent) -> None:
        if isinstance(event, AssessmentCompleted):
            self.record = event
        else:
            self.referrals.append(event)


# -- rules -----------------------------------------------------------------------------------------
def _assessment_institution(network: Network, institution_id: str) -> Institution:
    institution = network.assessment.get(institution_id)
    if institution is None:
        known = ", ".join(sorted(network.assessment))
        raise CommandRejected(
            f"{institution_id!r} is not a designated assessment institution 定点康复评估机构 of this "
            f"jurisdiction; known: {known}",
            field="institution_id",
        )
    return institution


def _surveyed_with_needs(survey: SurveyedNeeds | None, request: AssessmentRequest) -> SurveyedNeeds:
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


def _check_assessment_date(assessed_on: date, survey: SurveyedNeeds, today: date) -> None:
    if assessed_on > today:
        raise CommandRejected(f"assessed_on {assessed_on} is in the future", field="assessed_on")
    if assessed_on < survey.surveyed_on:
        raise CommandRejected(
            f"assessed_on {assessed_on} is before the needs survey of {survey.surveyed_on}",
            field="assessed_on",
        )


def _check_mode(mode: str, survey: SurveyedNeeds) -> None:
    if mode not in (AT_INSTITUTION, HOME_VISIT, GROUP):
        raise CommandRejected(f"unknown assessment mode {mode!r}", field="mode")
    if survey.home_visit_required and mode == AT_INSTITUTION:
        raise CommandRejected(
            "the survey recorded that the person cannot travel (行动不便): assess at home (home_visit) "
            "or in a group session (group), not at the institution",
            field="mode",
        )


def _check_not_assessed_before(request: AssessmentRequest, institution: Institution, case: CaseFacts) -> None:
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


def _check_escalation_declared(
    request: AssessmentRequest, institution: Institution, network: Network
) -> None:
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


def _check_referral_items(items: tuple[str, ...], record: AssessmentCompleted) -> None:
    if not items:
        raise CommandRejected("name the items referred", field="items")
    _require_unique(items, "items")
    not_assessed = [item for item in items if item not in record.assessed_needs]
    if not_assessed:
        raise CommandRejected(
            f"{', '.join(not_assessed)} not among the assessed needs ({', '.join(record.assessed_needs)})",
            field="items",
        )


def _check_referral_date(issued_on: date, record: AssessmentCompleted, today: date) -> None:
    if issued_on > today:
        raise CommandRejected(f"issued_on {issued_on} is in the future", field="issued_on")
    if issued_on < record.assessed_on:
        raise CommandRejected(
            f"issued_on {issued_on} is before the assessment of {record.assessed_on}", field="issued_on"
        )


def _check_service_referral(request: ReferralRequest, issuer: Institution, network: Network) -> None:
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


def _check_escalation(request: ReferralRequest, issuer: Institution, network: Network) -> None:
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


def _require_unique(values: tuple[str, ...], field_name: str) -> None:
    repeated = sorted({value for value in values if values.count(value) > 1})
    if repeated:
        raise CommandRejected(f"{field_name} repeats {', '.join(repeated)}", field=field_name)
