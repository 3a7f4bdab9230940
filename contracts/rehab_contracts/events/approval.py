"""Payloads of application and approval 申请审批 (附件2), produced by agency ``approval``."""

from __future__ import annotations

from datetime import date
from typing import ClassVar
from uuid import UUID

from pydantic import Field, model_validator

from rehab_contracts.envelope import EventPayload
from rehab_contracts.events.common import (
    ContractModel,
    InstitutionId,
    LongText,
    PersonId,
    Street,
    Text,
    Year,
    require_unique,
)
from rehab_contracts.money import AMOUNT_BOUND, MAX_AMOUNT_FEN
from rehab_contracts.streams import APPROVAL, APPROVAL_STREAM
from rehab_contracts.vocabulary import (
    Attachment,
    CatalogueItem,
    DisabilityCategory,
    EconomicStatus,
    Eye,
    ReviewLevel,
    SignerRole,
    SubsidyMode,
)

_SIGNATORIES_EXAMPLE = {"responsible": "赵主任", "reviewer": "钱科长", "handler": "孙干事"}


class RequestedItem(ContractModel):
    """One ticked 康复需求项目 on the application form, with its item-specific choices."""

    item: CatalogueItem = Field(description="Catalogue item applied for.", examples=["cataract_surgery"])
    institution_id: InstitutionId | None = Field(
        default=None,
        description="Service institution the applicant chose 服务机构, when the item names institutions.",
        examples=["lj-first-peoples-hospital"],
    )
    eyes: list[Eye] = Field(
        default_factory=list,
        description="Eyes to operate on (左眼/右眼); cataract surgery only, and required for it.",
        examples=[["right"]],
    )
    nutrition_allowance: bool = Field(
        default=False,
        description="Nutrition allowance for 低保 persons 低保人员营养费; cataract surgery only.",
        examples=[True],
    )
    poor: bool | None = Field(
        default=None,
        description="Poor 贫困 (or non-poor) rate of the self-purchased device subsidy; that item only.",
        examples=[True, False],
    )

    @model_validator(mode="after")
    def _choices_fit_the_item(self) -> RequestedItem:
        cataract = self.item is CatalogueItem.CATARACT_SURGERY
        if cataract != bool(self.eyes):
            raise ValueError("eyes must be given for cataract_surgery and only for it")
        if self.nutrition_allowance and not cataract:
            raise ValueError("nutrition_allowance applies to cataract_surgery only")
        if (self.item is CatalogueItem.SELF_PURCHASED_DEVICE_SUBSIDY) != (self.poor is not None):
            raise ValueError("poor must be given for self_purchased_device_subsidy and only for it")
        require_unique(self.eyes, "eyes")
        return self


class Signatories(ContractModel):
    """The sign-off block of one level of 附件2: 负责人, 复核人 (not at community level), 经办人."""

    responsible: Text = Field(description="Person in charge 负责人.", examples=["赵主任"])
    reviewer: Text | None = Field(
        default=None, description="Reviewer 复核人, if the level has one.", examples=["钱科长"]
    )
    handler: Text = Field(description="Clerk who handled it 经办人.", examples=["孙干事"])


class ItemApproval(ContractModel):
    """One item 区残联办 approved, with the subsidy mode and amount 补贴方式、金额."""

    item: CatalogueItem = Field(description="Catalogue item approved.", examples=["cataract_surgery"])
    institution_id: InstitutionId | None = Field(
        default=None,
        description=(
            "Service institution fixed for the year; null only for the self-purchased device subsidy, "
            "which is reimbursed to the person."
        ),
        examples=["lj-first-peoples-hospital"],
    )
    subsidy_mode: SubsidyMode = Field(description="Subsidy mode 补贴方式.", examples=["fixed_amount"])
    amount_fen: int | None = Field(
        default=None,
        gt=0,
        le=MAX_AMOUNT_FEN,
        strict=True,
        description=(
            "Fixed subsidy amount 金额 in fen 分, above 0; given exactly when subsidy_mode is fixed_amount. "
            + AMOUNT_BOUND
        ),
        examples=[120000],
    )

    @model_validator(mode="after")
    def _amount_fits_mode(self) -> ItemApproval:
        if (self.subsidy_mode is SubsidyMode.FIXED_AMOUNT) != (self.amount_fen is not None):
            raise ValueError("amount_fen must be given for fixed_amount and only for it")
        if self.institution_id is None and self.item is not CatalogueItem.SELF_PURCHASED_DEVICE_SUBSIDY:
            raise ValueError(f"institution_id is required for {self.item}")
        return self


class ItemRejection(ContractModel):
    """One requested item 区残联办 refused while approving others."""

    item: CatalogueItem = Field(description="Catalogue item refused.", examples=["assistive_device_fitting"])
    reason: Text = Field(description="Why it was refused.", examples=["本年度已享受该项目"])


class ApplicationSubmitted(EventPayload):
    """A person or guardian submitted a 补助申请审批表 (附件2) through the community.

    Produced by ``approval``. Personal details stay with ``survey``; the form prints them from there.
    """

    event_type: ClassVar[str] = "approval.application_submitted"
    schema_version: ClassVar[int] = 1
    stream: ClassVar[str] = APPROVAL_STREAM
    producer: ClassVar[str] = APPROVAL

    application_id: UUID = Field(
        description="Id of the application, minted by the approval service.",
        examples=["c4e6a8b0-2d4f-4b6d-9e1a-3c5e7a9b1d3f"],
    )
    person_id: PersonId
    application_year: Year = Field(description="Year of the application （年度）.", examples=[2024])
    street: Street
    serial_number: Text = Field(
        description="Serial number 序号 the street gave the form.", examples=["2024-015"]
    )
    requested_items: list[RequestedItem] = Field(
        min_length=1,
        description="Items applied for 康复需求项目, as in the assessment opinion.",
        examples=[
            [{"item": "cataract_surgery", "institution_id": "lj-first-peoples-hospital", "eyes": ["right"]}]
        ],
    )
    attachments: list[Attachment] = Field(
        default_factory=list,
        description="Documents attached 申请需附资料.",
        examples=[
            ["id_card_copy", "disability_certificate_copy", "household_register_copy", "service_handbook"]
        ],
    )
    submitted_on: date = Field(description="Date signed by the applicant 申请日期.", examples=["2024-10-25"])
    applicant_role: SignerRole = Field(
        description="Who signed the application: the person 申请人 or the guardian 监护人.",
        examples=["person"],
    )
    referral_id: UUID | None = Field(
        default=None,
        description="Referral 转介 whose copied record backs the application, if any.",
        examples=["5d3f7a9c-1b4e-4d8f-a2c6-3e5f7a9b1c3d"],
    )
    economic_status: EconomicStatus | None = Field(
        default=None,
        description=(
            "Family economic status 家庭经济状况 ticked on the form; 低保 families attach the 低保证 copy. "
            "Null only if the form did not say."
        ),
        examples=["other"],
    )
    disability_categories: list[DisabilityCategory] = Field(
        default_factory=list,
        description=(
            "Disability categories 残疾类别 ticked on the form; they decide the attachments required and "
            "which 支持性服务 may be applied for."
        ),
        examples=[["vision"]],
    )
    certified: bool = Field(
        default=True,
        description=(
            "Holds a disability certificate 残疾人证 (or a disabled veteran certificate 残疾军人证, whose "
            "copy stands for it); false for a disabled child without one 未持证残疾儿童, who attaches no "
            "certificate copy."
        ),
        examples=[True],
    )

    @model_validator(mode="after")
    def _lists_are_sets(self) -> ApplicationSubmitted:
        require_unique([requested.item for requested in self.requested_items], "requested_items")
        require_unique(self.attachments, "attachments")
        require_unique(self.disability_categories, "disability_categories")
        return self


class ApplicationAttachmentsAdded(EventPayload):
    """Documents 申请需附资料 missing from an incomplete application were handed in later.

    Produced by ``approval``. The application can be reviewed once nothing required is missing.
    """

    event_type: ClassVar[str] = "approval.application_attachments_added"
    schema_version: ClassVar[int] = 1
    stream: ClassVar[str] = APPROVAL_STREAM
    producer: ClassVar[str] = APPROVAL

    application_id: UUID = Field(
        description="The application completed.", examples=["c4e6a8b0-2d4f-4b6d-9e1a-3c5e7a9b1d3f"]
    )
    person_id: PersonId
    attachments: list[Attachment] = Field(
        min_length=1,
        description="Documents handed in, none of them attached before.",
        examples=[["household_register_copy", "service_handbook"]],
    )
    added_on: date = Field(description="Date they were handed in.", examples=["2024-10-27"])

    @model_validator(mode="after")
    def _attachments_are_a_set(self) -> ApplicationAttachmentsAdded:
        require_unique(self.attachments, "attachments")
        return self


class ApplicationReviewed(EventPayload):
    """The community 居委会 or the street 街道办事处 gave its opinion on an application and signed it.

    Produced by ``approval``.
    """

    event_type: ClassVar[str] = "approval.application_reviewed"
    schema_version: ClassVar[int] = 1
    stream: ClassVar[str] = APPROVAL_STREAM
    producer: ClassVar[str] = APPROVAL

    application_id: UUID = Field(
        description="The application reviewed.", examples=["c4e6a8b0-2d4f-4b6d-9e1a-3c5e7a9b1d3f"]
    )
    person_id: PersonId
    level: ReviewLevel = Field(
        description="Level that reviewed: 社区意见 or 街道意见.", examples=["community"]
    )
    endorsed: bool = Field(description="Whether that level supports the application.", examples=[True])
    opinion: LongText = Field(description="Opinion as written 意见.", examples=["情况属实，同意上报"])
    signatories: Signatories = Field(
        description="Who signed at that level.", examples=[{"responsible": "周书记", "handler": "吴干事"}]
    )
    reviewed_on: date = Field(description="Date of the signatures.", examples=["2024-10-28"])


class ApplicationApproved(EventPayload):
    """The district federation office 区残联办 approved some or all items 经审定，同意申请人享受.

    Produced by ``approval``. Issues the service card 服务卡; approved items fix the institution for the year.
    """

    event_type: ClassVar[str] = "approval.application_approved"
    schema_version: ClassVar[int] = 1
    stream: ClassVar[str] = APPROVAL_STREAM
    producer: ClassVar[str] = APPROVAL

    application_id: UUID = Field(
        description="The application approved.", examples=["c4e6a8b0-2d4f-4b6d-9e1a-3c5e7a9b1d3f"]
    )
    person_id: PersonId
    application_year: Year = Field(description="Year of the application.", examples=[2024])
    street: Street
    service_card_number: Text = Field(
        description="Service card number 服务卡号 issued.", examples=["LJ2024-000123"]
    )
    approved_items: list[ItemApproval] = Field(
        min_length=1,
        description="Items approved, each with its institution and subsidy.",
        examples=[
            [
                {
                    "item": "cataract_surgery",
                    "institution_id": "lj-first-peoples-hospital",
                    "subsidy_mode": "fixed_amount",
                    "amount_fen": 120000,
                }
            ]
        ],
    )
    rejected_items: list[ItemRejection] = Field(
        default_factory=list,
        description="Requested items refused in the same decision.",
        examples=[[{"item": "assistive_device_fitting", "reason": "本年度已享受该项目"}]],
    )
    signatories: Signatories = Field(description="Who signed for 残联办.", examples=[_SIGNATORIES_EXAMPLE])
    approved_on: date = Field(description="Date of the decision.", examples=["2024-11-01"])

    @model_validator(mode="after")
    def _each_item_decided_once(self) -> ApplicationApproved:
        decided = [approval.item for approval in self.approved_items]
        decided += [rejection.item for rejection in self.rejected_items]
        require_unique(decided, "items decided")
        return self


class ApplicationRejected(EventPayload):
    """The district federation office 区残联办 refused the whole application.

    Produced by ``approval``.
    """

    event_type: ClassVar[str] = "approval.application_rejected"
    schema_version: ClassVar[int] = 1
    stream: ClassVar[str] = APPROVAL_STREAM
    producer: ClassVar[str] = APPROVAL

    application_id: UUID = Field(
        description="The application refused.", examples=["c4e6a8b0-2d4f-4b6d-9e1a-3c5e7a9b1d3f"]
    )
    person_id: PersonId
    reason: LongText = Field(description="Why it was refused.", examples=["不符合本年度补助条件"])
    signatories: Signatories = Field(description="Who signed for 残联办.", examples=[_SIGNATORIES_EXAMPLE])
    rejected_on: date = Field(description="Date of the decision.", examples=["2024-11-01"])


class InstitutionChangeApproved(EventPayload):
    """区残联办 approved a change of the service institution 服务机构 of an approved item.

    Produced by ``approval``. The institution a person chose is fixed for the year (原则上不作变更);
    a change needs 区残联办 approval (确需变更的，须报区残联办核定). From ``approved_on`` the new
    institution delivers the item and the old one no longer does.
    """

    event_type: ClassVar[str] = "approval.institution_change_approved"
    schema_version: ClassVar[int] = 1
    stream: ClassVar[str] = APPROVAL_STREAM
    producer: ClassVar[str] = APPROVAL

    application_id: UUID = Field(
        description="The approved application whose item changes institution.",
        examples=["c4e6a8b0-2d4f-4b6d-9e1a-3c5e7a9b1d3f"],
    )
    person_id: PersonId
    application_year: Year = Field(description="Year of the application.", examples=[2024])
    street: Street
    service_card_number: Text = Field(
        description="Service card number 服务卡号 of the application.", examples=["LJ2024-000123"]
    )
    item: CatalogueItem = Field(
        description="Approved item that changes institution.", examples=["low_vision_training"]
    )
    from_institution_id: InstitutionId = Field(
        description="Service institution fixed for the item until this change.", examples=["cqmu-second"]
    )
    to_institution_id: InstitutionId = Field(
        description="Designated service institution that delivers the item from approved_on.",
        examples=["cq-aier-eye"],
    )
    reason: LongText = Field(description="Why the change was needed.", examples=["申请人迁居，就近康复"])
    signatories: Signatories = Field(description="Who signed for 残联办.", examples=[_SIGNATORIES_EXAMPLE])
    approved_on: date = Field(
        description="Date of the decision; the new institution delivers from this day.",
        examples=["2024-11-15"],
    )

    @model_validator(mode="after")
    def _institution_really_changes(self) -> InstitutionChangeApproved:
        if self.from_institution_id == self.to_institution_id:
            raise ValueError("to_institution_id must differ from from_institution_id")
        return self
