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

from kernel.domain.clock import cn_date
from kernel.domain.ids import new_aggregate_id
from kernel.domain.institutions import InstitutionMove, institution_in_charge
from kernel.domain.rejections import CommandRejected, StateConflict
from services.delivery.labels import items_text


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
        """The institution in charge of the item over a service period beginning on ``day``: the rule
        settlement applies too (kernel/domain/institutions.py)."""
        if self.institution_id is None:
            return None
        moves = [
            InstitutionMove(change.from_institution_id, change.to_institution_id, change.effective_on)
            for change in self.institution_changes
        ]
        return institution_in_charge(self.institution_id, moves, day)[0]


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
            f"服务周期的结束日期 {cn_date(form.period_end)} 早于开始日期 {cn_date(form.period_start)}",
            field="period_end",
            code="delivery.period_end.before_start",
        )
    if form.signed_by is None:
        raise CommandRejected(
            "服务记录须由本人或监护人签字确认接受了服务；此记录没有签字",
            field="signed_by",
            code="delivery.signed_by.required",
        )
    if form.signed_on is None:
        raise CommandRejected("缺少签字日期", field="signed_on", code="delivery.signed_on.required")
    if form.signed_on < form.period_end:
        raise CommandRejected(
            f"签字日期 {cn_date(form.signed_on)} 早于服务周期结束日期 {cn_date(form.period_end)}："
            "签字确认的是已接受的服务",
            field="signed_on",
            code="delivery.signed_on.before_period_end",
        )
    if form.signed_on > today:
        raise CommandRejected(
            f"签字日期 {cn_date(form.signed_on)} 晚于今天",
            field="signed_on",
            code="delivery.signed_on.future",
        )
    if form.insurance_paid_fen > form.charge_fen:
        raise CommandRejected(
            f"医保等已支付 {_yuan(form.insurance_paid_fen)}，超过发票总额 {_yuan(form.charge_fen)}",
            field="insurance_paid_fen",
            code="delivery.insurance_paid_fen.above_charge",
        )


def _check_designated(form: ServiceForm, designated: Mapping[str, frozenset[str]]) -> None:
    if form.institution_id not in designated:
        raise CommandRejected(
            f"“{form.institution_id}”不是定点康复服务机构",
            field="institution_id",
            code="delivery.institution_id.not_designated",
        )
    if form.item not in designated[form.institution_id]:
        raise CommandRejected(
            f"{form.institution_id} 不是{items_text([form.item])}的定点机构；"
            f"它的定点项目是：{items_text(sorted(designated[form.institution_id]))}",
            field="institution_id",
            code="delivery.institution_id.not_designated_for_item",
        )


def _matching_entitlement(form: ServiceForm, context: DeliveryContext) -> Entitlement:
    if not context.entitlements:
        if context.rejection_reason is not None:
            raise StateConflict(
                f"此申请未获区残联办批准（{context.rejection_reason}），不能记录服务",
                field="application_id",
                code="delivery.application_id.rejected",
            )
        raise StateConflict(
            "服务机构尚未收到此申请的审批结果：须经区残联办批准后才能记录服务",
            field="application_id",
            code="delivery.application_id.not_approved",
        )
    if any(entitlement.person_id != form.person_id for entitlement in context.entitlements):
        raise StateConflict(
            "此申请批准的是另一个人",
            field="person_id",
            code="delivery.person_id.not_on_approval",
        )
    same_item = [entitlement for entitlement in context.entitlements if entitlement.item == form.item]
    if not same_item:
        approved = items_text(sorted(entitlement.item for entitlement in context.entitlements))
        raise StateConflict(
            f"此申请没有批准{items_text([form.item])}（已批准：{approved}）",
            field="item",
            code="delivery.item.not_on_approval",
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
                f"区残联办已于 {cn_date(change.effective_on)} 将{items_text([form.item])}"
                f"从 {change.from_institution_id} 变更至 {change.to_institution_id}，在此服务周期之内："
                "请各机构分别记录各自的部分",
                field="period_end",
                code="delivery.period_end.spans_institution_change",
            )
    fixed = entitlement.institution_on(form.period_start)
    if fixed == form.institution_id:
        return
    if not entitlement.institution_changes:
        raise StateConflict(
            f"{entitlement.year} 年的{items_text([form.item])}定在批准的机构 {fixed}；"
            "变更服务机构须经区残联办批准",
            field="institution_id",
            code="delivery.institution_id.not_on_approval",
        )
    history = "；".join(
        f"{cn_date(change.effective_on)}起从 {change.from_institution_id} 变更至 {change.to_institution_id}"
        for change in entitlement.institution_changes
    )
    raise StateConflict(
        f"自 {cn_date(form.period_start)} 起的{items_text([form.item])}定在 {fixed}"
        f"（批准的机构 {entitlement.institution_id}，区残联办的变更：{history}）",
        field="institution_id",
        code="delivery.institution_id.not_on_approval",
    )


def _check_period(form: ServiceForm, entitlement: Entitlement) -> None:
    year = entitlement.year
    for field in ("period_start", "period_end"):
        day: date = getattr(form, field)
        if day.year != year:
            raise CommandRejected(
                f"日期 {cn_date(day)} 不在此申请的年度 {year} 内",
                field=field,
                code=f"delivery.{field}.outside_year",
            )
    if form.period_start < entitlement.approved_on:
        raise CommandRejected(
            f"服务周期开始于 {cn_date(form.period_start)}，"
            f"早于区残联办批准日期 {cn_date(entitlement.approved_on)}",
            field="period_start",
            code="delivery.period_start.before_approval",
        )


def _check_no_overlap(form: ServiceForm, earlier: Sequence[ServiceDelivered]) -> None:
    for event in earlier:
        other = event.form
        same_service = other.item == form.item and other.institution_id == form.institution_id
        if same_service and other.period_start <= form.period_end and form.period_start <= other.period_end:
            raise StateConflict(
                f"服务记录 {event.delivery_id} 已记录{items_text([form.item])} "
                f"{cn_date(other.period_start)} 至 {cn_date(other.period_end)}：同一周期只记录一次",
                field="period_start",
                code="delivery.period_start.overlaps",
            )


def _yuan(fen: int) -> str:
    """An amount as a clerk reads it: 3,500.00元."""
    return f"{fen // 100:,}.{fen % 100:02d}元"
