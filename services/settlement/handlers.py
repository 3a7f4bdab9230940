"""Event handlers: the subscriptions of settlement, one handler per registered fact type.

Every event on the four producer streams is archived by the kernel's inbox; the event types of
fact_types.py are also translated into facts and fed to the live ledger.
"""

from __future__ import annotations

from typing import Any

from rehab_contracts import EventEnvelope
from rehab_contracts.envelope import EventPayload

from kernel.messaging.consumer import EventHandler, Subscription
from kernel.store.store import UnitOfWork
from services.settlement.fact_types import FACT_TYPES, FactType
from services.settlement.ledger.live import LiveLedger


class SettlementHandlers:
    """The subscribers of settlement: each consumed fact type is translated and fed to the live ledger."""

    def __init__(self, ledger: LiveLedger) -> None:
        self.ledger = ledger

    def handler(self, fact_type: FactType[Any, Any]) -> EventHandler:
        """``on_<event>``: translate the payload at the edge, record the fact in the consumer's unit."""

        def on_event(unit: UnitOfWork, envelope: EventEnvelope, payload: EventPayload) -> None:
            self.ledger.record(unit, fact_type.translate(envelope, payload))

        on_event.__name__ = f"on_{fact_type.event_type.split('.')[-1]}"
        return on_event

    def subscriptions(self) -> list[Subscription]:
        """The producer streams settlement consumes, with the handlers of each."""
        routes: dict[str, dict[str, EventHandler]] = {}
        for fact_type in FACT_TYPES:
            routes.setdefault(fact_type.stream, {})[fact_type.event_type] = self.handler(fact_type)
        return [Subscription(stream, handlers) for stream, handlers in routes.items()]
