"""Where applications live: their event streams (their whole state); referrals, cards, approved items."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from rehab_contracts import ApplicationApproved as ApprovedContract
from rehab_contracts import ApplicationAttachmentsAdded as AttachmentsAddedContract
from rehab_contracts import ApplicationRejected as RejectedContract
from rehab_contracts import ApplicationReviewed as ReviewedContract
from rehab_contracts import ApplicationSubmitted as SubmittedContract
from rehab_contracts import EventEnvelope, ReferralIssued
from rehab_contracts import InstitutionChangeApproved as ChangeApprovedContract
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from kernel.domain.clock import business_time
from kernel.domain.rejections import NotFound, StateConflict
from kernel.store.store import NewEvent, UnitOfWork
from services.approval import tables
from services.approval.domain import Application
from services.approval.events import (
    ApplicationApproved,
    ApplicationEvent,
    ApplicationRejected,
    ApplicationReviewed,
    ApplicationSubmitted,
    AttachmentsAdded,
    InstitutionChangeApproved,
    Referral,
    Submission,
)
from services.approval.places import lock_service_cards, save_approved_items
from services.approval.serials import save_serial_number
from services.approval.translation import contract_payload, domain_events

APPLICATION_EVENT_TYPES = (
    SubmittedContract.event_type,
    AttachmentsAddedContract.event_type,
    ReviewedContract.event_type,
    ApprovedContract.event_type,
    RejectedContract.event_type,
    ChangeApprovedContract.event_type,
)


def stream_of(application_id: UUID) -> str:
    return f"application-{application_id}"


@dataclass(frozen=True)
class Loaded:
    """An application as loaded for a command: its history, version and last event."""

    history: list[ApplicationEvent]
    version: int
    last_event_id: UUID

    @property
    def application(self) -> Application:
        return Application(self.history)

    def after(self, new: list[ApplicationEvent]) -> Application:
        return Application([*self.history, *new])


def next_service_card_number(unit: UnitOfWork, year: int, prefix: str) -> str:
    """服务卡号 <prefix><year>-<sequence> (the pack's card prefix: LJ in Liangjiang): the next number of the
    year, held for this transaction until commit."""
    lock_service_cards(unit, year)
    issued = unit.session.scalar(
        select(func.max(tables.service_cards.c.sequence)).where(tables.service_cards.c.year == year)
    )
    return f"{prefix}{year}-{(issued or 0) + 1:06d}"


def load(unit: UnitOfWork, application_id: UUID) -> Loaded:
    envelopes = unit.load(stream_of(application_id))
    if not envelopes:
        raise NotFound(
            f"没有编号为 {application_id} 的申请",
            field="application_id",
            code="approval.application.not_found",
        )
    return Loaded(domain_events(envelopes), envelopes[-1].version, envelopes[-1].event_id)


def applications(unit: UnitOfWork, *, person_id: UUID | None) -> list[Application]:
    """Every application, or one person's: found by the person their events are correlated with (each
    application event is recorded with correlation id = the person), then loaded stream by stream."""
    if person_id is not None:
        streams = unit.streams_correlated_with(str(person_id), SubmittedContract.event_type)
        return [Application(domain_events(unit.load(stream))) for stream in streams]
    every: dict[str, list[EventEnvelope]] = defaultdict(list)
    for envelope in unit.events_of_type(*APPLICATION_EVENT_TYPES):
        every[envelope.stream_id].append(envelope)
    return [Application(domain_events(envelopes)) for envelopes in every.values()]


def applications_held(unit: UnitOfWork, person_id: UUID) -> list[Application]:
    """The person's applications, with the person locked until commit: a concurrent submission of theirs
    checks its items only after this one is recorded or refused (docs/adr/0010)."""
    unit.lock(f"approval.applications_of:{person_id}")
    return applications(unit, person_id=person_id)


def record(
    unit: UnitOfWork,
    application: Application,
    version: int,
    events: list[ApplicationEvent],
    causation_id: UUID | None,
) -> None:
    """Append the contract events; reserve the service card number an approval issues and keep its items."""
    new: list[NewEvent] = []
    for event in events:
        form = event.submission if isinstance(event, ApplicationSubmitted) else form_of(application)
        if isinstance(event, ApplicationSubmitted):
            save_serial_number(unit, event.application_id, event.submission)
        if isinstance(event, ApplicationApproved):
            _save_service_card(unit, event, form.application_year)
            save_approved_items(unit, event, form)
        payload = contract_payload(event, form, _card_number(application, events))
        new.append(
            NewEvent(
                payload, business_time(_day(event)), correlation_id=form.person_id, causation_id=causation_id
            )
        )
    if new:
        unit.append(stream_of(new[0].payload.application_id), version, new)  # type: ignore[attr-defined]


def _card_number(application: Application, events: list[ApplicationEvent]) -> str | None:
    decisions = [application.decision, *events]
    return next(
        (event.service_card_number for event in decisions if isinstance(event, ApplicationApproved)), None
    )


def _save_service_card(unit: UnitOfWork, event: ApplicationApproved, year: int) -> None:
    sequence = int(event.service_card_number.rsplit("-", 1)[1])
    try:
        with unit.session.begin_nested():
            unit.session.execute(
                insert(tables.service_cards).values(
                    card_number=event.service_card_number,
                    year=year,
                    sequence=sequence,
                    application_id=str(event.application_id),
                )
            )
    except IntegrityError as error:
        raise StateConflict(
            f"服务卡号 {event.service_card_number} 刚被另一审批占用，请重新提交审批",
            code="approval.service_card_number.taken",
        ) from error


def referral_event_id(unit: UnitOfWork, events: list[ApplicationEvent]) -> UUID | None:
    """The referral event a submission follows from (its causation), when one referral backs it."""
    submitted = next(event for event in events if isinstance(event, ApplicationSubmitted))
    if submitted.submission.referral_id is None:
        return None
    event_id = unit.session.scalar(
        select(tables.referrals.c.event_id).where(
            tables.referrals.c.referral_id == str(submitted.submission.referral_id)
        )
    )
    return UUID(event_id) if event_id else None


def referrals_of(unit: UnitOfWork, person_id: UUID) -> list[Referral]:
    query = (
        select(tables.referrals)
        .where(tables.referrals.c.person_id == str(person_id))
        .order_by(tables.referrals.c.issued_on)
    )
    return [
        Referral(
            referral_id=UUID(row["referral_id"]),
            person_id=UUID(row["person_id"]),
            items=frozenset(json.loads(row["items"])),
            year=row["year"],
            to_institution_id=row["to_institution_id"],
            to_service_institution=row["to_kind"] == "service_institution",
            street=row["street"],
            community=row["community"],
            disability_categories=_categories(row["disability_categories"]),
        )
        for row in unit.session.execute(query).mappings()
    ]


def _categories(stored: str | None) -> frozenset[str] | None:
    return frozenset(json.loads(stored)) if stored is not None else None


def form_of(application: Application) -> Submission:
    assert application.submission is not None
    return application.submission


def _day(event: ApplicationEvent) -> date:
    if isinstance(event, ApplicationSubmitted):
        return event.submission.submitted_on
    if isinstance(event, AttachmentsAdded):
        return event.added_on
    if isinstance(event, ApplicationReviewed):
        return event.reviewed_on
    if isinstance(event, ApplicationApproved):
        return event.approved_on
    if isinstance(event, InstitutionChangeApproved):
        return event.approved_on
    assert isinstance(event, ApplicationRejected)
    return event.rejected_on


def save_referral(unit: UnitOfWork, envelope: EventEnvelope, payload: ReferralIssued) -> None:
    """Project a referral; the same referral_id arriving again (as another event) changes nothing."""
    known = unit.session.execute(
        select(tables.referrals.c.referral_id).where(
            tables.referrals.c.referral_id == str(payload.referral_id)
        )
    ).first()
    if known is not None:
        return
    unit.session.execute(
        insert(tables.referrals).values(
            referral_id=str(payload.referral_id),
            event_id=str(envelope.event_id),
            assessment_id=str(payload.assessment_id),
            person_id=str(payload.person_id),
            from_institution_id=payload.from_institution_id,
            to_institution_id=payload.to_institution_id,
            to_kind=str(payload.to_kind),
            items=json.dumps([str(item) for item in payload.items]),
            issued_on=payload.issued_on,
            year=payload.issued_on.year,
            street=payload.street,
            community=payload.community,
            disability_categories=(
                json.dumps([str(category) for category in payload.disability_categories])
                if payload.disability_categories is not None
                else None
            ),
        )
    )


def referral_rows(
    unit: UnitOfWork,
    person_id: UUID | None = None,
    street: str | None = None,
    community: str | None = None,
) -> list[dict[str, object]]:
    """Referrals in the order issued; of a street (community) when given: a referral that does not say
    where the person is registered (issued before referrals carried it) is then left out."""
    query = select(tables.referrals).order_by(tables.referrals.c.issued_on)
    if person_id is not None:
        query = query.where(tables.referrals.c.person_id == str(person_id))
    if street is not None:
        query = query.where(tables.referrals.c.street == street)
    if community is not None:
        query = query.where(tables.referrals.c.community == community)
    return [
        {
            **row,
            "items": json.loads(row["items"]),
            "disability_categories": _listed(row["disability_categories"]),
        }
        for row in unit.session.execute(query).mappings()
    ]


def _listed(stored: str | None) -> list[str] | None:
    return json.loads(stored) if stored is not None else None
