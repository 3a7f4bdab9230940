"""Corrections 更正 of one record sent at the same time are applied one after the other, each to the record
as the one before left it: every one is kept, in the record's stream, and the record ends as the last one."""

from __future__ import annotations

import threading
from itertools import pairwise
from typing import Any
from uuid import UUID

from services.delivery import handlers, schemas
from services.delivery.api import service_form
from services.delivery.domain import ServiceDelivered
from services.delivery.repository import stream_of
from tests.delivery.test_api import service
from tests.delivery.test_record_concurrency import LIANGJIANG, approval_known, record_service, store

__all__ = ["store"]


def correct(store: Any, delivery_id: UUID, body: dict[str, Any]) -> object:
    sent = schemas.CorrectService.model_validate(body)
    with store.transaction() as unit:
        return handlers.correct_delivery(
            unit,
            LIANGJIANG,
            delivery_id,
            service_form(sent),
            sent.reason,
            check=lambda _form: None,
            by="康复中心",
        )


def test_corrections_sent_together_are_each_applied_to_the_record_the_one_before_left(store: Any) -> None:
    approval = approval_known(store)
    kept = record_service(store, service(approval))
    assert isinstance(kept, ServiceDelivered)
    charges = [100000 + 1000 * number for number in range(4)]
    start = threading.Barrier(len(charges))
    outcomes: list[object] = [None] * len(charges)

    def send(index: int) -> None:
        start.wait()
        try:
            body = {**service(approval, charge_fen=charges[index]), "reason": f"更正第{index + 1}次"}
            outcomes[index] = correct(store, kept.delivery_id, body)
        except Exception as error:  # the outcome is what the test looks at
            outcomes[index] = error

    threads = [threading.Thread(target=send, args=(index,)) for index in range(len(charges))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert all(isinstance(outcome, tuple) for outcome in outcomes), outcomes
    with store.reading() as unit:
        envelopes = unit.load(stream_of(kept.delivery_id))
    assert [envelope.version for envelope in envelopes] == [1, 2, 3, 4, 5]
    assert all(later.causation_id == earlier.event_id for earlier, later in pairwise(envelopes))
    final, corrections = handlers.get_delivery(store, kept.delivery_id)
    assert final.form.charge_fen == envelopes[-1].payload["charge_fen"]
    assert sorted(envelope.payload["charge_fen"] for envelope in envelopes[1:]) == charges
    assert [str(correction.event_id) for correction in corrections] == [
        str(e.event_id) for e in envelopes[1:]
    ]
