"""The comparison side of the replay benchmark: a plain fee tally, and the `eventsourcing` library feeding it.

``FeeTally`` pays the same fees as settlement's ledger for the benchmark's journeys (survey,
management and assessment fees, the support service per person and year, fixed-amount and free
subsidies with insurance first) from plain payload dicts: no contract validation, no provenance,
no postings, no funding split. Its totals per payee are checked against the rebuilt ledger.

The events are stored in an ``eventsourcing`` application (its own SQLite recorder, JSON
transcoder) as one domain event class ``ArchivedEvent`` that carries the envelope's fields and
the payload dict. The library then replays them two ways:

* ``replay_with_reader`` — ``NotificationLogReader.select`` in sections of 1000, the
  application's ``Mapper.to_domain_event`` (topic resolution, JSON decoding, UUID/datetime
  transcodings, dataclass reconstruction), then the tally: the fastest path the library offers;
* ``replay_with_process`` — a ``ProcessApplication`` following the archive application
  (``pull_and_process``): the same, plus the library's tracking record written per event in its
  own SQLite transaction (what makes a library projection resumable and exactly-once).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.application import Application, ProcessingEvent
from eventsourcing.domain import DomainEvent
from eventsourcing.system import NotificationLogReader, ProcessApplication
from rehab_contracts import EventEnvelope

from services.settlement.book.policy import Fees


class FeeTally:
    """Credits per payee account, in fen, of the fees the journeys make due."""

    def __init__(self, fees: Fees) -> None:
        self.survey_fen = _stated(fees.survey_fee_fen)
        self.management_fen = _stated(fees.management_fee_fen)
        self.assessment_fen = _stated(fees.assessment_fee_fen)
        self.support_fen = _stated(fees.support_service_fen)
        self.credits: dict[str, int] = {}
        self.events = 0
        self._surveyed: set[tuple[str, int]] = set()
        self._needs: dict[tuple[str, int], str] = {}
        self._assessed: set[tuple[str, int]] = set()
        self._assessment_paid: set[tuple[str, int]] = set()
        self._managed: set[tuple[str, int]] = set()
        self._support_paid: set[tuple[str, int]] = set()
        self._approvals: dict[str, dict[str, dict[str, Any]]] = {}
        self._waiting: dict[str, list[dict[str, Any]]] = {}
        self._handlers = {
            "survey.need_surveyed": self._surveyed_event,
            "assessment.assessment_completed": self._assessed_event,
            "approval.application_approved": self._approved_event,
            "delivery.service_delivered": self._delivered_event,
        }

    def take(self, event_type: str, payload: dict[str, Any]) -> None:
        self.events += 1
        handler = self._handlers.get(event_type)
        if handler is not None:
            handler(payload)

    def _credit(self, account: str, fen: int) -> None:
        self.credits[account] = self.credits.get(account, 0) + fen

    def _surveyed_event(self, survey: dict[str, Any]) -> None:
        key = (survey["person_id"], survey["survey_year"])
        if key not in self._surveyed:
            self._surveyed.add(key)
            self._credit(f"street:{survey['street']}", self.survey_fen)
        if survey["has_needs"]:
            self._needs.setdefault(key, survey["street"])
            self._manage(key)

    def _assessed_event(self, assessment: dict[str, Any]) -> None:
        key = (assessment["person_id"], assessment["assessment_year"])
        self._assessed.add(key)
        if assessment["institution_level"] == "district" and key not in self._assessment_paid:
            self._assessment_paid.add(key)
            self._credit(f"assessment_institution:{assessment['institution_id']}", self.assessment_fen)
        self._manage(key)

    def _manage(self, key: tuple[str, int]) -> None:
        if key in self._needs and key in self._assessed and key not in self._managed:
            self._managed.add(key)
            self._credit(f"street:{self._needs[key]}", self.management_fen)

    def _approved_event(self, approval: dict[str, Any]) -> None:
        application = approval["application_id"]
        self._approvals[application] = {item["item"]: item for item in approval["approved_items"]}
        for delivery in self._waiting.pop(application, []):
            self._settle(delivery, self._approvals[application])

    def _delivered_event(self, delivery: dict[str, Any]) -> None:
        approval = self._approvals.get(delivery["application_id"])
        if approval is None:
            self._waiting.setdefault(delivery["application_id"], []).append(delivery)
        else:
            self._settle(delivery, approval)

    def _settle(self, delivery: dict[str, Any], approval: dict[str, dict[str, Any]]) -> None:
        approved = approval[delivery["item"]]
        institution = approved["institution_id"]
        if delivery["item"].startswith("support_service"):
            key = (delivery["person_id"], delivery["service_year"])
            if key not in self._support_paid:
                self._support_paid.add(key)
                self._credit(
                    f"service_institution:{institution or delivery['institution_id']}", self.support_fen
                )
            return
        self_paid = max(delivery["charge_fen"] - delivery["insurance_paid_fen"], 0)
        amount = self_paid if approved["amount_fen"] is None else min(self_paid, approved["amount_fen"])
        if amount > 0:
            payee = f"service_institution:{institution}" if institution else f"person:{delivery['person_id']}"
            self._credit(payee, amount)


def _stated(figure: object) -> int:
    if not isinstance(figure, int):
        raise ValueError(f"the benchmark needs stated fees, got {figure!r}")
    return figure


# -- eventsourcing -------------------------------------------------------------------------------
@dataclass(frozen=True)  # what the library's metaclass makes it, spelled out for type checkers
class ArchivedEvent(DomainEvent):
    """An archived rehab envelope as an eventsourcing domain event (timestamp = occurred_at)."""

    event_id: UUID
    event_type: str
    recorded_at: datetime
    producer: str
    correlation_id: UUID
    causation_id: UUID | None
    payload: dict[str, Any]


class ArchiveApplication(Application[UUID]):
    """The library application holding the archive (its notification log is what followers read)."""

    log_section_size = 1000


class TallyProcess(ProcessApplication[UUID]):
    """A library process application whose policy feeds the tally."""

    pull_section_size = 1000

    def __init__(self, fees: Fees, env: dict[str, str]) -> None:
        super().__init__(env)
        self.tally = FeeTally(fees)

    def policy(self, domain_event: Any, processing_event: ProcessingEvent[UUID]) -> None:
        self.tally.take(domain_event.event_type, domain_event.payload)


def sqlite_env(path: Path) -> dict[str, str]:
    return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(path)}


def build_library_archive(path: Path, envelopes: Sequence[EventEnvelope]) -> ArchiveApplication:
    """The same events stored by the library (setup, not timed)."""
    app = ArchiveApplication(env=sqlite_env(path))
    batch = []
    for envelope in envelopes:
        batch.append(
            app.mapper.to_stored_event(
                ArchivedEvent(
                    originator_id=UUID(envelope.stream_id.split("-", 1)[1]),
                    originator_version=envelope.version,
                    timestamp=envelope.occurred_at,
                    event_id=envelope.event_id,
                    event_type=envelope.event_type,
                    recorded_at=envelope.recorded_at,
                    producer=envelope.producer,
                    correlation_id=envelope.correlation_id,
                    causation_id=envelope.causation_id,
                    payload=envelope.payload,
                )
            )
        )
        if len(batch) == 10_000:
            app.recorder.insert_events(batch)
            batch = []
    if batch:
        app.recorder.insert_events(batch)
    return app


def replay_with_reader(path: Path, fees: Fees) -> FeeTally:
    """Read the library's notification log, map each notification to its domain event, tally it."""
    app = ArchiveApplication(env=sqlite_env(path))
    tally = FeeTally(fees)
    reader = NotificationLogReader(app.notification_log, section_size=app.log_section_size)
    to_domain_event = app.mapper.to_domain_event
    for notifications in reader.select(start=1):
        for notification in notifications:
            event = to_domain_event(notification)
            tally.take(event.event_type, event.payload)  # type: ignore[attr-defined, unused-ignore]  # typed only when the bench extra (eventsourcing) is installed
    app.close()
    return tally


def replay_with_process(archive_path: Path, process_path: Path, fees: Fees, stop: int) -> FeeTally:
    """A fresh process application pulls and processes the archive's first ``stop`` notifications."""
    leader = ArchiveApplication(env=sqlite_env(archive_path))
    process = TallyProcess(fees, env=sqlite_env(process_path))
    process.follow(leader.name, leader.notification_log)
    process.pull_and_process(leader.name, stop=stop)
    leader.close()
    process.close()
    return process.tally
