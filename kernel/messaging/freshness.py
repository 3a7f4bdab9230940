"""The time window of a consumed event: nothing recorded in the future (beyond clock skew) is applied.

A relay records ``recorded_at`` when the producer commits, so a genuine event is never later than the
consumer's clock plus the skew between two machines. An event claiming a later time was made up or
comes from a host whose clock is wrong: either way applying it would date facts in the future, so it
is dead-lettered with the reason. Old events are not refused: a consumer reading a stream from the
start, or a retried dead letter, legitimately meets events recorded long ago, and one already applied
is a duplicate, acknowledged without effect (see docs/security.md, "Bad input").
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rehab_contracts import EventEnvelope

from kernel.messaging.outcomes import EventRejected

MAX_CLOCK_SKEW = timedelta(minutes=5)
"""How far ahead of this service's clock an event's recorded_at may be (NTP keeps hosts far closer)."""


class RecordedInTheFuture(EventRejected):
    """The event's recorded_at is later than now plus the allowed clock skew."""


def require_recorded_in_the_past(
    envelope: EventEnvelope, now: datetime | None = None, skew: timedelta = MAX_CLOCK_SKEW
) -> None:
    """Refuse an event recorded after ``now + skew``."""
    now = now or datetime.now(UTC)
    ahead = envelope.recorded_at - now
    if ahead > skew:
        raise RecordedInTheFuture(
            f"recorded_at {envelope.recorded_at.isoformat()} is {ahead.total_seconds():.0f}s ahead of this "
            f"service's clock (at most {skew.total_seconds():.0f}s of clock skew is allowed)"
        )
