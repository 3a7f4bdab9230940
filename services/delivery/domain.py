"""The service record aggregate 康复服务记录 (附件1, last page): one delivered service, signed by the person.

Rules run once, in ``ServiceRecord.record``; ``_apply`` only assigns state. A record counts for
settlement only if it matches an approved entitlement (same person, application, item, year and
institution — the one fixed for the item over the record's period, after any change 区残联办
approved) and is signed after the service, so those rules refuse the record here rather than
leaving settlement to discover a record that does not count.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from services.eventing.ids import new_aggregate_id
from services.eventing.rejections import CommandRejected, StateConflict


# -- value objects ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class InstitutionChange:
    """区残联办 moved an approved item to another institution 变更; the new one delivers from effective_on."""

    from_institution_id: str
    to_institution_id: str
    effective_on: date


@dataclass(frozen=True)
class Entitlement:
    """One item 区残联办 approved, as it reached delivery: who, which year, where, how subsidised."""

    application_id: UUID
    person_id: UUID
    year: int
    service_card_number: str
    item: str
    institution_id: str | None
    """None only for the self-purchased device subsidy, reimbursed to the person."""
    subsidy_mode: str
    amount_fen: int | None
    approved_on: date
    institution_changes: tuple[InstitutionChange, ...] = ()
    """Approved changes of institution, oldest first."""

    @property
    def current_institution_id(self) -> str | None:
        """The institution fixed for the item now, after any change."""
        return self.institution_on(date.max)

    def institution_on(self, day: date) -> str | None:
        """The institution fixed for the item on ``day``."""
        fixed = self.institution_id
        for change in self.institution_changes:
            if change.effective_on <= day:
                fixed = change.to_institution_id
        return fixed


@dataclass(frozen=True)
class ServiceForm:
    """What the institution writes on the 康复服务记录 and the person or guardian signs."""

    application_id: UUID
    person_id: UUID
    institution_id: str
    item: str
    frequency: str
    period_start: date
    period_end: date
    staff: str
    charge_fen: int
    insurance_paid_fen: int = 0
    signed_by: str | None = None
    signed_on: date | None = None


@dataclass(frozen=True)
class DeliveryContext:
    """What the delivery service knows when an institution records a service."""

    today: date
    designated: Mapping[str, frozenset[str]]
    """Catalogue items each designated service institution 定点康复服务机构 may deliver."""
    entitlements: tuple[Entitlement, ...] = ()
    """Approved items of the application named on the record."""
    rejection_reason: str | None = None
    """Why 区残联办 rejected the application, when it did."""
    earlier: tuple[ServiceDelivered, ...] = ()
    """Records already kept under the same application."""


# -- domain events ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class ServiceDelivered:
    delivery_id: UUID
    service_year: int
    form: ServiceForm


# -- the aggregate ---------------------------------------------------------------------------------
class ServiceRecord:
    """One 康复服务记录, built from its history on every load."""

    def __init__(self, history: Iterable[ServiceDelivered] = ()) -> None:
        self.delivered: ServiceDelivered | None = None
        for event in history:
            self._apply(event)

    @staticmethod
    def record(form: ServiceForm, context: DeliveryContext) -> list[ServiceDelivered]:
        """Keep a signed record of a service delivered under an approved entitlement."""
        _check_record_itself(form, context.today)
        _check_designated(form, context.designated)
        entitlement = _matching_entitlement(form, context)
        _check_period(form, entitlement)
        _check_no_overlap(form, context.earlier)
        return [ServiceDelivered(new_aggregate_id(), entitlement.year, form)]

    def _apply(self, event: ServiceDelivered) -> None:
        self.delivered = event


# -- rules -----------------------------------------------------------------------------------------
def _check_record_itself(form: ServiceForm, today: date) -> None:
    if form.period_end < form.period_start:
        raise CommandRejected(
            f"the service period ends ({form.period_end}) before it starts ({form.period_start})",
            field="period_end",
        )
    if form.signed_by is None:
        raise CommandRejected(
            "the person or guardian signs the record to confirm the service received; it is not signed",
            field="signed_by",
        )
    if form.signed_on is None:
        raise CommandRejected("the date of the signature is missing", field="signed_on")
    if form.signed_on < form.period_end:
        raise CommandRejected(
            f"signed on {form.signed_on}, before the service period ended ({form.period_end}): "
            "the signature confirms a service received",
            field="signed_on",
        )
    if form.signed_on > today:
        raise CommandRejected(f"signed_on {form.signed_on} is in the future", field="signed_on")
    if form.insurance_paid_fen > form.charge_fen:
        raise CommandRejected(
            f"insurance paid {form.insurance_paid_fen} fen, more than the charge of {form.charge_fen} fen",
            field="insurance_paid_fen",
        )


def _check_designated(form: ServiceForm, designated: Mapping[str, frozenset[str]]) -> None:
    if form.institution_id not in designated:
        raise CommandRejected(
            f"{form.institution_id} is not a designated service institution 定点康复服务机构",
            field="institution_id",
        )
    if form.item not in designated[form.institution_id]:
        raise CommandRejected(
            f"{form.institution_id} is not designated for {form.item}; it is for "
            f"{', '.join(sorted(designated[form.institution_id]))}",
            field="institution_id",
        )


def _matching_entitlement(form: ServiceForm, context: DeliveryContext) -> Entitlement:
    application = form.application_id
    if not context.entitlements:
        if context.rejection_reason is not None:
            raise StateConflict(
                f"application {application} was rejected by 区残联办: {context.rejection_reason}",
                field="application_id",
            )
        raise StateConflict(
            f"no approval of application {application} has reached delivery yet: "
            "区残联办 approves before the service is recorded",
            field="application_id",
        )
    if any(entitlement.person_id != form.person_id for entitlement in context.entitlements):
        raise StateConflict(f"application {application} was approved for another person", field="person_id")
    same_item = [entitlement for entitlement in context.entitlements if entitlement.item == form.item]
    if not same_item:
        approved = ", ".join(sorted(entitlement.item for entitlement in context.entitlements))
        raise StateConflict(
            f"application {application} does not approve {form.item} (approved: {approved})", field="item"
        )
    entitlement = same_item[0]
    if entitlement.institution_id is not None:
        _check_institution(form, entitlement)
    return entitlement


def _check_institution(form: ServiceForm, entitlement: Entitlement) -> None:
    """The record's institution is the one fixed for the item over its whole period."""
    for change in entitlement.institution_changes:
        if form.period_start < change.effective_on <= form.period_end:
            raise StateConflict(
                f"区残联办 moved {form.item} from {change.from_institution_id} to {change.to_institution_id} "
                f"on {change.effective_on}, inside the service period; each institution records its own part",
                field="period_end",
            )
    fixed = entitlement.institution_on(form.period_start)
    if fixed == form.institution_id:
        return
    if not entitlement.institution_changes:
        raise StateConflict(
            f"{form.item} in {entitlement.year} is fixed to {fixed}, the institution "
            "approved for the year; a change needs 区残联办 approval",
            field="institution_id",
        )
    history = "; ".join(
        f"{change.from_institution_id} -> {change.to_institution_id} from {change.effective_on}"
        for change in entitlement.institution_changes
    )
    raise StateConflict(
        f"{form.item} is fixed to {fixed} for a period starting {form.period_start} "
        f"(approved {entitlement.institution_id}, changes by 区残联办: {history})",
        field="institution_id",
    )


def _check_period(form: ServiceForm, entitlement: Entitlement) -> None:
    year = entitlement.year
    for field in ("period_start", "period_end"):
        day: date = getattr(form, field)
        if day.year != year:
            raise CommandRejected(
                f"{field} {day} is outside {year}, the year of application {form.application_id}", field=field
            )
    if form.period_start < entitlement.approved_on:
        raise CommandRejected(
            f"the service period starts {form.period_start}, before 区残联办 approved it on "
            f"{entitlement.approved_on}",
            field="period_start",
        )


def _check_no_overlap(form: ServiceForm, earlier: Sequence[ServiceDelivered]) -> None:
    for event in earlier:
        other = event.form
        same_service = other.item == form.item and other.institution_id == form.institution_id
        if same_service and other.period_start <= form.period_end and form.period_start <= other.period_end:
            raise StateConflict(
                f"record {event.delivery_id} already covers {other.period_start} to {other.period_end} "
                f"of {form.item}; a period is recorded once",
                field="period_start",
            )
