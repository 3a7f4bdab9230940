"""Payloads of assessment and referral 评估转介, produced by agency ``assessment``."""

from __future__ import annotations

from datetime import date
from typing import ClassVar
from uuid import UUID

from pydantic import Field, model_validator

from rehab_contracts.envelope import EventPayload
from rehab_contracts.events.common import (
    Community,
    InstitutionId,
    LongText,
    PersonId,
    Street,
    Text,
    Year,
    require_unique,
)
from rehab_contracts.streams import ASSESSMENT, ASSESSMENT_STREAM
from rehab_contracts.vocabulary import (
    AssessmentMode,
    CatalogueItem,
    DisabilityCategory,
    InstitutionLevel,
    ReferralTarget,
)


class AssessmentCompleted(EventPayload):
    """A designated assessment institution 定点康复评估机构 assessed a person's needs.

    Produced by ``assessment``; the 康复需求评估与转介记录 page of the 服务手册. Paid 30 yuan per
    person to district-level institutions.
    """

    event_type: ClassVar[str] = "assessment.assessment_completed"
    schema_version: ClassVar[int] = 1
    stream: ClassVar[str] = ASSESSMENT_STREAM
    producer: ClassVar[str] = ASSESSMENT

    assessment_id: UUID = Field(
        description="Id of this assessment, minted by the assessment service.",
        examples=["3b1d5c7e-9f2a-4b6c-8d0e-1f3a5b7c9d1e"],
    )
    person_id: PersonId
    assessment_year: Year = Field(description="Year the assessment counts for.", examples=[2024])
    institution_id: InstitutionId = Field(
        description="Assessment institution 评估机构 that assessed.",
        examples=["lj-district-assessment-centre"],
    )
    institution_level: InstitutionLevel = Field(
        description="Level of that institution: district 一级 or city 二级.", examples=["district"]
    )
    assessor: Text = Field(description="Assessor 评估人 who signed the record.", examples=["陈医生"])
    assessed_on: date = Field(description="Assessment date 评估时间.", examples=["2024-10-22"])
    mode: AssessmentMode = Field(description="Where the assessment took place.", examples=["home_visit"])
    assessed_needs: list[CatalogueItem] = Field(
        default_factory=list,
        description="Rehabilitation needs 康复需求 found, as catalogue items; empty when none or escalated.",
        examples=[["cataract_surgery"]],
    )
    referral_needed: bool = Field(description="Whether a referral is needed 是否需转介.", examples=[True])
    opinion: LongText | None = Field(
        default=None,
        description="Assessment opinion 康复需求评估意见, free text.",
        examples=["右眼白内障，建议手术"],
    )

    @model_validator(mode="after")
    def _needs_are_a_set(self) -> AssessmentCompleted:
        require_unique(self.assessed_needs, "assessed_needs")
        return self


class ReferralIssued(EventPayload):
    """An assessment institution referred a person to a service institution, or escalated 转介 the case
    to a city-level assessment institution it could not assess.

    Produced by ``assessment``. The copied referral page backs applications and referral-only settlement.
    """

    event_type: ClassVar[str] = "assessment.referral_issued"
    schema_version: ClassVar[int] = 1
    stream: ClassVar[str] = ASSESSMENT_STREAM
    producer: ClassVar[str] = ASSESSMENT

    referral_id: UUID = Field(
        description="Id of this referral, minted by the assessment service.",
        examples=["5d3f7a9c-1b4e-4d8f-a2c6-3e5f7a9b1c3d"],
    )
    assessment_id: UUID = Field(
        description="The assessment that led to the referral.",
        examples=["3b1d5c7e-9f2a-4b6c-8d0e-1f3a5b7c9d1e"],
    )
    person_id: PersonId
    from_institution_id: InstitutionId = Field(
        description="Assessment institution issuing the referral.", examples=["lj-district-assessment-centre"]
    )
    to_institution_id: InstitutionId = Field(
        description="Institution referred to 转介至(机构).",
        examples=["cq-medical-university-second-hospital"],
    )
    to_kind: ReferralTarget = Field(
        description="Kind of institution referred to; assessment_institution = escalation to the city level.",
        examples=["service_institution"],
    )
    items: list[CatalogueItem] = Field(
        default_factory=list,
        description="Catalogue items the referral is for; at least one for a service institution.",
        examples=[["low_vision_training"]],
    )
    issued_on: date = Field(description="Date the referral was issued.", examples=["2024-10-22"])
    street: Street | None = Field(
        default=None,
        description=(
            "Street 街道 the person is registered in, as the needs survey of the assessed year said: only "
            "that street (its communities) may hand in an application the referral backs. Null on referrals "
            "issued before it was carried."
        ),
        examples=["人和"],
    )
    community: Community | None = Field(
        default=None,
        description="Community 社区 the person is registered in, from the same survey; null as ``street``.",
        examples=["人和社区"],
    )
    disability_categories: list[DisabilityCategory] | None = Field(
        default=None,
        description=(
            "Disability categories 残疾类别 of the person, as the needs survey of the assessed year recorded "
            "them: an application 附件2 the referral backs must tick the same ones. Null on referrals issued "
            "before they were carried."
        ),
        # Null first: an example referral (as tests build one) is one that does not check a form's categories.
        examples=[None, ["vision"]],
    )

    @model_validator(mode="after")
    def _refers_somewhere_else(self) -> ReferralIssued:
        if self.from_institution_id == self.to_institution_id:
            raise ValueError("a referral must go to another institution")
        if self.to_kind is ReferralTarget.SERVICE_INSTITUTION and not self.items:
            raise ValueError("a referral to a service institution must name at least one item")
        require_unique(self.items, "items")
        require_unique(self.disability_categories or [], "disability_categories")
        return self
