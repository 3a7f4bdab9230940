"""Event handlers: each consumed event that can make a payment due is fed to the live ledger.

Every event on the four streams is archived by the kernel's inbox; the types below also post.
"""

from __future__ import annotations

from collections.abc import Callable

from rehab_contracts import EventEnvelope
from rehab_contracts.events import (
    ApplicationApproved,
    ApplicationRejected,
    AssessmentCompleted,
    InstitutionChangeApproved,
    NeedSurveyed,
    ServiceDelivered,
)
from rehab_contracts.streams import APPROVAL_STREAM, ASSESSMENT_STREAM, DELIVERY_STREAM, SURVEY_STREAM

from kernel.messaging.consumer import Subscription
from kernel.store.store import UnitOfWork
from services.settlement.ledger import LiveLedger
from services.settlement.translation import (
    application_refused,
    institution_changed,
    items_approved,
    person_assessed,
    person_surveyed,
    service_recorded,
)


class SettlementHandlers:
    """The subscribers of settlement, one per consumed event type that can make a payment due."""

    def __init__(self, ledger: LiveLedger) -> None:
        self.ledger = ledger

    def on_need_surveyed(self, unit: UnitOfWork, envelope: EventEnvelope, payload: NeedSurveyed) -> None:
        self.ledger.record(unit, person_surveyed(envelope, payload))

    def on_assessment_completed(
        self, unit: UnitOfWork, envelope: EventEnvelope, payload: AssessmentCompleted
    ) -> None:
        self.ledger.record(unit, person_assessed(envelope, payload))

    def on_application_approved(
        self, unit: UnitOfWork, envelope: EventEnvelope, payload: ApplicationApproved
    ) -> None:
        self.ledger.record(unit, items_approved(envelope, payload))

    def on_application_rejected(
        self, unit: UnitOfWork, envelope: EventEnvelope, payload: ApplicationRejected
    ) -> None:
        self.ledger.record(unit, application_refused(envelope, payload))

    def on_service_delivered(
        self, unit: UnitOfWork, envelope: EventEnvelope, payload: ServiceDelivered
    ) -> None:
        self.ledger.record(unit, service_recorded(envelope, payload))

    def on_institution_change_approved(
        self, unit: UnitOfWork, envelope: EventEnvelope, payload: InstitutionChangeApproved
    ) -> None:
        self.ledger.record(unit, institution_changed(envelope, payload))

    def subscriptions(self) -> list[Subscription]:
        """The four producer streams settlement consumes, with the handlers of each."""
        routes: dict[str, dict[str, Callable[..., None]]] = {
            SURVEY_STREAM: {NeedSurveyed.event_type: self.on_need_surveyed},
            ASSESSMENT_STREAM: {AssessmentCompleted.event_type: self.on_assessment_completed},
            APPROVAL_STREAM: {
                ApplicationApproved.event_type: self.on_application_approved,
                ApplicationRejected.event_type: self.on_application_rejected,
                InstitutionChangeApproved.event_type: self.on_institution_change_approved,
            },
            DELIVERY_STREAM: {ServiceDelivered.event_type: self.on_service_delivered},
        }
        return [Subscription(stream, handlers) for stream, handlers in routes.items()]
