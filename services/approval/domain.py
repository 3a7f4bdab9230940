"""The application aggregate 补助申请审批表 (附件2): submission, two reviews, the 区残联办 decision.

Rules run once, in the public command methods; ``_apply`` only assigns state because it reruns on
every load. Domain events are small frozen dataclasses; the handlers translate them to and from
the contracts. Rules that look beyond one form (referrals, other applications) are in
``services.approval.eligibility``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import date
from enum import StrEnum
from uuid import UUID

from kernel.domain.clock import cn_date
from kernel.domain.ids import new_aggregate_id
from kernel.domain.rejections import CommandRejected, StateConflict
from services.approval.catalogue import (
    COMMUNITY,
    STREET,
    required_attachments,
)
from services.approval.deadlines import add_working_days
from services.approval.eligibility import (
    backing_referral,
    check_certificate_copy,
    check_form,
    check_other_applications,
    check_serial_number,
)
from services.approval.events import (
    ApplicationApproved,
    ApplicationEvent,
    ApplicationRejected,
    ApplicationReviewed,
    ApplicationSubmitted,
    AttachmentsAdded,
    Decision,
    InstitutionChange,
    InstitutionChangeApproved,
    ItemApproval,
    ItemRejection,
    RequestedItem,
    Signatories,
    Submission,
    SubmissionContext,
)
from services.approval.labels import LEVEL_NAMES, ROLE_NAMES, attachments_text, status_text
from services.approval.quotas import QuotaUse, check_places
from services.approval.rules import (
    check_block,
    check_card_number,
    check_day,
    check_every_item_decided_once,
    check_institution_change,
    check_office_block,
    person_key,
    requested_of,
    resolve_approval,
)

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
        self.institution_changes: list[InstitutionChangeApproved] = []
        for event in history:
            self._apply(event)

    # -- commands ----------------------------------------------------------------------------------
    @staticmethod
    def submit(submission: Submission, context: SubmissionContext) -> list[ApplicationEvent]:
        """Accept a form handed in through the community; missing attachments leave it incomplete."""
        check_form(submission, context)
        backing = backing_referral(submission, context.referrals)
        check_other_applications(submission, context.other_applications)
        check_serial_number(submission, context)
        return [ApplicationSubmitted(new_aggregate_id(), replace(submission, referral_id=backing))]

    def add_attachments(
        self, attachments: frozenset[str], added_on: date, today: date
    ) -> list[ApplicationEvent]:
        """Complete an incomplete application with the documents that were missing."""
        form = self._form()
        if self.status is not Status.INCOMPLETE:
            raise StateConflict(
                f"申请当前为“{status_text(self.status)}”，不在补交资料阶段",
                field="attachments",
                code="approval.attachments.not_incomplete",
            )
        check_certificate_copy(form.certified, attachments)
        new = attachments - self.attachments
        if not new:
            raise CommandRejected(
                f"这些资料已附；仍缺：{attachments_text(self.missing_attachments)}",
                field="attachments",
                code="approval.attachments.already_attached",
            )
        check_day(
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
        check_block(level, signatories)
        self._check_segregation(signatories)
        check_day(reviewed_on, "reviewed_on", not_before=self._last_step_on(), today=today)
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
        places: QuotaUse | None = None,
        standards: Mapping[str, int] | None = None,
    ) -> list[ApplicationEvent]:
        """区残联办 decides every requested item exactly once and issues the service card 服务卡;
        a children's assistance item needs a free place of its area and year where the number is a cap
        (``places``); a fixed amount is at most the item's standard (``standards``, fen per item)."""
        form = self._form()
        self._check_decision(signatories, decided_on, today)
        check_every_item_decided_once(form, approvals, rejections)
        check_places(places, approvals)
        approved = tuple(
            resolve_approval(approval, requested_of(form, approval.item), designated, standards or {})
            for approval in approvals
        )
        check_card_number(service_card_number, form.application_year)
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
            raise CommandRejected("不予批准须写明理由", field="reason", code="approval.reason.required")
        return [ApplicationRejected(self._id(), reason, signatories, decided_on)]

    def change_institution(
        self, change: InstitutionChange, *, designated: Mapping[str, frozenset[str]], today: date
    ) -> list[ApplicationEvent]:
        """区残联办 moves an approved item to another designated institution (确需变更，须报区残联办核定)."""
        form = self._form()
        if not isinstance(self.decision, ApplicationApproved):
            raise StateConflict(
                f"只有已批准的申请才能变更服务机构；此申请为“{status_text(self.status)}”",
                field="item",
                code="approval.item.not_approved",
            )
        check_institution_change(change, self.institutions(), designated, form.application_year)
        check_office_block(change.signatories)
        self._check_segregation(change.signatories, may_repeat=DISTRICT_OFFICE)
        check_day(change.decided_on, "decided_on", not_before=self._last_decision_on(), today=today)
        return [
            InstitutionChangeApproved(
                self._id(),
                change.item,
                change.from_institution_id,
                change.to_institution_id,
                change.reason.strip(),
                change.signatories,
                change.decided_on,
            )
        ]

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

    @property
    def complete_on(self) -> date | None:
        """The day nothing required was missing any more: the review clock starts."""
        if self.submission is None or self.missing_attachments:
            return None
        return max(self.submission.submitted_on, self.attachments_added_on or self.submission.submitted_on)

    def decision_due_on(self, review_working_days: int | None) -> date | None:
        """Last day to decide a complete application: ``review_working_days`` working days after it became
        complete (the jurisdiction's deadline: Anyang's 5); None while incomplete or where none is set."""
        complete = self.complete_on
        if complete is None or review_working_days is None:
            return None
        return add_working_days(complete, review_working_days)

    def overdue_on(self, day: date, review_working_days: int | None) -> bool:
        """Still undecided (neither returned nor decided) on ``day``, after its decision was due."""
        due = self.decision_due_on(review_working_days)
        return self.pending and due is not None and day > due

    def claimed_items(self) -> list[RequestedItem]:
        """Requested items this application still holds: all while pending, the approved ones after."""
        form = self._form()
        if self.pending:
            return list(form.requested_items)
        if isinstance(self.decision, ApplicationApproved):
            approved = {approval.item for approval in self.decision.approved_items}
            return [requested for requested in form.requested_items if requested.item in approved]
        return []

    def institutions(self) -> dict[str, str | None]:
        """Institution fixed for each approved item now, after any approved change."""
        if not isinstance(self.decision, ApplicationApproved):
            return {}
        fixed = {approval.item: approval.institution_id for approval in self.decision.approved_items}
        for change in self.institution_changes:
            fixed[change.item] = change.to_institution_id
        return fixed

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
        elif isinstance(event, InstitutionChangeApproved):
            self.institution_changes.append(event)
        else:
            self.decision = event

    def _form(self) -> Submission:
        if self.submission is None:
            raise StateConflict(
                "申请尚未提交", field="application_id", code="approval.application.not_submitted"
            )
        return self.submission

    def _id(self) -> UUID:
        assert self.application_id is not None
        return self.application_id

    def _require_open(self) -> None:
        status = self.status
        if status is Status.RETURNED:
            returned = next(review for review in self.reviews.values() if not review.endorsed)
            raise StateConflict(
                f"申请已于 {cn_date(returned.reviewed_on)} 被{LEVEL_NAMES[returned.level]}退回"
                f"（{returned.opinion}）："
                "需重新申请",
                field="application_id",
                code="approval.application.returned",
            )
        if self.decision is not None:
            raise StateConflict(
                f"区残联办已审批此申请（{status_text(status)}）",
                field="application_id",
                code="approval.application.already_decided",
            )

    def _require_reviewable(self, level: str) -> None:
        self._require_open()
        if self.status is Status.INCOMPLETE:
            raise StateConflict(
                f"申请资料不全，缺：{attachments_text(self.missing_attachments)}；"
                "请先补交资料（POST /applications/{id}/attachments）再审核",
                field="attachments",
                code="approval.attachments.incomplete",
            )
        if level in self.reviews:
            done = self.reviews[level]
            raise StateConflict(
                f"{LEVEL_NAMES[level]}已于 {cn_date(done.reviewed_on)} 审核过此申请",
                field="level",
                code="approval.level.already_reviewed",
            )
        if level == STREET and COMMUNITY not in self.reviews:
            raise StateConflict(
                "须先由社区居委会审核，再由街道办事处审核", field="level", code="approval.level.out_of_order"
            )

    def _check_decision(self, signatories: Signatories, decided_on: date, today: date) -> None:
        self._require_open()
        if self.status is not Status.AWAITING_DECISION:
            raise StateConflict(
                f"区残联办须在社区和街道都同意后审批；此申请为“{status_text(self.status)}”",
                field="level",
                code="approval.level.out_of_order",
            )
        check_office_block(signatories)
        self._check_segregation(signatories)
        check_day(decided_on, "decided_on", not_before=self._last_step_on(), today=today)

    def _check_segregation(self, signatories: Signatories, may_repeat: str | None = None) -> None:
        """One person holds one role on an application, across all its levels (segregation of duties).

        ``may_repeat``: a level whose signers sign again in the same role (区残联办 on a change request).
        """
        taken = self._signatures()
        seen: dict[str, str] = {}
        for role, name in signatories.roles():
            key = person_key(name)
            if key in taken and taken[key] != (may_repeat, role):
                level, held = taken[key]
                raise CommandRejected(
                    f"{name}已作为{LEVEL_NAMES[level]}{ROLE_NAMES[held]}签署此申请："
                    "同一申请中一人不能担任两个职责（负责人、复核人、经办人分离）",
                    field=f"signatories.{role}",
                    code="approval.signatories.segregation_of_duties",
                )
            if key in seen:
                raise CommandRejected(
                    f"{name}不能同时作为{ROLE_NAMES[seen[key]]}和{ROLE_NAMES[role]}签字",
                    field=f"signatories.{role}",
                    code="approval.signatories.segregation_of_duties",
                )
            seen[key] = role

    def _signatures(self) -> dict[str, tuple[str, str]]:
        """(level, role) each person signed this application in."""
        blocks: list[tuple[str, Signatories]] = [(r.level, r.signatories) for r in self.reviews.values()]
        if self.decision is not None:
            blocks.append((DISTRICT_OFFICE, self.decision.signatories))
        blocks += [(DISTRICT_OFFICE, change.signatories) for change in self.institution_changes]
        return {person_key(name): (level, role) for level, block in blocks for role, name in block.roles()}

    def _last_decision_on(self) -> date:
        assert isinstance(self.decision, ApplicationApproved)
        return max([self.decision.approved_on, *(change.approved_on for change in self.institution_changes)])

    def _last_step_on(self) -> date:
        days = [self._form().submitted_on, *(review.reviewed_on for review in self.reviews.values())]
        if self.attachments_added_on is not None:
            days.append(self.attachments_added_on)
        return max(days)
