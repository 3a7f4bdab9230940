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
from rehab_contracts.events.survey_v2 import (
    PersonalDetails,
    PersonalDetailsCorrection,
    PersonDetailsCorrectedV2,
    PersonForgotten,
    PersonRegisteredV2,
)

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
    "PersonDetailsCorrectedV2",
    "PersonForgotten",
    "PersonRegistered",
    "PersonRegisteredV2",
    "PersonalDetails",
    "PersonalDetailsCorrection",
    "ReferralIssued",
    "RequestedItem",
    "ServiceDelivered",
    "Signatories",
]
