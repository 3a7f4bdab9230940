"""Command handlers (in the command's unit of work: load, one domain call, save), the referral projection,
and the queries of approval."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from uuid import UUID

from rehab_contracts import EventEnvelope, EventPayload, ReferralIssued

from kernel.domain.clock import today
from kernel.reference import Jurisdiction, Quota
from kernel.store.store import EventStore, UnitOfWork
from services.approval import serials
from services.approval.domain import Application
from services.approval.eligibility import registered_area
from services.approval.events import (
    ApplicationEvent,
    Approval,
    InstitutionChange,
    Rejection,
    Review,
    Submission,
    SubmissionContext,
)
from services.approval.places import ensure_built, is_built, lock_places, places_taken
from services.approval.quotas import QuotaUse, count_taken
from services.approval.repository import (
    applications,
    applications_held,
    form_of,
    load,
    next_service_card_number,
    record,
    referral_event_id,
    referral_rows,
    referrals_of,
    save_referral,
)

# -- commands (each in the command's unit of work) -------------------------------------------------------
Guard = Callable[[Application], None]
"""The caller's check of the application a command loaded (the access layer's street check); raises."""


AreaGuard = Callable[[str, str | None], None]
"""The caller's check of the street and community the applicant is registered in; raises."""


def submit_application(
    unit: UnitOfWork, jurisdiction: Jurisdiction, submission: Submission, check: AreaGuard | None = None
) -> Application:
    referrals = tuple(referrals_of(unit, submission.person_id))
    registered = registered_area(referrals)
    # A form naming another street than the registered one is the form's mistake: the domain refuses it
    # (422 approval.street.not_registered); the caller's area is checked against the registered place.
    if registered is not None and check is not None and registered[0] == submission.street:
        check(*registered)
    serials.ensure_built(unit, lambda: applications(unit, person_id=None))
    context = SubmissionContext(
        today=today(),
        streets=frozenset(jurisdiction.streets),
        designated=designated_items(jurisdiction),
        referrals=referrals,
        other_applications=tuple(applications_held(unit, submission.person_id)),
        serial_number_holder=serials.serial_number_holder(unit, submission),
    )
    events = Application.submit(submission, context)
    record(unit, Application(), 0, events, causation_id=referral_event_id(unit, events))
    return Application(events)


def add_attachments(
    unit: UnitOfWork, application_id: UUID, attachments: frozenset[str], added_on: date, check: Guard
) -> Application:
    return take_effect(
        unit,
        application_id,
        lambda application: application.add_attachments(attachments, added_on, today()),
        check,
    )


def review_application(unit: UnitOfWork, application_id: UUID, request: Review, check: Guard) -> Application:
    return take_effect(unit, application_id, lambda application: review(application, request), check)


def approve_application(
    unit: UnitOfWork, jurisdiction: Jurisdiction, application_id: UUID, approval: Approval
) -> Application:
    return take_effect(
        unit, application_id, lambda application: approve(unit, jurisdiction, application, approval)
    )


def reject_application(unit: UnitOfWork, application_id: UUID, rejection: Rejection) -> Application:
    return take_effect(unit, application_id, lambda application: reject(application, rejection))


def change_institution(
    unit: UnitOfWork, jurisdiction: Jurisdiction, application_id: UUID, change: InstitutionChange
) -> Application:
    return take_effect(unit, application_id, lambda application: change_to(jurisdiction, application, change))


Decide = Callable[[Application], list[ApplicationEvent]]
"""One domain command on a loaded application (a sign-off block), returning its events."""


def take_effect(
    unit: UnitOfWork, application_id: UUID, decide: Decide, check: Guard | None = None
) -> Application:
    """Load (and let the caller ``check`` it), decide, record: as every command on an application ends."""
    loaded = load(unit, application_id)
    if check is not None:
        check(loaded.application)
    events = decide(loaded.application)
    record(unit, loaded.application, loaded.version, events, loaded.last_event_id)
    return loaded.after(events)


def review(application: Application, request: Review) -> list[ApplicationEvent]:
    return application.review(
        request.level, request.endorsed, request.opinion, request.signatories, request.reviewed_on, today()
    )


def approve(
    unit: UnitOfWork, jurisdiction: Jurisdiction, application: Application, approval: Approval
) -> list[ApplicationEvent]:
    form = form_of(application)
    places = places_for(unit, jurisdiction, form)  # its lock before the card number's: one order, no deadlock
    return application.approve(
        approval.approvals,
        approval.rejections,
        approval.signatories,
        approval.decided_on,
        service_card_number=next_service_card_number(unit, form.application_year, jurisdiction.card_prefix),
        designated=designated_items(jurisdiction),
        today=today(),
        places=places,
        standards=jurisdiction.item_standards_fen,
    )


def reject(application: Application, rejection: Rejection) -> list[ApplicationEvent]:
    return application.reject(rejection.reason, rejection.signatories, rejection.decided_on, today())


def change_to(
    jurisdiction: Jurisdiction, application: Application, change: InstitutionChange
) -> list[ApplicationEvent]:
    return application.change_institution(change, designated=designated_items(jurisdiction), today=today())


def places_for(unit: UnitOfWork, jurisdiction: Jurisdiction, form: Submission) -> QuotaUse | None:
    """The places 救助名额 this application's area has in its year, and how many are taken.

    The area's places stay locked until this approval commits, so a concurrent approval of the area
    counts after it and two cannot both take the last place (docs/adr/0010).
    """
    ensure_built(unit, lambda: applications(unit, person_id=None))
    quota = jurisdiction.quota_for(form.street, form.application_year, form.items)
    if quota is None:
        return None
    lock_places(unit, quota)
    return quota_use(quota, places_taken(unit, quota))


def quota_use(quota: Quota, taken: int) -> QuotaUse:
    streets = frozenset(quota.area_streets)
    return QuotaUse(quota.area, quota.year, quota.places, streets, quota.items, taken, quota.minimum)


def quota_uses(store: EventStore, jurisdiction: Jurisdiction, year: int) -> list[QuotaUse]:
    """Every area's places of the year and how many are taken (for 区残联办)."""
    with store.reading() as unit:
        taken = _taken_counter(unit)
        return [quota_use(quota, taken(quota)) for quota in jurisdiction.quotas if quota.year == year]


def _taken_counter(unit: UnitOfWork) -> Callable[[Quota], int]:
    """Count from the approved items; a store whose projection no approval has built yet is scanned."""
    if is_built(unit):
        return lambda quota: places_taken(unit, quota)
    found = applications(unit, person_id=None)
    return lambda quota: count_taken(found, quota.year, frozenset(quota.area_streets), quota.items)


# -- consumed events -------------------------------------------------------------------------------
def on_referral_issued(unit: UnitOfWork, envelope: EventEnvelope, payload: EventPayload) -> None:
    """Keep which items the person was referred for: an application may only ask for those."""
    assert isinstance(payload, ReferralIssued)
    save_referral(unit, envelope, payload)


# -- queries ---------------------------------------------------------------------------------------
def get_application(store: EventStore, application_id: UUID) -> Application:
    with store.reading() as unit:
        return load(unit, application_id).application


def list_applications(
    store: EventStore,
    *,
    year: int | None = None,
    street: str | None = None,
    status: str | None = None,
    person_id: UUID | None = None,
) -> list[Application]:
    with store.reading() as unit:
        found = applications(unit, person_id=person_id)
    return [
        application
        for application in found
        if (year is None or form_of(application).application_year == year)
        and (street is None or form_of(application).street == street)
        and (status is None or application.status == status)
    ]


def overdue_applications(
    store: EventStore, as_of: date, review_working_days: int | None, street: str | None = None
) -> list[Application]:
    """Complete applications still undecided after the jurisdiction's deadline, by street and due date."""
    with store.reading() as unit:
        found = applications(unit, person_id=None)
    overdue = [
        application
        for application in found
        if application.overdue_on(as_of, review_working_days)
        and (street is None or form_of(application).street == street)
    ]
    return sorted(
        overdue,
        key=lambda application: (
            form_of(application).street,
            application.decision_due_on(review_working_days),
        ),
    )


def list_referrals(
    store: EventStore,
    person_id: UUID | None = None,
    street: str | None = None,
    community: str | None = None,
) -> list[dict[str, object]]:
    with store.reading() as unit:
        return referral_rows(unit, person_id, street, community)


def designated_items(jurisdiction: Jurisdiction) -> Mapping[str, frozenset[str]]:
    return {institution.id: institution.designated_items for institution in jurisdiction.service_institutions}
