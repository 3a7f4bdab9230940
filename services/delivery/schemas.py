"""Request and response bodies of the delivery API: the 康复服务记录 and the entitlements behind it."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from rehab_contracts import MAX_AMOUNT_FEN, CatalogueItem, SignerRole, SubsidyMode

from kernel.free_text import ClearLongText, ClearText

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
InstitutionId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")]


class RecordService(BaseModel):
    """A 康复服务记录 as the institution filled it in and the person or guardian signed it."""

    model_config = ConfigDict(extra="forbid")

    application_id: UUID = Field(description="The approved application the service is delivered under.")
    person_id: UUID = Field(description="The person served.")
    institution_id: InstitutionId = Field(
        description="Service institution 服务机构名称.", examples=["cqmu-second"]
    )
    item: CatalogueItem = Field(description="服务项目.", examples=["low_vision_training"])
    frequency: ClearText = Field(
        description="服务频次: how often and how long.", examples=["每周2次，每次45分钟"]
    )
    period_start: date = Field(description="服务周期 from, in the application year.", examples=["2024-11-04"])
    period_end: date = Field(description="服务周期 to.", examples=["2024-12-20"])
    staff: ClearText = Field(description="服务人员.", examples=["刘康复师"])
    signed_by: SignerRole | None = Field(
        default=None,
        description="Who signed: the person 残疾人 or the guardian 监护人. Unsigned records are refused.",
    )
    signed_on: date | None = Field(default=None, description="日期 of the signature, after the period ended.")
    charge_fen: int = Field(
        ge=0,
        le=MAX_AMOUNT_FEN,
        strict=True,
        description=f"Total charge in fen 分, at most {MAX_AMOUNT_FEN:,} (100万元).",
        examples=[150000],
    )
    insurance_paid_fen: int = Field(
        default=0,
        ge=0,
        le=MAX_AMOUNT_FEN,
        strict=True,
        description="Paid first by insurance, medical aid and other programmes, in fen; at most the charge.",
        examples=[30000],
    )


class CorrectService(RecordService):
    """The whole corrected 康复服务记录 更正, with the reason: checked as a new record would be. The person,
    application, institution and item stay as recorded."""

    reason: ClearText = Field(
        description="Why the record is corrected 更正原因, as the clerk writes it.",
        examples=["发票总额录入有误，应为1,200.00元"],
    )


class CorrectionView(BaseModel):
    """One correction 更正 of a service record."""

    event_id: UUID = Field(description="The correcting delivery.service_delivered event.")
    corrected_at: datetime = Field(description="When it was corrected.")
    corrected_by: str | None = Field(description="Who corrected it (none without access control).")
    reason: str = Field(description="Why, as the clerk wrote it.")


class DeliveryView(BaseModel):
    """A kept 康复服务记录."""

    delivery_id: UUID
    application_id: UUID
    person_id: UUID
    service_year: int
    institution_id: str
    item: CatalogueItem
    frequency: str
    period_start: date
    period_end: date
    staff: str
    signed_by: SignerRole
    signed_on: date
    charge_fen: int
    insurance_paid_fen: int
    remaining_fen: int = Field(
        description="Charge left after insurance: what the catalogue subsidy may cover."
    )
    corrections: list[CorrectionView] = Field(
        default_factory=list,
        description="Corrections 更正 of the record, oldest first; the fields above are as last corrected.",
    )


class InstitutionChangeView(BaseModel):
    """A change of institution 区残联办 approved for the item."""

    from_institution_id: str
    to_institution_id: str
    effective_on: date = Field(description="The new institution delivers from this day.")


class EntitlementView(BaseModel):
    """An item 区残联办 approved (享受的康复项目), as it reached delivery."""

    application_id: UUID
    person_id: UUID
    year: int
    service_card_number: str = Field(description="服务卡号.")
    item: CatalogueItem
    institution_id: str | None = Field(
        description="Institution 区残联办 approved for the year; none for reimbursed devices."
    )
    current_institution_id: str | None = Field(
        description="Institution fixed for the item now, after any approved change."
    )
    institution_changes: list[InstitutionChangeView] = Field(
        default_factory=list, description="Approved changes of institution, oldest first."
    )
    subsidy_mode: SubsidyMode
    amount_fen: int | None
    approved_on: date


class RefusedRecordView(BaseModel):
    """A 康复服务记录 a rule refused 被退回的服务记录: as sent, with the reason, to correct and send again."""

    refusal_id: UUID
    record: dict[str, Any] = Field(
        description="The record as sent: the fields of `POST /deliveries` (RecordService) the sender gave."
    )
    status: int = Field(
        description="The refusal's status: 409 (does not fit the approval) or 422 (a rule of the record).",
        examples=[409],
    )
    code: str = Field(description="The rule's stable code.", examples=["delivery.item.not_on_approval"])
    field: str | None = Field(description="The field the reason is about.", examples=["item"])
    reason: str = Field(description="Why, in Chinese, as the refusal said.")
    refused_at: datetime = Field(description="When it was refused.")
    refused_by: str | None = Field(description="Who sent it (none without access control).")
    dismissed_at: datetime | None = Field(
        default=None,
        description="When the institution dismissed 撤销 it, not to resend it; null while it is listed.",
    )
    dismissed_by: str | None = Field(
        default=None, description="Who dismissed it (none without access control)."
    )
    dismissal_reason: str | None = Field(default=None, description="Why, as the clerk wrote it, if they did.")


class DismissRefused(BaseModel):
    """Dismiss 撤销 a refused record the institution will not correct and resend; it stays kept for audit."""

    model_config = ConfigDict(extra="forbid")

    reason: ClearLongText | None = Field(
        default=None, description="Why it will not be resent 撤销原因.", examples=["重复录入，已另行记录"]
    )
