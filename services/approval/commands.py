"""Translators at the edge: the approval service's HTTP bodies -> the commands its domain takes.

The API reads a body once into a domain command; a pending sign-off keeps the body as proposed
(JSON) and reads it back into the same command when its last signatory confirms (``block_command``).
"""

from __future__ import annotations

from services.approval import schemas
from services.approval.events import (
    Approval,
    InstitutionChange,
    ItemApproval,
    ItemRejection,
    Rejection,
    Review,
    Submission,
)
from services.approval.sign_off.domain import (
    COMMUNITY_BLOCK,
    DECISION_BLOCK,
    INSTITUTION_CHANGE_BLOCK,
    STREET_BLOCK,
)
from services.approval.translation import requested_item, signatories

BlockBody = schemas.ReviewApplication | schemas.DecideApplication | schemas.ChangeInstitution
"""The body of a block that a sign-off may keep waiting for its signatories."""

BlockCommand = Review | Approval | Rejection | InstitutionChange
"""A sign-off block's domain command: a review, the decision, or a change of institution."""


def submission(body: schemas.SubmitApplication) -> Submission:
    return Submission(
        person_id=body.person_id,
        application_year=body.application_year,
        street=body.street,
        serial_number=body.serial_number,
        requested_items=tuple(requested_item(requested) for requested in body.requested_items),
        attachments=frozenset(str(attachment) for attachment in body.attachments),
        economic_status=str(body.economic_status),
        disability_categories=frozenset(str(category) for category in body.disability_categories),
        applicant_role=str(body.applicant_role),
        submitted_on=body.submitted_on,
        referral_id=body.referral_id,
        certified=body.certified,
    )


def attachments(body: schemas.AddAttachments) -> frozenset[str]:
    return frozenset(str(attachment) for attachment in body.attachments)


def review(body: schemas.ReviewApplication) -> Review:
    return Review(
        str(body.level), body.endorsed, body.opinion, signatories(body.signatories), body.reviewed_on
    )


def decision(body: schemas.DecideApplication) -> Approval | Rejection:
    """The 残联办意见: an approval item by item, or the rejection of the whole application."""
    if body.outcome == "approved":
        return Approval(
            tuple(
                ItemApproval(str(d.item), str(d.subsidy_mode), d.institution_id, d.amount_fen)
                for d in body.approved_items
            ),
            tuple(ItemRejection(str(r.item), r.reason) for r in body.rejected_items),
            signatories(body.signatories),
            body.decided_on,
        )
    return Rejection(body.reason or "", signatories(body.signatories), body.decided_on)


def institution_change(body: schemas.ChangeInstitution) -> InstitutionChange:
    return InstitutionChange(
        str(body.item),
        body.from_institution_id,
        body.to_institution_id,
        body.reason,
        signatories(body.signatories),
        body.decided_on,
    )


def block_command(body: BlockBody) -> BlockCommand:
    """The domain command of a block's body."""
    if isinstance(body, schemas.ReviewApplication):
        return review(body)
    if isinstance(body, schemas.ChangeInstitution):
        return institution_change(body)
    return decision(body)


_BODIES: dict[str, type[BlockBody]] = {
    COMMUNITY_BLOCK: schemas.ReviewApplication,
    STREET_BLOCK: schemas.ReviewApplication,
    DECISION_BLOCK: schemas.DecideApplication,
    INSTITUTION_CHANGE_BLOCK: schemas.ChangeInstitution,
}


def kept_block_command(block: str, text: str) -> BlockCommand:
    """The domain command of a block's body as a pending sign-off kept it (JSON)."""
    return block_command(_BODIES[block].model_validate_json(text))
