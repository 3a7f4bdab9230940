"""Event payloads, one module per producing agency."""

from rehab_contracts.events.approval import (
    ApplicationApproved,
    ApplicationAttachmentsAdded,
    ApplicationRejected,
    ApplicationReviewed,
    ApplicationSubmitted,
    InstitutionChangeApproved,
    ItemApproval,
    ItemRejection,
    RequestedItem,
    Signatories,
)
from rehab_contracts.events.assessment import AssessmentCompleted, ReferralIssued
from rehab_contracts.events.delivery import ServiceDelivered
from rehab_contracts.events.survey import Guardian, NeedSurveyed, PersonDetailsCorrected, PersonRegistered

__all__ = [
    "ApplicationApproved",
    "ApplicationAttachmentsAdded",
    "ApplicationRejected",
    "ApplicationReviewed",
    "ApplicationSubmitted",
    "AssessmentCompleted",
    "Guardian",
    "InstitutionChangeApproved",
    "ItemApproval",
    "ItemRejection",
    "NeedSurveyed",
    "PersonDetailsCorrected",
    "PersonRegistered",
    "ReferralIssued",
    "RequestedItem",
    "ServiceDelivered",
    "Signatories",
]
