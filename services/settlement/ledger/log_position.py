"""Where a book stands in the fact log: the positions it was fed, so a standby's book can follow the leader's.

The log's positions come from a sequence, so they are not committed in order: two consumer transactions
may commit position 11 before 10, and a rolled-back one leaves 10 missing for good. A reader that only
asked for rows after the highest position it saw would skip 10; this one remembers each position it
skipped (a gap) and asks for the gaps again on the next read, forgetting a gap after ``GAP_SECONDS``
(its transaction rolled back). Once the previous writer's transactions have all ended (a new leader,
after the election's barrier), every gap left is a rollback. Counting the log against what was fed is the
final check: a log rewritten meanwhile (``derive_fact_log``) does not match, and the book is built again.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlalchemy import Connection, func, select

from services.settlement.ledger.tables import facts_table

GAP_SECONDS = 600.0
"""How long a skipped position is asked for again: longer than any consumer transaction lasts (a batch whose
book must be rebuilt from a province's log takes ~40 s)."""
MOST_GAP = 10_000
"""A jump this large between two positions is a rewritten log, not rolled-back transactions."""
_PAGE = 5000


@dataclass
class LogPosition:
    """The positions of the fact log a book has been fed."""

    after: int = 0
    """Every position up to this one was fed or is a gap."""
    fed: int = 0
    gaps: dict[int, float] = field(default_factory=dict)
    """Skipped positions, with when they were first skipped (``time.monotonic``)."""
    rewritten: bool = False
    """A jump past ``MOST_GAP``: the log was rewritten, the book must be built again."""

    def unread(self, connection: Connection, *, final: bool = False) -> Iterator[str]:
        """The rows not fed yet, as stored: gaps committed meanwhile, then the rows after ``after``, a page at
        a time. ``final``: no transaction of a writer is in flight, so a gap still missing never comes."""
        yield from self._filled_gaps(connection)
        if final:
            self.gaps.clear()
        position = facts_table.c.position
        while True:
            query = select(position, facts_table.c.fact).where(position > self.after)
            rows = connection.execute(query.order_by(position).limit(_PAGE)).all()
            if not rows:
                return
            for found, text in rows:
                self._skip_to(found)
                self.fed += 1
                yield text

    def matches(self, connection: Connection) -> bool:
        """Whether the book was fed exactly as many rows as the log holds (and the log was not rewritten)."""
        logged = connection.scalar(select(func.count()).select_from(facts_table)) or 0
        return not self.rewritten and logged == self.fed

    def _filled_gaps(self, connection: Connection) -> Iterator[str]:
        if not self.gaps:
            return
        position = facts_table.c.position
        query = select(position, facts_table.c.fact).where(position.in_(sorted(self.gaps)))
        rows = connection.execute(query.order_by(position)).all()
        for found, text in rows:
            del self.gaps[found]
            self.fed += 1
            yield text
        too_old = time.monotonic() - GAP_SECONDS
        for gap in [gap for gap, since in self.gaps.items() if since < too_old]:
            del self.gaps[gap]

    def _skip_to(self, found: int) -> None:
        if found - self.after > MOST_GAP and self.after:
            self.rewritten = True
        elif found > self.after + 1:
            now = time.monotonic()
            self.gaps.update(dict.fromkeys(range(self.after + 1, found), now))
        self.after = found
