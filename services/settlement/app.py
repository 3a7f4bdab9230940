"""Composition root of settlement: policies, the live ledger, the four stream subscribers, the API."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import func, select

from kernel.runtime import ServiceRuntime, ServiceSettings, create_service_app
from kernel.store.store import EventStore
from kernel.web.instrumentation import ServiceCounter
from services.settlement.api import router
from services.settlement.book.policy import load_policies
from services.settlement.documents_api import router as documents_router
from services.settlement.handlers import SettlementHandlers
from services.settlement.ledger.live import LiveLedger
from services.settlement.ledger.replay import rebuild_ledger, stored_before_journal_view
from services.settlement.ledger.tables import metadata, postings_table
from services.settlement.replay_api import router as replay_router

DESCRIPTION = """\
区残联办 with the finance bureau 财政局: settles fees and subsidies from the records of the year.

Consumes the survey, assessment, approval and delivery streams, archives every event, and keeps
a double-entry ledger (integer fen) that can be dropped and rebuilt by replaying the archive.
Publishes nothing.
"""


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    """The settlement service; nothing connects until the app starts."""
    settings = settings or ServiceSettings(service="settlement")
    ledger = LiveLedger(load_policies())

    def warm(runtime: ServiceRuntime) -> None:
        engine = runtime.store.engine
        if stored_before_journal_view(engine):
            rebuild_ledger(engine, ledger.policies, live=ledger)  # the ledger is a projection: rebuilt
        else:
            ledger.warm_in_background(engine)  # healthy at once; events wait for the warm book

    app = create_service_app(
        settings,
        title="Settlement 费用结算",
        description=DESCRIPTION,
        routers=[router, documents_router, replay_router],
        publishes_to=None,
        subscriptions=SettlementHandlers(ledger).subscriptions(),
        tables=metadata,
        on_start=warm,
        counters=[
            ServiceCounter("postings", "Postings in the ledger (double-entry, integer fen).", count_postings)
        ],
    )
    app.state.ledger = ledger
    return app


def count_postings(store: EventStore) -> int:
    """The ledger's postings (only ever added: corrections post adjustments), for ``rehab_postings_total``."""
    with store.engine.connect() as connection:
        return connection.scalar(select(func.count()).select_from(postings_table)) or 0
