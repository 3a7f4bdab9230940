"""Rules on one application's decisions: sign-off blocks, dates, item decisions and institution changes.

Plain functions the ``Application`` aggregate calls from its command methods; they raise on a broken
rule and never change state.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date

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
from services.eventing.rejections import CommandRejected, StateConflict

SERVICE_CARD_NUMBER = re.compile(r"^LJ(?P<year>[0-9]{4})-[0-9]{6}$")


# -- sign-off blocks and dates -----------------------------------------------------------------------------
def check_block(level: str, signatories: Signatories) -> None:
    if level == COMMUNITY and signatories.reviewer is not None:
        raise CommandRejected(
            "the community block 社区意见 is signed by 负责人 and 经办人 only; it has no 复核人",
            field="signatories.reviewer",
        )
    if level == STREET and signatories.reviewer is None:
        raise CommandRejected("the street block 街道意见 needs a 复核人", field="signatories.reviewer")


def check_day(day: date, field: str, *, not_before: date, today: date) -> None:
    if day < not_before:
        raise CommandRejected(
            f"{field} {day} is before the previous step of the application ({not_before})", field=field
        )
    if day > today:
        raise CommandRejected(f"{field} {day} is in the future", field=field)


def check_every_item_decided_once(
    form: Submission, approvals: Sequence[ItemApproval], rejections: Sequence[ItemRejection]
) -> None:
    decided = [approval.item for approval in approvals] + [rejection.item for rejection in rejections]
    repeated = sorted({item for item in decided if decided.count(item) > 1})
    if repeated:
        raise CommandRejected(f"decided more than once: {', '.join(repeated)}", field="approved_items")
    not_requested = sorted(set(decided) - form.items)
    if not_requested:
        raise CommandRejected(
            f"not requested on this application: {', '.join(not_requested)}", field="approved_items"
        )
    undecided = sorted(form.items - set(decided))
    if undecided:
        raise CommandRejected(
            f"every requested item must be approved or refused; undecided: {', '.join(undecided)}",
            field="approved_items",
        )
    if not approvals:
        raise CommandRejected(
            "approve at least one item, or reject the whole application", field="approved_items"
        )


def requested_of(form: Submission, item: str) -> RequestedItem:
    return next(requested for requested in form.requested_items if requested.item == item)


def resolve_approval(
    approval: ItemApproval, requested: RequestedItem, designated: Mapping[str, frozenset[str]]
) -> ItemApproval:
    """The approval as decided: the applicant's chosen institution unless 区残联办 names another."""
    institution = approval.institution_id or requested.institution_id
    if institution is None and approval.item != SELF_PURCHASED_DEVICE_SUBSIDY:
        raise CommandRejected(
            f"{approval.item}: name the service institution (the applicant chose none)",
            field="approved_items",
        )
    if institution is not None and approval.item not in designated.get(institution, frozenset()):
        raise CommandRejected(
            f"{approval.item}: {institution} is not a designated service institution for it",
            field="approved_items",
        )
    _check_subsidy(approval)
    return replace(approval, institution_id=institution)


def _check_subsidy(approval: ItemApproval) -> None:
    if approval.subsidy_mode == FIXED_AMOUNT and (approval.amount_fen is None or approval.amount_fen <= 0):
        raise CommandRejected(
            f"{approval.item}: a fixed amount 定额补助 needs amount_fen greater than 0",
            field="approved_items",
        )
    if approval.subsidy_mode == FREE and approval.amount_fen is not None:
        raise CommandRejected(f"{approval.item}: a free 免费 item has no amount_fen", field="approved_items")
    if approval.subsidy_mode not in (FREE, FIXED_AMOUNT):
        raise CommandRejected(
            f"{approval.item}: unknown subsidy mode {approval.subsidy_mode}", field="approved_items"
        )


def check_card_number(number: str, year: int) -> None:
    match = SERVICE_CARD_NUMBER.match(number)
    if match is None or int(match["year"]) != year:
        raise ValueError(f"service card number {number!r} is not of the form LJ{year}-NNNNNN")


def person_key(name: str) -> str:
    return "".join(name.split())


def check_office_block(signatories: Signatories) -> None:
    if signatories.reviewer is None:
        raise CommandRejected("the 区残联办 block is signed by a 复核人 too", field="signatories.reviewer")


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
            f"{change.item} is not approved on this application (approved: {', '.join(sorted(fixed))})",
            field="item",
        )
    current = fixed[change.item]
    if current is None:
        raise CommandRejected(
            f"{change.item} is reimbursed to the person; it has no service institution to change",
            field="item",
        )
    if change.from_institution_id != current:
        raise StateConflict(
            f"{change.item} is fixed to {current} now, not to {change.from_institution_id}",
            field="from_institution_id",
        )
    if change.to_institution_id == current:
        raise CommandRejected(
            f"{change.item} is already fixed to {current}; name another institution",
            field="to_institution_id",
        )
    if change.item not in designated.get(change.to_institution_id, frozenset()):
        raise CommandRejected(
            f"{change.item}: {change.to_institution_id} is not a designated service institution "
            "定点康复服务机构 for it",
            field="to_institution_id",
        )
    if not change.reason.strip():
        raise CommandRejected("a change of institution must give its reason", field="reason")
    if change.decided_on.year != year:
        raise CommandRejected(
            f"decided_on {change.decided_on} is outside {year}: the institution is fixed per year",
            field="decided_on",
        )
