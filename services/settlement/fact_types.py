"""The fact types 结算事实类型: one registry entry per fact settlement learns from a consumed event.

An entry is everything that is written once per fact type: the fact's stable name in the fact log
(never a Python path), the fact (book/facts.py), the contract event it is translated from (its type
and stream come with it), the translator (translation.py) and the fact log's row codec (derived from
the fact's fields). The subscriptions (handlers.py), the archive reader (``fact_of``) and the fact
log all read this registry. Adding a fact type: the fact, its translator, one entry here, and the
rule of the book that settles it (``SettlementBook.feed`` routes each fact by its class).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from rehab_contracts import EventEnvelope, parse_payload
from rehab_contracts.envelope import EventPayload
from rehab_contracts.events import (
    ApplicationApproved,
    ApplicationRejected,
    ApplicationSubmitted,
    AssessmentCompleted,
    InstitutionChangeApproved,
    NeedSurveyed,
    ServiceDelivered,
)

from services.settlement.book.facts import (
    ApplicationDescribed,
    ApplicationRefused,
    Fact,
    InstitutionChanged,
    ItemsApproved,
    PersonAssessed,
    PersonSurveyed,
    ServiceRecorded,
)
from services.settlement.ledger.fact_rows import FactRowCodec
from services.settlement.translation import (
    application_described,
    application_refused,
    institution_changed,
    items_approved,
    person_assessed,
    person_surveyed,
    service_recorded,
)

P = TypeVar("P", bound=EventPayload)
F = TypeVar("F")


@dataclass(frozen=True)
class FactType(Generic[P, F]):
    """A fact settlement learns: its log name, the event it comes from, and how it is translated."""

    name: str
    """The fact's stable name in the fact log (rows written by every release keep it)."""
    event: type[P]
    """The contract event the fact is translated from."""
    translate: Callable[[EventEnvelope, P], F]
    fact: type[F]
    codec: FactRowCodec[F] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "codec", FactRowCodec(self.name, self.fact))

    @property
    def event_type(self) -> str:
        return self.event.event_type

    @property
    def stream(self) -> str:
        """The producer stream the event travels on."""
        return self.event.stream


FACT_TYPES: tuple[FactType[Any, Any], ...] = (
    FactType("surveyed", NeedSurveyed, person_surveyed, PersonSurveyed),
    FactType("assessed", AssessmentCompleted, person_assessed, PersonAssessed),
    FactType("approved", ApplicationApproved, items_approved, ItemsApproved),
    FactType("refused", ApplicationRejected, application_refused, ApplicationRefused),
    FactType("recorded", ServiceDelivered, service_recorded, ServiceRecorded),
    FactType("changed", InstitutionChangeApproved, institution_changed, InstitutionChanged),
    FactType("described", ApplicationSubmitted, application_described, ApplicationDescribed),
)

BY_EVENT_TYPE: dict[str, FactType[Any, Any]] = {fact_type.event_type: fact_type for fact_type in FACT_TYPES}
BY_FACT: dict[type, FactType[Any, Any]] = {fact_type.fact: fact_type for fact_type in FACT_TYPES}
BY_NAME: dict[str, FactType[Any, Any]] = {fact_type.name: fact_type for fact_type in FACT_TYPES}

SETTLEMENT_EVENT_TYPES: tuple[str, ...] = tuple(BY_EVENT_TYPE)
"""The event types settlement translates into facts (every other archived event is only archived)."""


def fact_of(envelope: EventEnvelope) -> Fact | None:
    """The settlement fact an archived event carries, or None for events settlement only archives."""
    fact_type = BY_EVENT_TYPE.get(envelope.event_type)
    return None if fact_type is None else fact_type.translate(envelope, parse_payload(envelope))
