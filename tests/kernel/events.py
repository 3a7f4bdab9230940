"""Sample events for the kernel tests."""

from __future__ import annotations

from datetime import date
from uuid import UUID, uuid4

from rehab_contracts import NeedSurveyed
from rehab_contracts.examples import example_payload

from kernel.domain.clock import business_time
from kernel.store.store import NewEvent


def need_surveyed(person_id: UUID | None = None) -> NewEvent:
    payload = example_payload(NeedSurveyed).model_copy(update={"person_id": person_id or uuid4()})
    return NewEvent(payload=payload, occurred_at=business_time(date(2025, 3, 1)))
