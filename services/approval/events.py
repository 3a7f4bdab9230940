"""Domain events of the application aggregate and the value objects they carry (plain codes, no contracts)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING
from uuid import UUID

if TYPE_CHECKING:
    from services.approval.domain import Application


# -- value objects ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class RequestedItem:
    """One ticked 康复需求项目 with its item-specific choices."""

    item: str
    institution_id: str | None = None
    eyes: tuple[str, ...] = ()
    nutrition_allowance: bool = False
    poor: bool | None = None


@dataclass(frozen=True)
class Signatories:
    """One sign-off block: 负责人, 复核人 (not at community level), 经办人."""

    responsible: str
    handler: str
    reviewer: str | None = None

    def roles(self) -> list[tuple[str, str]]:
        """(role, name) of every signature in the block."""
        signed = [("responsible", self.responsible), ("reviewer", self.reviewer), ("handler", self.handler)]
        return [(role, name) for role, name in signed if name is not None]


@dataclass(frozen=True)
class ItemApproval:
    """One item 区残联办 approved; ``institution_id`` None only for the self-purchased device subsidy."""

    item: str
    subsidy_mode: str
    institution_id: str | None = None
    amount_fen: int | None = None


@dataclass(frozen=True)
class ItemRejection:
    """One requested item 区残联办 refused while approving others."""

    item: str
    reason: str


@dataclass(frozen=True)
class Referral:
    """A referral 转介 issued by an assessment institution, as it reached approval."""

    referral_id: UUID
    person_id: UUID
    items: frozenset[str]
    year: int
    to_institution_id: str
    to_service_institution: bool
    """False for an escalation to a city-level assessment institution: it backs no application."""
    street: str | None = None
    """Street 街道 the person is registered in (None: issued before referrals carried it)."""
    community: str | None = None
    disability_categories: frozenset[str] | None = None
    """残疾类别 the year's needs survey recorded (None: issued before referrals carried them)."""


@dataclass(frozen=True)
class Submission:
    """What the applicant handed in: the form's fields that the decision depends on."""

    person_id: UUID
    application_year: int
    street: str
    serial_number: str
    requested_items: tuple[RequestedItem, ...]
    attachments: frozenset[str]
    economic_status: str | None
    """家庭经济状况; None only when a stored form did not say."""
    disability_categories: frozenset[str]
    applicant_role: str
    submitted_on: date
    referral_id: UUID | None = None
    certified: bool = True
    """持证: holds a 残疾人证 (or 残疾军人证); False for a disabled child without one 未持证残疾儿童."""

    @property
    def items(self) -> frozenset[str]:
        return frozenset(requested.item for requested in self.requested_items)


@dataclass(frozen=True)
class SubmissionContext:
    """What the approval service knows when a form is handed in."""

    today: date
    streets: frozenset[str]
    designated: Mapping[str, frozenset[str]]
    """Catalogue items each designated service institution 定点康复服务机构 may deliver."""
    referrals: tuple[Referral, ...] = ()
    """Referrals 转介 of this person that have reached approval."""
    other_applications: tuple[Application, ...] = ()
    """This person's earlier applications."""
    serial_number_holder: UUID | None = None
    """The application that already has the form's 序号 in its street and year, if any."""


# -- domain events ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class ApplicationSubmitted:
    application_id: UUID
    submission: Submission


@dataclass(frozen=True)
class AttachmentsAdded:
    application_id: UUID
    attachments: frozenset[str]
    added_on: date


@dataclass(frozen=True)
class ApplicationReviewed:
    application_id: UUID
    level: str
    endorsed: bool
    opinion: str
    signatories: Signatories
    reviewed_on: date


@dataclass(frozen=True)
class ApplicationApproved:
    application_id: UUID
    service_card_number: str
    approved_items: tuple[ItemApproval, ...]
    rejected_items: tuple[ItemRejection, ...]
    signatories: Signatories
    approved_on: date


@dataclass(frozen=True)
class ApplicationRejected:
    application_id: UUID
    reason: str
    signatories: Signatories
    rejected_on: date


@dataclass(frozen=True)
class InstitutionChangeApproved:
    """区残联办 moved an approved item to another designated institution, from ``approved_on``."""

    application_id: UUID
    item: str
    from_institution_id: str
    to_institution_id: str
    reason: str
    signatories: Signatories
    approved_on: date


@dataclass(frozen=True)
class InstitutionChange:
    """A change request 变更 as 区残联办 signs it (the command's input)."""

    item: str
    from_institution_id: str
    to_institution_id: str
    reason: str
    signatories: Signatories
    decided_on: date


@dataclass(frozen=True)
class Review:
    """社区意见 or 街道意见 as a level signs it (the command's input)."""

    level: str
    endorsed: bool
    opinion: str
    signatories: Signatories
    reviewed_on: date


@dataclass(frozen=True)
class Approval:
    """残联办意见 approving item by item, as 区残联办 signs it (the command's input)."""

    approvals: tuple[ItemApproval, ...]
    rejections: tuple[ItemRejection, ...]
    signatories: Signatories
    decided_on: date


@dataclass(frozen=True)
class Rejection:
    """残联办意见 refusing the whole application, as 区残联办 signs it (the command's input)."""

    reason: str
    signatories: Signatories
    decided_on: date


ApplicationEvent = (
    ApplicationSubmitted
    | AttachmentsAdded
    | ApplicationReviewed
    | ApplicationApproved
    | ApplicationRejected
    | InstitutionChangeApproved
)
Decision = ApplicationApproved | ApplicationRejected
