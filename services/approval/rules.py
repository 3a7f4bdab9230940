"""Rules on one application's decisions: sign-off blocks, dates, item decisions and institution changes.

Plain functions the ``Application`` aggregate calls from its command methods; they raise on a broken
rule and never change state.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date
from decimal import Decimal

from kernel.domain.clock import cn_date
from kernel.domain.rejections import CommandRejected, StateConflict
from services.approval.catalogue import (
    COMMUNITY,
    FIXED_AMOUNT,
    FREE,
    SELF_PURCHASED_DEVICE_SUBSIDY,
    STREET,
)
from services.approval.events import (
    InstitutionChange,
    ItemApproval,
    ItemRejection,
    RequestedItem,
    Signatories,
    Submission,
)
from services.approval.labels import items_text

SERVICE_CARD_NUMBER = re.compile(r"^[A-Z]{1,6}(?P<year>[0-9]{4})-[0-9]{6}$")
"""<card prefix of the pack><year>-<sequence>: LJ2025-000001 in Liangjiang."""


# -- sign-off blocks and dates -----------------------------------------------------------------------------
def check_block(level: str, signatories: Signatories) -> None:
    if level == COMMUNITY and signatories.reviewer is not None:
        raise CommandRejected(
            "社区意见栏只由负责人和经办人签字，没有复核人",
            field="signatories.reviewer",
            code="approval.signatories.reviewer.not_in_community_block",
        )
    if level == STREET and signatories.reviewer is None:
        raise CommandRejected(
            "街道意见栏须有复核人签字",
            field="signatories.reviewer",
            code="approval.signatories.reviewer.required",
        )


def check_day(day: date, field: str, *, not_before: date, today: date) -> None:
    if day < not_before:
        raise CommandRejected(
            f"日期 {cn_date(day)} 早于此申请上一步的日期 {cn_date(not_before)}",
            field=field,
            code=f"approval.{field}.before_previous_step",
        )
    if day > today:
        raise CommandRejected(f"日期 {cn_date(day)} 晚于今天", field=field, code=f"approval.{field}.future")


def check_every_item_decided_once(
    form: Submission, approvals: Sequence[ItemApproval], rejections: Sequence[ItemRejection]
) -> None:
    decided = [approval.item for approval in approvals] + [rejection.item for rejection in rejections]
    repeated = sorted({item for item in decided if decided.count(item) > 1})
    if repeated:
        raise CommandRejected(
            f"重复审批了：{items_text(repeated)}",
            field="approved_items",
            code="approval.approved_items.repeated",
        )
    not_requested = sorted(set(decided) - form.items)
    if not_requested:
        raise CommandRejected(
            f"此申请没有申请：{items_text(not_requested)}",
            field="approved_items",
            code="approval.approved_items.not_requested",
        )
    undecided = sorted(form.items - set(decided))
    if undecided:
        raise CommandRejected(
            f"每个申请项目都须批准或不予批准；未审批：{items_text(undecided)}",
            field="approved_items",
            code="approval.approved_items.undecided",
        )
    if not approvals:
        raise CommandRejected(
            "请至少批准一个项目，或不予批准整个申请",
            field="approved_items",
            code="approval.approved_items.none_approved",
        )


def requested_of(form: Submission, item: str) -> RequestedItem:
    return next(requested for requested in form.requested_items if requested.item == item)


def resolve_approval(
    approval: ItemApproval,
    requested: RequestedItem,
    designated: Mapping[str, frozenset[str]],
    standards: Mapping[str, int],
) -> ItemApproval:
    """The approval as decided: the applicant's chosen institution unless 区残联办 names another."""
    institution = approval.institution_id or requested.institution_id
    if institution is None and approval.item != SELF_PURCHASED_DEVICE_SUBSIDY:
        raise CommandRejected(
            f"{items_text([approval.item])}：申请人未选服务机构，请指定服务机构",
            field="approved_items",
            code="approval.approved_items.institution_required",
        )
    if institution is not None and approval.item not in designated.get(institution, frozenset()):
        raise CommandRejected(
            f"{items_text([approval.item])}：{institution} 不是该项目的定点康复服务机构",
            field="approved_items",
            code="approval.approved_items.institution_not_designated",
        )
    _check_subsidy(approval)
    _check_within_standard(approval, standards.get(approval.item))
    return replace(approval, institution_id=institution)


def _check_subsidy(approval: ItemApproval) -> None:
    if approval.subsidy_mode == FIXED_AMOUNT and (approval.amount_fen is None or approval.amount_fen <= 0):
        raise CommandRejected(
            f"{items_text([approval.item])}：定额补助须填写大于 0 的金额（元）",
            field="approved_items",
            code="approval.approved_items.amount_required",
        )
    if approval.subsidy_mode == FREE and approval.amount_fen is not None:
        raise CommandRejected(
            f"{items_text([approval.item])}：免费项目不填金额",
            field="approved_items",
            code="approval.approved_items.amount_for_free",
        )
    if approval.subsidy_mode not in (FREE, FIXED_AMOUNT):
        raise CommandRejected(
            f"{items_text([approval.item])}：补助方式“{approval.subsidy_mode}”不存在，应为免费或定额补助",
            field="approved_items",
            code="approval.approved_items.subsidy_mode_unknown",
        )


def _check_within_standard(approval: ItemApproval, standard_fen: int | None) -> None:
    """定额不超过目录标准: a fixed amount above the item's standard is refused, the standard named."""
    amount = approval.amount_fen
    if approval.subsidy_mode != FIXED_AMOUNT or standard_fen is None or amount is None:
        return
    if amount > standard_fen:
        raise CommandRejected(
            f"{items_text([approval.item])}：定额 {_yuan(amount)} 元高于目录标准 {_yuan(standard_fen)} 元，"
            "定额补助不得超过目录标准",
            field="approved_items",
            code="approval.approved_items.amount_above_standard",
        )


def _yuan(fen: int) -> str:
    return f"{Decimal(fen) / 100:,.2f}"


def check_card_number(number: str, year: int) -> None:
    match = SERVICE_CARD_NUMBER.match(number)
    if match is None or int(match["year"]) != year:
        raise ValueError(f"service card number {number!r} is not of the form <prefix>{year}-NNNNNN")


def person_key(name: str) -> str:
    return "".join(name.split())


def check_office_block(signatories: Signatories) -> None:
    if signatories.reviewer is None:
        raise CommandRejected(
            "区残联办意见栏须有复核人签字",
            field="signatories.reviewer",
            code="approval.signatories.reviewer.required",
        )


# -- institution changes ---------------------------------------------------------------------------
def check_institution_change(
    change: InstitutionChange,
    fixed: Mapping[str, str | None],
    designated: Mapping[str, frozenset[str]],
    year: int,
) -> None:
    """The item is approved, ``from`` is the institution fixed for it now, ``to`` is designated for it."""
    if change.item not in fixed:
        raise StateConflict(
            f"此申请没有批准{items_text([change.item])}（已批准：{items_text(sorted(fixed))}）",
            field="item",
            code="approval.item.not_approved",
        )
    current = fixed[change.item]
    if current is None:
        raise CommandRejected(
            f"{items_text([change.item])}是报销给本人的，没有可变更的服务机构",
            field="item",
            code="approval.item.reimbursed_to_person",
        )
    if change.from_institution_id != current:
        raise StateConflict(
            f"{items_text([change.item])}目前定在 {current}，不是 {change.from_institution_id}",
            field="from_institution_id",
            code="approval.from_institution_id.not_current",
        )
    if change.to_institution_id == current:
        raise CommandRejected(
            f"{items_text([change.item])}已定在 {current}，请填写另一家机构",
            field="to_institution_id",
            code="approval.to_institution_id.unchanged",
        )
    if change.item not in designated.get(change.to_institution_id, frozenset()):
        raise CommandRejected(
            f"{items_text([change.item])}：{change.to_institution_id} 不是该项目的定点康复服务机构",
            field="to_institution_id",
            code="approval.to_institution_id.not_designated",
        )
    if not change.reason.strip():
        raise CommandRejected("变更服务机构须写明理由", field="reason", code="approval.reason.required")
    if change.decided_on.year != year:
        raise CommandRejected(
            f"变更日期 {cn_date(change.decided_on)} 不在 {year} 年内：服务机构按年度确定",
            field="decided_on",
            code="approval.decided_on.outside_year",
        )
