"""Rules a new application must pass: its own fields, its referral, the person's other applications."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING
from uuid import UUID

from services.approval.catalogue import (
    CATARACT_SURGERY,
    DISABILITY_CERTIFICATE_COPY,
    ITEMS_NAMING_INSTITUTIONS,
    SUBSISTENCE_ALLOWANCE,
    SUPPORT_SERVICE_CATEGORIES,
)
from services.eventing.rejections import CommandRejected, StateConflict

if TYPE_CHECKING:
    from services.approval.domain import Application
    from services.approval.events import Referral, RequestedItem, Submission, SubmissionContext


# -- the form itself -------------------------------------------------------------------------------
def check_form(submission: Submission, context: SubmissionContext) -> None:
    if submission.street not in context.streets:
        raise CommandRejected(
            f"{submission.street} is not a street of the jurisdiction: {', '.join(sorted(context.streets))}",
            field="street",
        )
    if submission.submitted_on.year != submission.application_year:
        raise CommandRejected(
            f"submitted_on {submission.submitted_on} is not in the year {submission.application_year}",
            field="submitted_on",
        )
    if submission.submitted_on > context.today:
        raise CommandRejected(
            f"submitted_on {submission.submitted_on} is in the future", field="submitted_on"
        )
    check_certificate_copy(submission.certified, submission.attachments)
    items = [requested.item for requested in submission.requested_items]
    if not items:
        raise CommandRejected("tick at least one 康复需求项目", field="requested_items")
    repeated = sorted({item for item in items if items.count(item) > 1})
    if repeated:
        raise CommandRejected(f"requested more than once: {', '.join(repeated)}", field="requested_items")
    for requested in submission.requested_items:
        _check_requested_item(requested, submission, context)


def check_certificate_copy(certified: bool, attachments: frozenset[str]) -> None:
    """A disabled child without a certificate 未持证残疾儿童 cannot attach a copy of one."""
    if not certified and DISABILITY_CERTIFICATE_COPY in attachments:
        raise CommandRejected(
            "the applicant holds no disability certificate 残疾人证 (certified is false), so there is no "
            "disability_certificate_copy to attach; set certified if the applicant holds one",
            field="attachments",
        )


def _check_requested_item(
    requested: RequestedItem, submission: Submission, context: SubmissionContext
) -> None:
    item, institution = requested.item, requested.institution_id
    if institution is None and item in ITEMS_NAMING_INSTITUTIONS:
        raise CommandRejected(
            f"{item}: tick or write the chosen service institution 服务机构", field="requested_items"
        )
    if institution is not None and item not in context.designated.get(institution, frozenset()):
        raise CommandRejected(
            f"{item}: {institution} is not a designated service institution 定点康复服务机构 for it",
            field="requested_items",
        )
    if requested.nutrition_allowance and submission.economic_status != SUBSISTENCE_ALLOWANCE:
        raise CommandRejected(
            "the nutrition allowance 低保人员营养费 is for persons of 低保 families only",
            field="requested_items",
        )
    category = SUPPORT_SERVICE_CATEGORIES.get(item)
    if category is not None and category not in submission.disability_categories:
        raise CommandRejected(
            f"{item} is a 支持性服务 for {category} disability, not among the applicant's categories",
            field="requested_items",
        )


# -- the referral behind it ------------------------------------------------------------------------
def backing_referral(submission: Submission, referrals: Sequence[Referral]) -> UUID | None:
    """The referral whose copied record backs the application (填表说明 2); None when several do together.

    Raises when the requested items are not all referred: the assessment comes first.
    """
    if submission.referral_id is not None:
        return _named_referral(submission, referrals)
    year = submission.application_year
    usable = [
        referral
        for referral in referrals
        if referral.person_id == submission.person_id
        and referral.to_service_institution
        and referral.year == year
    ]
    if not usable:
        raise StateConflict(
            f"no referral 转介 of this person for {year} has reached approval: "
            "the assessment 评估转介 must come first",
            field="requested_items",
        )
    referred = frozenset().union(*(referral.items for referral in usable))
    unreferred = sorted(submission.items - referred)
    if unreferred:
        raise StateConflict(
            f"no referral for {', '.join(unreferred)} in {year} has reached approval: "
            "the assessment 评估转介 must come first",
            field="requested_items",
        )
    covering = [referral for referral in usable if submission.items <= referral.items]
    return covering[-1].referral_id if covering else None


def _named_referral(submission: Submission, referrals: Sequence[Referral]) -> UUID:
    named = next(
        (
            referral
            for referral in referrals
            if referral.referral_id == submission.referral_id and referral.person_id == submission.person_id
        ),
        None,
    )
    if named is None:
        raise StateConflict(
            f"referral {submission.referral_id} of this person has not reached approval: "
            "the assessment 评估转介 must come first",
            field="referral_id",
        )
    if not named.to_service_institution:
        raise CommandRejected(
            f"referral {named.referral_id} escalates the case to the city-level assessment institution "
            f"{named.to_institution_id}; the referral issued after that assessment backs the application",
            field="referral_id",
        )
    if named.year != submission.application_year:
        raise CommandRejected(
            f"referral {named.referral_id} was issued in {named.year}, not in {submission.application_year}",
            field="referral_id",
        )
    unreferred = sorted(submission.items - named.items)
    if unreferred:
        raise StateConflict(
            f"referral {named.referral_id} does not refer {', '.join(unreferred)}", field="requested_items"
        )
    return named.referral_id


# -- the person's other applications ---------------------------------------------------------------
def check_other_applications(submission: Submission, others: Sequence[Application]) -> None:
    """One 支持性服务 per category per year; no item applied for twice while the first still holds it."""
    same_year = [
        other
        for other in others
        if other.submission is not None
        and other.submission.person_id == submission.person_id
        and other.submission.application_year == submission.application_year
    ]
    for other in same_year:
        _check_support_services(submission, other)
        _check_claimed_items(submission, other)


def _check_support_services(submission: Submission, other: Application) -> None:
    # Every application that reached a decision counts as "applied once"; a returned one never got that far.
    if other.submission is None or other.status == "returned":
        return
    for requested in submission.requested_items:
        category = SUPPORT_SERVICE_CATEGORIES.get(requested.item)
        earlier = [
            earlier.item
            for earlier in other.submission.requested_items
            if category is not None and SUPPORT_SERVICE_CATEGORIES.get(earlier.item) == category
        ]
        if earlier:
            raise StateConflict(
                "同一残疾证同一年度只能申请一次对应残疾类别的支持性服务: application "
                f"{other.application_id} ({other.status}) already applied for the {category} "
                f"support service ({earlier[0]}) in {submission.application_year}",
                field="requested_items",
            )


def _check_claimed_items(submission: Submission, other: Application) -> None:
    claimed = {requested.item: requested for requested in other.claimed_items()}
    for requested in submission.requested_items:
        earlier = claimed.get(requested.item)
        if earlier is None or _other_eye(requested, earlier):
            continue
        raise StateConflict(
            f"application {other.application_id} ({other.status}) already holds {requested.item} "
            f"for {submission.application_year}",
            field="requested_items",
        )


def _other_eye(requested: RequestedItem, earlier: RequestedItem) -> bool:
    """Cataract surgery on the other eye is a new request, not a repeat."""
    return requested.item == CATARACT_SURGERY and not set(requested.eyes) & set(earlier.eyes)
