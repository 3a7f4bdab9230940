"""Rules a new application must pass: its own fields, its referral, the person's other applications."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING
from uuid import UUID

from kernel.domain.clock import cn_date
from kernel.domain.rejections import CommandRejected, StateConflict
from services.approval.catalogue import (
    CATARACT_SURGERY,
    DISABILITY_CERTIFICATE_COPY,
    ITEMS_NAMING_INSTITUTIONS,
    SUBSISTENCE_ALLOWANCE,
    SUPPORT_SERVICE_CATEGORIES,
)
from services.approval.labels import CATEGORY_NAMES, area_name, categories_text, items_text, status_text

if TYPE_CHECKING:
    from services.approval.domain import Application
    from services.approval.events import Referral, RequestedItem, Submission, SubmissionContext


# -- the form itself -------------------------------------------------------------------------------
def check_form(submission: Submission, context: SubmissionContext) -> None:
    if submission.street not in context.streets:
        raise CommandRejected(
            f"“{submission.street}”不是本辖区的街道；可选：{'、'.join(sorted(context.streets))}",
            field="street",
            code="approval.street.outside_jurisdiction",
        )
    registered = registered_area(context.referrals)
    if registered is not None and submission.street != registered[0]:
        raise CommandRejected(
            f"该残疾人登记在{registered[0]}街道，申请表“街道”填的是{submission.street}："
            f"只能由其登记所在街道（社区）递交申请",
            field="street",
            code="approval.street.not_registered",
        )
    check_categories(submission, context.referrals)
    if submission.submitted_on.year != submission.application_year:
        raise CommandRejected(
            f"申请日期 {cn_date(submission.submitted_on)} 不在申请年度 {submission.application_year} 内",
            field="submitted_on",
            code="approval.submitted_on.outside_year",
        )
    if submission.submitted_on > context.today:
        raise CommandRejected(
            f"申请日期 {cn_date(submission.submitted_on)} 晚于今天",
            field="submitted_on",
            code="approval.submitted_on.future",
        )
    check_certificate_copy(submission.certified, submission.attachments)
    items = [requested.item for requested in submission.requested_items]
    if not items:
        raise CommandRejected(
            "请至少勾选一个康复需求项目", field="requested_items", code="approval.requested_items.required"
        )
    repeated = sorted({item for item in items if items.count(item) > 1})
    if repeated:
        raise CommandRejected(
            f"重复申请了：{items_text(repeated)}",
            field="requested_items",
            code="approval.requested_items.repeated",
        )
    for requested in submission.requested_items:
        _check_requested_item(requested, submission, context)


def check_serial_number(submission: Submission, context: SubmissionContext) -> None:
    """Checked after the person's other applications: the same form handed in twice is told that its
    items are held (409), rather than that its number is."""
    if context.serial_number_holder is not None:
        raise serial_number_taken(submission)


def serial_number_taken(form: Submission) -> CommandRejected:
    """附件2's 序号 is one form's in its street and year (the heading: 年度, 街道, 序号). The message names
    the area as clerks say it and no id: the form holding the number is the one listed under that street,
    year and 序号 (GET /applications?year=&street=), which the console links to."""
    return CommandRejected(
        f"序号“{form.serial_number}”已用于{area_name(form.street)}{form.application_year}年度的另一份申请："
        "同一街道同一年度的申请审批表序号不能重复，请核对本表的序号",
        field="serial_number",
        code="approval.serial_number.taken",
    )


def check_certificate_copy(certified: bool, attachments: frozenset[str]) -> None:
    """A disabled child without a certificate 未持证残疾儿童 cannot attach a copy of one."""
    if not certified and DISABILITY_CERTIFICATE_COPY in attachments:
        raise CommandRejected(
            "申请人未持残疾人证（certified 为 false），不能附残疾人证复印件；如已持证，请填写 certified",
            field="attachments",
            code="approval.attachments.certificate_copy_without_certificate",
        )


def _check_requested_item(
    requested: RequestedItem, submission: Submission, context: SubmissionContext
) -> None:
    item, institution = requested.item, requested.institution_id
    if institution is None and item in ITEMS_NAMING_INSTITUTIONS:
        raise CommandRejected(
            f"{items_text([item])}：请勾选或填写所选的服务机构",
            field="requested_items",
            code="approval.requested_items.institution_required",
        )
    if institution is not None and item not in context.designated.get(institution, frozenset()):
        raise CommandRejected(
            f"{items_text([item])}：{institution} 不是该项目的定点康复服务机构",
            field="requested_items",
            code="approval.requested_items.institution_not_designated",
        )
    if requested.nutrition_allowance and submission.economic_status != SUBSISTENCE_ALLOWANCE:
        raise CommandRejected(
            "低保人员营养费只适用于低保家庭的申请人",
            field="requested_items",
            code="approval.requested_items.nutrition_allowance_not_subsistence",
        )
    category = SUPPORT_SERVICE_CATEGORIES.get(item)
    if category is not None and category not in submission.disability_categories:
        raise CommandRejected(
            f"{items_text([item])}是{CATEGORY_NAMES[category]}残疾人的支持性服务，申请人不是{CATEGORY_NAMES[category]}残疾",
            field="requested_items",
            code="approval.requested_items.category_mismatch",
        )


# -- the referral behind it ------------------------------------------------------------------------
def check_categories(submission: Submission, referrals: Sequence[Referral]) -> None:
    """The form's 残疾类别 are the person's, as the needs survey of the year recorded them (its latest
    referral carrying them says); not checked when no referral of that year carries them."""
    recorded = [
        referral.disability_categories
        for referral in referrals
        if referral.year == submission.application_year and referral.disability_categories
    ]
    if not recorded or submission.disability_categories == recorded[-1]:
        return
    registered = categories_text(recorded[-1])
    ticked = categories_text(submission.disability_categories) or "（未勾选）"
    raise CommandRejected(
        f"申请表勾选的残疾类别（{ticked}）与该残疾人{submission.application_year}年康复需求调查登记的"
        f"残疾类别（{registered}）不一致：请按登记的类别勾选（多重残疾勾选全部类别）；"
        "如登记有误，请街道先更正登记并重新调查",
        field="disability_categories",
        code="approval.disability_categories.not_registered",
    )


def registered_area(referrals: Sequence[Referral]) -> tuple[str, str | None] | None:
    """Street and community the person is registered in, as their latest referral carrying it says;
    None when no referral of theirs does (all issued before referrals carried it)."""
    placed = [referral for referral in referrals if referral.street is not None]
    if not placed:
        return None
    latest = placed[-1]  # in the order they were issued
    assert latest.street is not None
    return latest.street, latest.community


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
            f"审批服务没有此人 {year} 年的评估转介（申请的项目须来自同一年度的转介）："
            "须先经评估机构评估并转介",
            field="requested_items",
            code="approval.requested_items.no_referral",
        )
    referred = frozenset().union(*(referral.items for referral in usable))
    unreferred = sorted(submission.items - referred)
    if unreferred:
        raise StateConflict(
            f"{items_text(unreferred)}没有 {year} 年的评估转介：申请的项目须来自同一年度的转介",
            field="requested_items",
            code="approval.requested_items.not_referred",
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
            f"审批服务尚未收到此人的转介 {submission.referral_id}：须先经评估机构评估并转介",
            field="referral_id",
            code="approval.referral_id.not_received",
        )
    if not named.to_service_institution:
        raise CommandRejected(
            f"转介 {named.referral_id} 是转至市级评估机构 {named.to_institution_id} 复评；"
            "申请应依据复评后开出的转介",
            field="referral_id",
            code="approval.referral_id.escalation",
        )
    if named.year != submission.application_year:
        raise CommandRejected(
            f"转介 {named.referral_id} 是 {named.year} 年开出的，"
            f"不是申请年度 {submission.application_year} 年",
            field="referral_id",
            code="approval.referral_id.other_year",
        )
    unreferred = sorted(submission.items - named.items)
    if unreferred:
        raise StateConflict(
            f"转介 {named.referral_id} 没有转介{items_text(unreferred)}",
            field="requested_items",
            code="approval.requested_items.not_referred",
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
        if category is None:
            continue
        earlier = [
            earlier.item
            for earlier in other.submission.requested_items
            if SUPPORT_SERVICE_CATEGORIES.get(earlier.item) == category
        ]
        if earlier:
            raise StateConflict(
                "同一残疾证同一年度只能申请一次对应残疾类别的支持性服务：申请 "
                f"{other.application_id}（{status_text(other.status)}）已于 {submission.application_year} 年"
                f"申请了{CATEGORY_NAMES[category]}残疾的支持性服务（{items_text(earlier[:1])}）",
                field="requested_items",
                code="approval.requested_items.support_service_once_per_year",
            )


def _check_claimed_items(submission: Submission, other: Application) -> None:
    claimed = {requested.item: requested for requested in other.claimed_items()}
    for requested in submission.requested_items:
        earlier = claimed.get(requested.item)
        if earlier is None or _other_eye(requested, earlier):
            continue
        raise StateConflict(
            f"申请 {other.application_id}（{status_text(other.status)}）"
            f"已有 {submission.application_year} 年的"
            f"{items_text([requested.item])}",
            field="requested_items",
            code="approval.requested_items.already_held",
        )


def _other_eye(requested: RequestedItem, earlier: RequestedItem) -> bool:
    """Cataract surgery on the other eye is a new request, not a repeat."""
    return requested.item == CATARACT_SURGERY and not set(requested.eyes) & set(earlier.eyes)
