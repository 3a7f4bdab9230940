"""Composition root of settlement: policies, the live ledger, the four stream subscribers, the API."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import func, select

from kernel.messaging.leadership import Leadership, elects_leaders
from kernel.runtime import ServiceRuntime, ServiceSettings, SingleWriter, create_service_app
from kernel.store.store import EventStore
from kernel.web.instrumentation import ServiceCounter
from services.settlement.api import router
from services.settlement.book.policy import load_policies
from services.settlement.documents_api import router as documents_router
from services.settlement.handlers import SettlementHandlers
from services.settlement.ledger import unsettled
from services.settlement.ledger.fact_log import cover_archive
from services.settlement.ledger.live import LiveLedger
from services.settlement.ledger.replay import build_unsettled, rebuild_ledger, stored_before_journal_view
from services.settlement.ledger.tables import metadata, postings_table
from services.settlement.replay_api import router as replay_router
from services.settlement.sole_writer import sole_writer_of

DESCRIPTION = """\
区残联办 with the finance bureau 财政局: settles fees and subsidies from the records of the year.

Consumes the survey, assessment, approval and delivery streams, archives every event, and keeps
a double-entry ledger (integer fen) that can be dropped and rebuilt by replaying the archive.
Publishes nothing. On PostgreSQL one instance, the elected leader, consumes and writes the ledger; the
others stand by and serve reads (ADR 0020). On SQLite a second instance refuses to start.
"""

LEDGER_WRITER = "settlement:ledger-writer"
"""The scope of the advisory lock whose holder writes the ledger."""


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    """The settlement service; nothing connects until the app starts."""
    settings = settings or ServiceSettings(service="settlement")
    leadership = Leadership(settings.store_url, LEDGER_WRITER) if elects_leaders(settings.store_url) else None
    ledger = LiveLedger(load_policies(), fence=leadership.fence if leadership is not None else None)
    sole_writer = sole_writer_of(settings.store_url) if leadership is None else None

    def prepare(runtime: ServiceRuntime) -> None:
        """Before consuming: the ledger and the projections the books write, as this release keeps them."""
        engine = runtime.store.engine
        if stored_before_journal_view(engine):
            rebuild_ledger(engine, ledger.policies, live=ledger)  # the ledger is a projection: rebuilt
            return
        with engine.begin() as connection:
            cover_archive(connection)
        if not unsettled.is_built(engine):
            build_unsettled(engine, ledger.policies)

    def start(runtime: ServiceRuntime) -> None:
        if leadership is None:  # one instance: it writes
            if sole_writer is not None:
                sole_writer.take()
            prepare(runtime)

    def stop(_runtime: ServiceRuntime) -> None:
        if sole_writer is not None:
            sole_writer.give_up()

    def lead(runtime: ServiceRuntime) -> None:
        ledger.forget()  # books fed while another instance led would be behind: built again from the log
        prepare(runtime)

    app = create_service_app(
        settings,
        title="Settlement 费用结算",
        description=DESCRIPTION,
        routers=[router, documents_router, replay_router],
        publishes_to=None,
        subscriptions=SettlementHandlers(ledger).subscriptions(),
        tables=metadata,
        on_start=start,
        on_stop=stop,
        single_writer=SingleWriter(
            leadership,
            on_elected=lead,
            on_deposed=lambda _runtime: ledger.forget(),
        )
        if leadership is not None
        else None,
        counters=[
            ServiceCounter("postings", "Postings in the ledger (double-entry, integer fen).", count_postings),
            ServiceCounter(
                "settlement_books_built",
                "Persons' books built from the fact log by this process (a person not among those kept).",
                lambda _store: ledger.loaded,
            ),
        ],
    )
    app.state.ledger = ledger
    return app


def count_postings(store: EventStore) -> int:
    """The ledger's postings (only ever added: corrections post adjustments), for ``rehab_postings_total``."""
    with store.engine.connect() as connection:
        return connection.scalar(select(func.count()).select_from(postings_table)) or 0
