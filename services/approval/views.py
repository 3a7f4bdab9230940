"""Answers of the approval API: the 审批表 as it stands, built from the application aggregate."""

from __future__ import annotations

from datetime import date

from rehab_contracts import ItemRejection, RequestedItem, Signatories

from services.approval.catalogue import COMMUNITY, STREET
from services.approval.deadlines import working_days_between
from services.approval.domain import Application
from services.approval.events import ApplicationApproved, ApplicationReviewed, InstitutionChangeApproved
from services.approval.schemas import (
    ApplicationAccepted,
    ApplicationView,
    ApprovedItemView,
    DecisionView,
    InstitutionChangeView,
    OverdueView,
    ReviewView,
)
from services.approval.sign_off.domain import Proposal
from services.approval.sign_off.views import sign_off_view


def accepted_view(application: Application) -> ApplicationAccepted:
    assert application.application_id is not None
    card = (
        application.decision.service_card_number
        if isinstance(application.decision, ApplicationApproved)
        else None
    )
    return ApplicationAccepted(
        application_id=application.application_id,
        status=application.status,
        missing_attachments=list(application.missing_attachments),  # type: ignore[arg-type]
        service_card_number=card,
    )


def application_view(
    application: Application, review_working_days: int | None, pending: list[Proposal] | None = None
) -> ApplicationView:
    form = application.submission
    assert form is not None and application.application_id is not None
    approved = application.decision if isinstance(application.decision, ApplicationApproved) else None
    return ApplicationView(
        application_id=application.application_id,
        person_id=form.person_id,
        application_year=form.application_year,
        street=form.street,
        serial_number=form.serial_number,
        status=application.status,
        requested_items=[RequestedItem.model_validate(vars(requested)) for requested in form.requested_items],
        attachments=sorted(application.attachments),  # type: ignore[arg-type]
        missing_attachments=list(application.missing_attachments),  # type: ignore[arg-type]
        economic_status=form.economic_status,  # type: ignore[arg-type]
        disability_categories=sorted(form.disability_categories),  # type: ignore[arg-type]
        certified=form.certified,
        applicant_role=form.applicant_role,  # type: ignore[arg-type]
        referral_id=form.referral_id,
        submitted_on=form.submitted_on,
        attachments_added_on=application.attachments_added_on,
        community_review=_review_view(application.reviews.get(COMMUNITY)),
        street_review=_review_view(application.reviews.get(STREET)),
        decision=_decision_view(application),
        service_card_number=approved.service_card_number if approved else None,
        complete_on=application.complete_on,
        decision_due_on=application.decision_due_on(review_working_days),
        institutions=application.institutions(),
        institution_changes=[change_view(change) for change in application.institution_changes],
        pending_sign_offs=[sign_off_view(proposal, application) for proposal in pending or []],
    )


def overdue_view(application: Application, day: date, review_working_days: int | None) -> OverdueView:
    form = application.submission
    due = application.decision_due_on(review_working_days)
    assert form is not None and application.application_id is not None and due is not None
    assert application.complete_on is not None
    return OverdueView(
        application_id=application.application_id,
        person_id=form.person_id,
        street=form.street,
        serial_number=form.serial_number,
        status=application.status,
        complete_on=application.complete_on,
        decision_due_on=due,
        working_days_overdue=working_days_between(due, day),
    )


def change_view(change: InstitutionChangeApproved) -> InstitutionChangeView:
    return InstitutionChangeView.model_validate(
        {**vars(change), "signatories": Signatories.model_validate(vars(change.signatories))}
    )


def _review_view(review: ApplicationReviewed | None) -> ReviewView | None:
    if review is None:
        return None
    return ReviewView(
        endorsed=review.endorsed,
        opinion=review.opinion,
        signatories=Signatories.model_validate(vars(review.signatories)),
        reviewed_on=review.reviewed_on,
    )


def _decision_view(application: Application) -> DecisionView | None:
    decision = application.decision
    if decision is None:
        return None
    block = Signatories.model_validate(vars(decision.signatories))
    if isinstance(decision, ApplicationApproved):
        return DecisionView(
            outcome="approved",
            approved_items=[
                ApprovedItemView.model_validate(vars(approval)) for approval in decision.approved_items
            ],
            rejected_items=[
                ItemRejection.model_validate(vars(rejection)) for rejection in decision.rejected_items
            ],
            signatories=block,
            decided_on=decision.approved_on,
        )
    return DecisionView(
        outcome="rejected", reason=decision.reason, signatories=block, decided_on=decision.rejected_on
    )
