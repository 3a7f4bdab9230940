"""The application aggregate 补助申请审批表 (附件2): submission, two reviews, the 区残联办 decision.

Rules run once, in the public command methods; ``_apply`` only assigns state because it reruns on
every load. Domain events are small frozen dataclasses; the handlers translate them to and from
the contracts. Rules that look beyond one form (referrals, other applications) are in
``services.approval.eligibility``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import date
from enum import StrEnum
from uuid import UUID

from services.approval.catalogue import (
    COMMUNITY,
    FIXED_AMOUNT,
    FREE,
    LEVEL_LABELS,
    ROLE_LABELS,
    SELF_PURCHASED_DEVICE_SUBSIDY,
    STREET,
    required_attachments,
)
from services.approval.eligibility import (
    backing_referral,
    check_certificate_copy,
    check_form,
    check_other_applications,
)
from services.approval.events import (
    ApplicationApproved,
    ApplicationEvent,
    ApplicationRejected,
    ApplicationReviewed,
    ApplicationSubmitted,
    AttachmentsAdded,
    Decision,
    ItemApproval,
    ItemRejection,
    RequestedItem,
    Signatories,
    Submission,
    SubmissionContext,
)
from services.eventing.ids import new_aggregate_id
from services.eventing.rejections import CommandRejected, StateConflict

DISTRICT_OFFICE = "district_office"
"""The deciding level 区残联办, as it appears in signature labels."""


class Status(StrEnum):
    """Where an application stands on the form 审批表."""

    INCOMPLETE = "incomplete"
    """Attachments 申请需附资料 are missing: no review until they are added."""
    AWAITING_COMMUNITY_REVIEW = "awaiting_community_review"
    AWAITING_STREET_REVIEW = "awaiting_street_review"
    AWAITING_DECISION = "awaiting_decision"
    """Both levels endorsed it; 区残联办 decides."""
    RETURNED = "returned"
    """The community or the street did not endorse it: the application ends there."""
    APPROVED = "approved"
    REJECTED = "rejected"


SERVICE_CARD_NUMBER = re.compile(r"^LJ(?P<year>[0-9]{4})-[0-9]{6}$")


# -- the aggregate ---------------------------------------------------------------------------------
class Application:
    """One 精准康复服务补助申请审批表, built from its history on every load."""

    def __init__(self, history: Iterable[ApplicationEvent] = ()) -> None:
        self.application_id: UUID | None = None
        self.submission: Submission | None = None
        self.attachments: frozenset[str] = frozenset()
        self.attachments_added_on: date | None = None
        self.reviews: dict[str, ApplicationReviewed] = {}
        self.decision: Decision | None = None
        for event in history:
            self._apply(event)

    # -- commands ----------------------------------------------------------------------------------
    @staticmethod
    def submit(submission: Submission, context: SubmissionContext) -> list[ApplicationEvent]:
        """Accept a form handed in through the community; missing attachments leave it incomplete."""
        check_form(submission, context)
        backing = backing_referral(submission, context.referrals)
        check_other_applications(submission, context.other_applications)
        return [ApplicationSubmitted(new_aggregate_id(), replace(submission, referral_id=backing))]

    def add_attachments(
        self, attachments: frozenset[str], added_on: date, today: date
    ) -> list[ApplicationEvent]:
        """Complete an incomplete application with the documents that were missing."""
        form = self._form()
        if self.status is not Status.INCOMPLETE:
            raise StateConflict(
                f"the application is {self.status}, not waiting for attachments", field="attachments"
            )
        check_certificate_copy(form.certified, attachments)
        new = attachments - self.attachments
        if not new:
            raise CommandRejected(
                f"these are attached already; still missing: {', '.join(self.missing_attachments)}",
                field="attachments",
            )
        _check_day(
            added_on, "added_on", not_before=self.attachments_added_on or form.submitted_on, today=today
        )
        return [AttachmentsAdded(self._id(), frozenset(new), added_on)]

    def review(
        self,
        level: str,
        endorsed: bool,
        opinion: str,
        signatories: Signatories,
        reviewed_on: date,
        today: date,
    ) -> list[ApplicationEvent]:
        """The community 居委会, then the street 街道办事处, give their opinion and sign."""
        self._require_reviewable(level)
        _check_block(level, signatories)
        self._check_segregation(signatories)
        _check_day(reviewed_on, "reviewed_on", not_before=self._last_step_on(), today=today)
        return [ApplicationReviewed(self._id(), level, endorsed, opinion, signatories, reviewed_on)]

    def approve(
        self,
        approvals: Sequence[ItemApproval],
        rejections: Sequence[ItemRejection],
        signatories: Signatories,
        decided_on: date,
        *,
        service_card_number: str,
        designated: Mapping[str, frozenset[str]],
        today: date,
    ) -> list[ApplicationEvent]:
        """区残联办 decides every requested item exactly once and issues the service card 服务卡."""
        form = self._form()
        self._check_decision(signatories, decided_on, today)
        _check_every_item_decided_once(form, approvals, rejections)
        approved = tuple(
            _resolve_approval(approval, _requested(form, approval.item), designated) for approval in approvals
        )
        _check_card_number(service_card_number, form.application_year)
        return [
            ApplicationApproved(
                self._id(), service_card_number, approved, tuple(rejections), signatories, decided_on
            )
        ]

    def reject(
        self, reason: str, signatories: Signatories, decided_on: date, today: date
    ) -> list[ApplicationEvent]:
        """区残联办 refuses the whole application."""
        self._check_decision(signatories, decided_on, today)
        if not reason.strip():
            raise CommandRejected("a rejection must give its reason", field="reason")
        return [ApplicationRejected(self._id(), reason, signatories, decided_on)]

    # -- state -------------------------------------------------------------------------------------
    @property
    def exists(self) -> bool:
        return self.submission is not None

    @property
    def status(self) -> Status:
        if isinstance(self.decision, ApplicationApproved):
            return Status.APPROVED
        if isinstance(self.decision, ApplicationRejected):
            return Status.REJECTED
        if any(not review.endorsed for review in self.reviews.values()):
            return Status.RETURNED
        if self.missing_attachments:
            return Status.INCOMPLETE
        if COMMUNITY not in self.reviews:
            return Status.AWAITING_COMMUNITY_REVIEW
        if STREET not in self.reviews:
            return Status.AWAITING_STREET_REVIEW
        return Status.AWAITING_DECISION

    @property
    def missing_attachments(self) -> tuple[str, ...]:
        if self.submission is None:
            return ()
        return tuple(name for name in required_attachments(self.submission) if name not in self.attachments)

    @property
    def pending(self) -> bool:
        """Still on its way: neither returned nor decided."""
        return self.status not in (Status.RETURNED, Status.APPROVED, Status.REJECTED)

    def claimed_items(self) -> list[RequestedItem]:
        """Requested items this application still holds: all while pending, the approved ones after."""
        form = self._form()
        if self.pending:
            return list(form.requested_items)
        if isinstance(self.decision, ApplicationApproved):
            approved = {approval.item for approval in self.decision.approved_items}
            return [requested for requested in form.requested_items if requested.item in approved]
        return []

    # -- internals ---------------------------------------------------------------------------------
    def _apply(self, event: ApplicationEvent) -> None:
        if isinstance(event, ApplicationSubmitted):
            self.application_id = event.application_id
            self.submission = event.submission
            self.attachments = event.submission.attachments
        elif isinstance(event, AttachmentsAdded):
            self.attachments = self.attachments | event.attachments
            self.attachments_added_on = event.added_on
        elif isinstance(event, ApplicationReviewed):
            self.reviews[event.level] = event
        else:
            self.decision = event

    def _form(self) -> Submission:
        if self.submission is None:
            raise StateConflict("the application has not been submitted")
        return self.submission

    def _id(self) -> UUID:
        assert self.application_id is not None
        return self.application_id

    def _require_open(self) -> None:
        status = self.status
        if status is Status.RETURNED:
            returned = next(review for review in self.reviews.values() if not review.endorsed)
            raise StateConflict(
                f"the application was returned by the {returned.level} on {returned.reviewed_on}: "
                f"{returned.opinion}; a new application is needed"
            )
        if self.decision is not None:
            raise StateConflict(f"the application is already {status} by 区残联办")

    def _require_reviewable(self, level: str) -> None:
        self._require_open()
        if self.status is Status.INCOMPLETE:
            raise StateConflict(
                f"the application is incomplete: {', '.join(self.missing_attachments)} missing; "
                "add them (POST /applications/{id}/attachments) before it can be reviewed",
                field="level",
            )
        if level in self.reviews:
            done = self.reviews[level]
            raise StateConflict(
                f"the {level} already reviewed this application on {done.reviewed_on}", field="level"
            )
        if level == STREET and COMMUNITY not in self.reviews:
            raise StateConflict("the community 居委会 reviews before the street 街道办事处", field="level")

    def _check_decision(self, signatories: Signatories, decided_on: date, today: date) -> None:
        self._require_open()
        if self.status is not Status.AWAITING_DECISION:
            raise StateConflict(
                f"区残联办 decides only after the community and the street endorsed the application; "
                f"it is {self.status}"
            )
        if signatories.reviewer is None:
            raise CommandRejected(
                "the 区残联办 block is signed by a 复核人 too", field="signatories.reviewer"
            )
        self._check_segregation(signatories)
        _check_day(decided_on, "decided_on", not_before=self._last_step_on(), today=today)

    def _check_segregation(self, signatories: Signatories) -> None:
        """One person holds one role on an application, across all its levels (segregation of duties)."""
        taken = self._signatures()
        seen: dict[str, str] = {}
        for role, name in signatories.roles():
            key = _person_key(name)
            if key in taken:
                raise CommandRejected(
                    f"{name} already signed this application as {taken[key]}; "
                    "one person cannot hold two roles on the same application",
                    field=f"signatories.{role}",
                )
            if key in seen:
                raise CommandRejected(
                    f"{name} cannot sign as both {ROLE_LABELS[seen[key]]} and {ROLE_LABELS[role]}",
                    field=f"signatories.{role}",
                )
            seen[key] = role

    def _signatures(self) -> dict[str, str]:
        blocks: list[tuple[str, Signatories]] = [(r.level, r.signatories) for r in self.reviews.values()]
        if self.decision is not None:
            blocks.append((DISTRICT_OFFICE, self.decision.signatories))
        return {
            _person_key(name): f"{LEVEL_LABELS[level]} {ROLE_LABELS[role]}"
            for level, block in blocks
            for role, name in block.roles()
        }

    def _last_step_on(self) -> date:
        days = [self._form().submitted_on, *(review.reviewed_on for review in self.reviews.values())]
        if self.attachments_added_on is not None:
            days.append(self.attachments_added_on)
        return max(days)


# -- rules on one form -----------------------------------------------------------------------------
def _check_block(level: str, signatories: Signatories) -> None:
    if level == COMMUNITY and signatories.reviewer is not None:
        raise CommandRejected(
            "the community block 社区意见 is signed by 负责人 and 经办人 only; it has no 复核人",
            field="signatories.reviewer",
        )
    if level == STREET and signatories.reviewer is None:
        raise CommandRejected("the street block 街道意见 needs a 复核人", field="signatories.reviewer")


def _check_day(day: date, field: str, *, not_before: date, today: date) -> None:
    if day < not_before:
        raise CommandRejected(
            f"{field} {day} is before the previous step of the application ({not_before})", field=field
        )
    if day > today:
        raise CommandRejected(f"{field} {day} is in the future", field=field)


def _check_every_item_decided_once(
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


def _requested(form: Submission, item: str) -> RequestedItem:
    return next(requested for requested in form.requested_items if requested.item == item)


def _resolve_approval(
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


def _check_card_number(number: str, year: int) -> None:
    match = SERVICE_CARD_NUMBER.match(number)
    if match is None or int(match["year"]) != year:
        raise ValueError(f"service card number {number!r} is not of the form LJ{year}-NNNNNN")


def _person_key(name: str) -> str:
    return "".join(name.split())
