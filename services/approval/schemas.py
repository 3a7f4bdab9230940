"""Request and response bodies of the approval API: the 审批表 (附件2) as the three levels fill it in."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from rehab_contracts import (
    MAX_AMOUNT_FEN,
    Attachment,
    CatalogueItem,
    DisabilityCategory,
    EconomicStatus,
    ItemRejection,
    RequestedItem,
    ReviewLevel,
    Signatories,
    SignerRole,
    SubsidyMode,
)

from kernel.free_text import ClearLongText
from services.approval.sign_off.schemas import SignOffView

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
InstitutionId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")]


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- commands --------------------------------------------------------------------------------------
class SubmitApplication(Request):
    """A 补助申请审批表 handed in through the community 居委会."""

    person_id: UUID = Field(description="The applicant, as registered by the survey 调查.")
    application_year: int = Field(ge=2000, le=2100, description="Year of the form （年度）.", examples=[2024])
    street: Text = Field(description="Street 街道 of the form.", examples=["鸳鸯"])
    serial_number: Text = Field(
        description="Serial number 序号 the street gave the form.", examples=["2024-015"]
    )
    requested_items: list[RequestedItem] = Field(
        min_length=1,
        description=(
            "Ticked 康复需求项目 with the chosen service institution 服务机构 (required for items 4-6), "
            "eyes and "
            "nutrition allowance for cataract surgery, poor/non-poor for the self-purchased device subsidy. "
            "Every item must be referred to by a referral 转介 that has reached approval."
        ),
        examples=[[{"item": "low_vision_training", "institution_id": "cqmu-second"}]],
    )
    attachments: list[Attachment] = Field(
        default_factory=list,
        description="Documents attached 申请需附资料; missing ones leave the application incomplete.",
        examples=[
            ["id_card_copy", "disability_certificate_copy", "household_register_copy", "service_handbook"]
        ],
    )
    economic_status: EconomicStatus = Field(
        description="家庭经济状况 as ticked; 低保 families attach the 低保证 copy.", examples=["other"]
    )
    disability_categories: list[DisabilityCategory] = Field(
        min_length=1,
        description="残疾类别 as ticked; non-vision cataract applicants need not attach the handbook.",
        examples=[["vision"]],
    )
    certified: bool = Field(
        default=True,
        description=(
            "持证: holds a disability certificate 残疾人证 (a 残疾军人证 counts; attach its copy as "
            "disability_certificate_copy). False for a disabled child without a certificate 未持证残疾儿童: "
            "no certificate copy is required, and none can be attached."
        ),
        examples=[True],
    )
    applicant_role: SignerRole = Field(description="Who signed: the person 申请人 or the guardian 监护人.")
    referral_id: UUID | None = Field(
        default=None, description="The referral 转介 whose copied record backs the form; found when omitted."
    )
    submitted_on: date = Field(description="申请日期, in the application year.", examples=["2024-10-25"])


class AddAttachments(Request):
    """Documents handed in later for an incomplete application (emits ApplicationAttachmentsAdded)."""

    attachments: list[Attachment] = Field(
        min_length=1, description="Documents added.", examples=[["service_handbook"]]
    )
    added_on: date = Field(description="Date they were handed in.", examples=["2024-10-27"])


class ReviewApplication(Request):
    """社区意见 or 街道意见: one level's opinion and signatures."""

    level: ReviewLevel = Field(description="community 居委会 first, then street 街道办事处.")
    endorsed: bool = Field(description="Whether the level supports the application; false returns it.")
    opinion: ClearLongText = Field(description="意见 as written.", examples=["情况属实，同意上报"])
    signatories: Signatories = Field(
        description=(
            "负责人 and 经办人; the street also a 复核人 (the community block has none). "
            "One person holds one "
            "role on an application, across all levels."
        ),
        examples=[{"responsible": "周书记", "handler": "吴干事"}],
    )
    reviewed_on: date = Field(description="Date of the signatures.", examples=["2024-10-28"])


class ItemDecision(Request):
    """One item 区残联办 approves: 经审定，同意申请人享受 ... 康复项目 (补贴方式) 金额."""

    item: CatalogueItem = Field(description="Requested item approved.", examples=["low_vision_training"])
    institution_id: InstitutionId | None = Field(
        default=None,
        description=(
            "Service institution fixed for the year; defaults to the applicant's choice. None only for the "
            "self-purchased device subsidy (reimbursed to the person)."
        ),
        examples=["cqmu-second"],
    )
    subsidy_mode: SubsidyMode = Field(description="补贴方式: free 免费 or fixed_amount 定额补助.")
    amount_fen: int | None = Field(
        default=None,
        strict=True,
        le=MAX_AMOUNT_FEN,
        description=(
            "金额 in fen 分: required and above 0 exactly when subsidy_mode is fixed_amount; "
            f"at most {MAX_AMOUNT_FEN:,} (100万元)."
        ),
        examples=[120000],
    )


class DecideApplication(Request):
    """The 残联办意见 block: approve item by item (issuing the service card 服务卡), or reject all."""

    outcome: Literal["approved", "rejected"] = Field(
        description="approved: some or all items; rejected: all."
    )
    approved_items: list[ItemDecision] = Field(
        default_factory=list, description="Items approved (outcome approved)."
    )
    rejected_items: list[ItemRejection] = Field(
        default_factory=list,
        description="Requested items refused while approving others; every requested item is decided once.",
    )
    reason: ClearLongText | None = Field(default=None, description="Why the whole application is rejected.")
    signatories: Signatories = Field(
        description="负责人, 复核人 and 经办人 of 残联办.",
        examples=[{"responsible": "赵主任", "reviewer": "钱科长", "handler": "孙干事"}],
    )
    decided_on: date = Field(description="Date of the decision.", examples=["2024-11-01"])

    @model_validator(mode="after")
    def _fields_fit_outcome(self) -> DecideApplication:
        if self.outcome == "approved" and self.reason is not None:
            raise ValueError("reason 只用于整份申请不予批准；单个项目不予批准请填 rejected_items")
        if self.outcome == "rejected" and (self.reason is None or self.approved_items or self.rejected_items):
            raise ValueError("不予批准须写明理由，且不填同意的项目和不予批准的项目")
        return self


class ChangeInstitution(Request):
    """A change of service institution 变更 for an approved item, as 区残联办 approved it (核定)."""

    item: CatalogueItem = Field(description="The approved item that changes institution.")
    from_institution_id: InstitutionId = Field(
        description="Institution fixed for the item now (after any earlier change).", examples=["cqmu-second"]
    )
    to_institution_id: InstitutionId = Field(
        description="Designated service institution 定点康复服务机构 for the item that takes over.",
        examples=["cq-aier-eye"],
    )
    reason: ClearLongText = Field(description="Why the change is needed.", examples=["申请人迁居，就近康复"])
    signatories: Signatories = Field(
        description="负责人, 复核人 and 经办人 of 残联办; none signed at another level or role.",
        examples=[{"responsible": "赵主任", "reviewer": "钱科长", "handler": "孙干事"}],
    )
    decided_on: date = Field(
        description="Date of the approval, in the application year; the new institution delivers from it.",
        examples=["2024-11-15"],
    )


# -- answers ---------------------------------------------------------------------------------------
class ApplicationAccepted(BaseModel):
    """Where the application stands after a command."""

    application_id: UUID
    status: str = Field(
        description="incomplete, awaiting_community_review, ..., approved, rejected, returned."
    )
    missing_attachments: list[Attachment] = Field(description="Documents still to be handed in.")
    service_card_number: str | None = Field(default=None, description="服务卡号, once approved.")


class ReviewView(BaseModel):
    endorsed: bool
    opinion: str
    signatories: Signatories
    reviewed_on: date


class ApprovedItemView(BaseModel):
    item: CatalogueItem
    institution_id: str | None
    subsidy_mode: SubsidyMode
    amount_fen: int | None


class DecisionView(BaseModel):
    outcome: Literal["approved", "rejected"]
    approved_items: list[ApprovedItemView] = Field(default_factory=list)
    rejected_items: list[ItemRejection] = Field(default_factory=list)
    reason: str | None = None
    signatories: Signatories
    decided_on: date


class InstitutionChangeView(BaseModel):
    """An approved change of service institution 变更."""

    application_id: UUID
    item: CatalogueItem
    from_institution_id: str
    to_institution_id: str
    reason: str
    signatories: Signatories
    approved_on: date = Field(description="The new institution delivers from this day.")


class ApplicationView(BaseModel):
    """The 审批表 as it stands: the form's fields, the levels signed, the decision and the service card."""

    application_id: UUID
    person_id: UUID
    application_year: int
    street: str
    serial_number: str
    status: str = Field(
        description="incomplete, awaiting_community_review, ..., approved, rejected, returned."
    )
    requested_items: list[RequestedItem]
    attachments: list[Attachment]
    missing_attachments: list[Attachment]
    economic_status: EconomicStatus | None = Field(description="家庭经济状况 as declared on the form.")
    disability_categories: list[DisabilityCategory]
    certified: bool = Field(description="持证; false for a disabled child without a certificate.")
    applicant_role: SignerRole
    referral_id: UUID | None = Field(description="The referral backing the form, when a single one does.")
    submitted_on: date
    attachments_added_on: date | None
    community_review: ReviewView | None = Field(description="社区意见.")
    street_review: ReviewView | None = Field(description="街道意见.")
    decision: DecisionView | None = Field(description="残联办意见.")
    service_card_number: str | None = Field(
        description="服务卡号 <prefix><year>-<sequence> (the pack's card_prefix: LJ), issued on approval."
    )
    complete_on: date | None = Field(
        default=None, description="Day the application became complete; none while attachments are missing."
    )
    decision_due_on: date | None = Field(
        default=None,
        description="Decide by this day: the jurisdiction's working days after complete_on (Anyang 5); "
        "none where the jurisdiction sets no deadline.",
    )
    institutions: dict[str, str | None] = Field(
        default_factory=dict,
        description="Institution fixed for each approved item now, after any approved change.",
    )
    institution_changes: list[InstitutionChangeView] = Field(
        default_factory=list, description="Approved changes of institution, oldest first."
    )
    pending_sign_offs: list[SignOffView] = Field(
        default_factory=list,
        description="Blocks proposed, awaiting their other signatories' confirmations (access control on).",
    )


class OverdueView(BaseModel):
    """A complete application still undecided after the jurisdiction's review deadline."""

    application_id: UUID
    person_id: UUID
    street: str
    serial_number: str
    status: str
    complete_on: date = Field(description="Day nothing required was missing any more.")
    decision_due_on: date = Field(description="Last day of the review deadline's working days.")
    working_days_overdue: int = Field(description="Working days past the deadline on as_of.")


class ReferralView(BaseModel):
    """A referral 转介 that reached approval."""

    referral_id: UUID
    person_id: UUID
    assessment_id: UUID
    from_institution_id: str
    to_institution_id: str
    to_kind: str
    items: list[CatalogueItem]
    issued_on: date
    street: str | None = Field(
        default=None, description="Street 街道 the person is registered in; null on older referrals."
    )
    community: str | None = Field(default=None, description="Community 社区 the person is registered in.")
    disability_categories: list[DisabilityCategory] | None = Field(
        default=None,
        description=(
            "Disability categories 残疾类别 the year's needs survey recorded: a form the referral backs "
            "ticks the same ones; null on older referrals."
        ),
    )


class QuotaView(BaseModel):
    """One area's children's assistance places 救助名额 of a year (reference data) and their use."""

    area: str = Field(description="County 县区 or street the places are for.", examples=["滑县"])
    year: int = Field(examples=[2021])
    places: int = Field(
        description="The area's number for the year: a minimum 最低任务数 to reach, or a cap.", examples=[200]
    )
    minimum: bool = Field(
        default=False,
        description="True: a minimum task number (Anyang: 应救尽救), never refused; false: a hard cap.",
        examples=[True],
    )
    taken: int = Field(description="Applications approved with an item that takes a place.", examples=[12])
    remaining: int = Field(description="Places still free (up to the number).", examples=[188])
    above_target: int = Field(
        default=0, description="Children approved beyond a minimum number (never beyond a cap).", examples=[0]
    )
    streets: list[str] = Field(description="Streets counted in the area.")
    items: list[str] = Field(
        description="Catalogue items that take a place.", examples=[["children_rehab_training"]]
    )
