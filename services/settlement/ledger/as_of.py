"""The ledger as it stood at a date 截至某日的账: a replay of the archive into memory, never the live tables.

Which events count as "known on day D" is decided by the inbox's ``received_at``: the moment settlement
archived the event, which is the moment the live ledger posted it (both happen in one transaction).
So the replay as of D shows exactly what the live ledger showed at the end of D (China Standard Time),
even when Redis was down and events arrived days after their producer recorded them.

The producer's ``recorded_at`` answers another question: what the ledger *would* have shown had every
event been delivered at once. It is offered as ``basis="recorded"`` for audits after an outage; it is
not the default because an event recorded on D but received on D+1 was not in anybody's ledger on D.
Either way events are fed in archive order (the order the live ledger saw them), so the same archive
and date always give byte-identical output.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal

from rehab_contracts import EventEnvelope
from sqlalchemy import Engine

from kernel.domain.clock import CHINA_STANDARD_TIME, business_time
from services.settlement.book.dues import Posting
from services.settlement.book.policy import PolicySet, load_policies
from services.settlement.ledger.archive import Counted, archive, facts_of
from services.settlement.ledger.books import feed_archive
from services.settlement.ledger.person_order import fold_facts, fold_log
from services.settlement.ledger.report import LedgerReport, render, report_of

Basis = Literal["received", "recorded"]


@dataclass(frozen=True)
class AsOfReplay:
    """The ledger known at the end of ``day``: its report, its postings, and how many events fed it."""

    day: date
    basis: Basis
    cutoff: datetime
    events: int
    postings: tuple[Posting, ...]
    report: LedgerReport


def end_of_day(day: date) -> datetime:
    """The first instant after ``day`` in China Standard Time, as UTC (the kernel writes UTC)."""
    return business_time(day + timedelta(days=1)).astimezone(UTC)


def replay_as_of(
    engine: Engine, day: date, policies: PolicySet | None = None, basis: Basis = "received"
) -> AsOfReplay:
    """Rebuild the ledger from the archive events known by the end of ``day``, in memory only, keeping
    every posting (for tests and small archives; ``totals_as_of`` is the bounded one)."""
    policies = policies if policies is not None else load_policies()
    cutoff = end_of_day(day)
    envelopes = Counted(known_by(engine, cutoff, basis))  # read a page at a time, never listed
    _book, postings = feed_archive(envelopes, policies)
    return AsOfReplay(day, basis, cutoff, envelopes.count, tuple(postings), report_of(postings))


@dataclass(frozen=True)
class AsOfTotals:
    """The ledger's totals at the end of ``day`` (as ``replay_as_of`` gives them), without its postings,
    and how many facts then waited unsettled."""

    day: date
    basis: Basis
    cutoff: datetime
    events: int
    report: LedgerReport
    unsettled: int


def totals_as_of(
    engine: Engine, day: date, policies: PolicySet | None = None, basis: Basis = "received"
) -> AsOfTotals:
    """The totals of ``replay_as_of``, folded as the postings come, person by person: memory holds a
    group's book, neither the ledger nor the history (``rehab replay --as-of``, GET /replay/as-of)."""
    policies = policies if policies is not None else load_policies()
    cutoff = end_of_day(day)
    logged = fold_log(engine, policies, cutoff) if basis == "received" else None
    if logged is not None:  # the facts the live ledger logged as it archived their events
        events, settled, report = logged
        return AsOfTotals(day, basis, cutoff, events, report, settled.unsettled)
    envelopes = Counted(known_by(engine, cutoff, basis))
    settled, report = fold_facts(facts_of(envelopes), policies)
    return AsOfTotals(day, basis, cutoff, envelopes.count, report, settled.unsettled)


def known_by(engine: Engine, cutoff: datetime | None, basis: Basis = "received") -> Iterator[EventEnvelope]:
    """The archived events known before ``cutoff`` (every one when None), in archive order."""
    if cutoff is None:
        return archive(engine)
    if basis == "received":
        return archive(engine, received_before=cutoff)
    return (envelope for envelope in archive(engine) if envelope.recorded_at < cutoff)


def render_as_of(replay: AsOfReplay | AsOfTotals) -> str:
    """A heading naming the date and basis, then the ledger exactly as ``rehab replay`` prints it."""
    known = "结算收到" if replay.basis == "received" else "产生方记录"
    heading = (
        f"截至 {replay.day.isoformat()} 的台账（{known}于 "
        f"{replay.cutoff.astimezone(CHINA_STANDARD_TIME).isoformat()} 之前的事件；"
        f"在内存中重放了 {replay.events} 个事件）\n"
    )
    return heading + render(replay.report)
