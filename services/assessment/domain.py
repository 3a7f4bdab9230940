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

from kernel.domain.ids import new_aggregate_id
from kernel.domain.rejections import CommandRejected, StateConflict
from services.assessment.labels import items_text
from services.assessment.rules import (
    ASSESSMENT_INSTITUTION,
    CITY,
    DISTRICT,
    SERVICE_INSTITUTION,
    assessment_institution,
    check_assessment_date,
    check_escalation,
    check_escalation_declared,
    check_mode,
    check_not_assessed_before,
    check_referral_date,
    check_referral_items,
    check_service_referral,
    require_unique,
    surveyed_with_needs,
)


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
    street: str | None = None
    """Where the year's needs survey registered the person: only its applications may use the referral."""
    community: str | None = None
    disability_categories: tuple[str, ...] | None = None
    """残疾类别 the year's needs survey recorded: an application the referral backs ticks the same ones."""


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
            raise StateConflict(
                f"评估 {self.record.assessment_id} 已完成",
                field="assessment_id",
                code="assessment.assessment.already_completed",
            )
        institution = assessment_institution(network, request.institution_id)
        survey = surveyed_with_needs(case.survey, request)
        check_assessment_date(request.assessed_on, survey, today)
        check_mode(request.mode, survey)
        require_unique(request.assessed_needs, "assessed_needs")
        check_not_assessed_before(request, institution, case)
        check_escalation_declared(request, institution, network)
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
                "此评估记录为“是否需转介: 否”，不能再开转介",
                field="referral_needed",
                code="assessment.referral_needed.no_referral_recorded",
            )
        check_referral_items(request.items, record)
        check_referral_date(request.issued_on, record, today)
        issuer = assessment_institution(network, record.institution_id)
        if request.to_kind == SERVICE_INSTITUTION:
            check_service_referral(request, issuer, network)
        elif request.to_kind == ASSESSMENT_INSTITUTION:
            check_escalation(request, issuer, network)
        else:
            raise CommandRejected(
                f"转介对象类型“{request.to_kind}”不存在：应为 service_institution 或 assessment_institution",
                field="to_kind",
                code="assessment.to_kind.unknown",
            )
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
            raise StateConflict(
                "评估尚未完成", field="assessment_id", code="assessment.assessment.not_completed"
            )
        return self.record

    def _check_not_referred_before(self, request: ReferralRequest) -> None:
        for earlier in self.referrals:
            if earlier.to_kind != request.to_kind:
                continue
            repeated = sorted(set(earlier.items) & set(request.items))
            if repeated:
                raise StateConflict(
                    f"{items_text(repeated)}已由转介 {earlier.referral_id} "
                    f"转介至 {earlier.to_institution_id}",
                    field="items",
                    code="assessment.items.already_referred",
                )

    def _apply(self, event: AssessmentEvent) -> None:
        if isinstance(event, AssessmentCompleted):
            self.record = event
        else:
            self.referrals.append(event)
