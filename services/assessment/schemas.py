"""Request and response bodies of the assessment API, every field described for the OpenAPI page."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from rehab_contracts import AssessmentMode, CatalogueItem, InstitutionLevel, ReferralTarget

from kernel.free_text import ClearLongText, ClearText

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
InstitutionId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]

WorklistStatus = Literal[
    "awaiting_assessment", "awaiting_referral", "awaiting_city_assessment", "assessed", "open", "all"
]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AssessmentBody(_Request):
    """The 康复需求评估与转介记录 as the assessing doctor fills it in."""

    institution_id: InstitutionId = Field(
        description="Designated assessment institution 评估机构 assessing.",
        examples=["lj-assess-first-hospital"],
    )
    person_id: UUID = Field(description="The surveyed person (from the worklist).")
    assessment_year: int = Field(
        ge=2000, le=2100, description="Year of the needs survey assessed.", examples=[2024]
    )
    assessor: ClearText = Field(description="Assessor 评估人.", examples=["陈医生"])
    assessed_on: date = Field(description="Assessment date 评估时间.", examples=["2024-10-22"])
    mode: AssessmentMode = Field(
        description=(
            "at_institution, home_visit 入户 or group 集中; not at_institution when the person cannot travel."
        )
    )
    assessed_needs: list[CatalogueItem] = Field(
        default_factory=list,
        description=(
            "Needs found 康复需求, as catalogue items. Items outside the institution's designation are "
            "recorded too and must be escalated to a city-level institution."
        ),
    )
    referral_needed: bool = Field(
        description="是否需转介; required when any need is outside the designation."
    )
    opinion: ClearLongText | None = Field(default=None, description="Assessment opinion 评估意见.")


class ReferralBody(_Request):
    to_institution_id: InstitutionId = Field(
        description="Institution referred to 转介至.", examples=["cqmu-second"]
    )
    to_kind: ReferralTarget = Field(
        description="service_institution, or assessment_institution = escalation to a city-level institution."
    )
    items: list[CatalogueItem] = Field(min_length=1, description="Assessed needs the referral is for.")
    issued_on: date = Field(description="Date the referral was issued.", examples=["2024-10-22"])


class InstitutionView(BaseModel):
    id: str
    name: str
    level: InstitutionLevel | None = Field(default=None, description="For assessment institutions.")
    designated_items: list[CatalogueItem] = Field(default_factory=list)


class EscalationOption(BaseModel):
    item: CatalogueItem
    city_institutions: list[InstitutionView] = Field(description="City-level institutions designated for it.")


class AssessmentCreated(BaseModel):
    assessment_id: UUID
    person_id: UUID
    referral_pending: bool = Field(description="A referral is needed and not yet issued.")
    items_to_escalate: list[CatalogueItem] = Field(
        description="Needs outside the institution's designation, to escalate to a city-level institution."
    )
    escalation_options: list[EscalationOption] = Field(description="Where each of those items can go.")


class ReferralCreated(BaseModel):
    referral_id: UUID
    assessment_id: UUID


class ReferralView(BaseModel):
    referral_id: UUID
    to_kind: ReferralTarget
    to_institution: InstitutionView
    items: list[CatalogueItem]
    issued_on: date


class FormLine(BaseModel):
    label: str = Field(examples=["是否需转介"])
    value: str = Field(examples=["是"])


class AssessmentRecord(BaseModel):
    """康复需求评估与转介记录 (附件1, page 2)."""

    assessment_id: UUID
    person_id: UUID
    assessment_year: int
    institution: InstitutionView
    assessor: str
    assessed_on: date
    mode: AssessmentMode
    assessed_needs: list[CatalogueItem]
    referral_needed: bool
    referred: bool = Field(description="At least one referral was issued (是否需转介 on the printed record).")
    referrals: list[ReferralView]
    opinion: str | None
    referral_pending: bool
    items_to_escalate: list[CatalogueItem]
    form: list[FormLine] = Field(description="The record as printed in the handbook, in Chinese.")


class AssessmentSummary(BaseModel):
    assessment_id: UUID
    person_id: UUID
    year: int
    institution_id: str
    institution_level: InstitutionLevel
    assessed_on: date
    mode: AssessmentMode
    assessed_needs: list[CatalogueItem]
    referral_needed: bool


class AssessmentPage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[AssessmentSummary]


class WorklistEntry(BaseModel):
    person_id: UUID
    year: int
    street: str
    community: str
    needed_items: list[CatalogueItem] = Field(description="Items the street's survey recorded as needed.")
    home_visit_required: bool = Field(description="Cannot travel: assess at home or in a group session.")
    surveyed_on: date
    certified: bool
    survey_event_id: UUID = Field(description="The (current) survey this entry comes from.")
    status: str = Field(
        description="awaiting_assessment, awaiting_referral, awaiting_city_assessment or assessed.",
        examples=["awaiting_assessment"],
    )
    assessment_ids: list[UUID] = Field(default_factory=list)
    awaiting_institution_ids: list[str] = Field(
        default_factory=list,
        description="City-level institutions the case was escalated to, not yet assessed there.",
    )


class WorklistPage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[WorklistEntry]
