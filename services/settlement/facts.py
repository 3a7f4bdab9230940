"""Facts settlement learns from the consumed events, translated at the edge (pure value objects)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class PersonSurveyed:
    """A street surveyed a person's needs for a year (from NeedSurveyed)."""

    event_id: str
    person: str
    year: int
    street: str
    has_needs: bool
    surveyed_on: date


@dataclass(frozen=True)
class PersonAssessed:
    """An assessment institution assessed a person for a year (from AssessmentCompleted)."""

    event_id: str
    person: str
    year: int
    institution: str
    level: str
    assessed_on: date


@dataclass(frozen=True)
class ApprovedItem:
    """One item 区残联办 approved: where it is delivered and how it is subsidised."""

    item: str
    institution: str | None
    mode: str
    amount_fen: int | None = None


@dataclass(frozen=True)
class ItemsApproved:
    """区残联办 approved items of an application (from ApplicationApproved)."""

    event_id: str
    application: str
    person: str
    year: int
    items: tuple[ApprovedItem, ...]
    approved_on: date

    def item(self, code: str) -> ApprovedItem | None:
        return next((approved for approved in self.items if approved.item == code), None)


@dataclass(frozen=True)
class ApplicationRefused:
    """区残联办 refused a whole application (from ApplicationRejected)."""

    event_id: str
    application: str
    person: str
    refused_on: date


@dataclass(frozen=True)
class ServiceRecorded:
    """A service institution recorded a delivered item, signed by the person (from ServiceDelivered)."""

    event_id: str
    delivery: str
    application: str
    person: str
    item: str
    institution: str
    year: int
    charge_fen: int
    insurance_paid_fen: int
    signed: bool
    signed_on: date


@dataclass(frozen=True)
class InstitutionChanged:
    """区残联办 moved an approved item to another institution (from InstitutionChangeApproved)."""

    event_id: str
    application: str
    item: str
    from_institution: str
    to_institution: str
    approved_on: date


Fact = (
    PersonSurveyed
    | PersonAssessed
    | ItemsApproved
    | ApplicationRefused
    | ServiceRecorded
    | InstitutionChanged
)
