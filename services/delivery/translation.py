"""Translators at the edge: delivery and approval contract payloads <-> delivery domain values."""

from __future__ import annotations

from rehab_contracts import ApplicationApproved, EventPayload
from rehab_contracts import ServiceDelivered as ServiceDeliveredContract
from rehab_contracts.vocabulary import CatalogueItem, SignerRole

from services.delivery.domain import Entitlement, ServiceDelivered, ServiceForm


def domain_event(payload: EventPayload) -> ServiceDelivered:
    if not isinstance(payload, ServiceDeliveredContract):
        raise ValueError(f"{payload.event_type} is not an event of the service record aggregate")
    form = ServiceForm(
        application_id=payload.application_id,
        person_id=payload.person_id,
        institution_id=payload.institution_id,
        item=str(payload.item),
        frequency=payload.frequency,
        period_start=payload.period_start,
        period_end=payload.period_end,
        staff=payload.staff,
        charge_fen=payload.charge_fen,
        insurance_paid_fen=payload.insurance_paid_fen,
        signed_by=str(payload.signed_by),
        signed_on=payload.signed_on,
    )
    return ServiceDelivered(payload.delivery_id, payload.service_year, form)


def contract_payload(event: ServiceDelivered) -> ServiceDeliveredContract:
    form = event.form
    assert form.signed_by is not None and form.signed_on is not None, "the domain records signed forms only"
    return ServiceDeliveredContract(
        delivery_id=event.delivery_id,
        application_id=form.application_id,
        person_id=form.person_id,
        service_year=event.service_year,
        institution_id=form.institution_id,
        item=CatalogueItem(form.item),
        frequency=form.frequency,
        period_start=form.period_start,
        period_end=form.period_end,
        staff=form.staff,
        signed_by=SignerRole(form.signed_by),
        signed_on=form.signed_on,
        charge_fen=form.charge_fen,
        insurance_paid_fen=form.insurance_paid_fen,
    )


def entitlements(payload: ApplicationApproved) -> list[Entitlement]:
    """The approved items of an approval, one entitlement each."""
    return [
        Entitlement(
            application_id=payload.application_id,
            person_id=payload.person_id,
            year=payload.application_year,
            service_card_number=payload.service_card_number,
            item=str(approved.item),
            institution_id=approved.institution_id,
            subsidy_mode=str(approved.subsidy_mode),
            amount_fen=approved.amount_fen,
            approved_on=payload.approved_on,
        )
        for approved in payload.approved_items
    ]
