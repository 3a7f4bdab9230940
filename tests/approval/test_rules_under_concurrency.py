"""Rules across applications hold under concurrency on SQLite and PostgreSQL (docs/adr/0010): N approvals
racing for P < N places 救助名额 leave exactly P approved and N - P refused with over_quota; a store older
than the approved-items projection builds it on its first approval; one person's racing submissions of one
item leave one application holding it; of forms racing with one 序号 one is recorded."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from pathlib import Path
from uuid import UUID, uuid4

import pytest
from rehab_contracts import ReferralIssued
from sqlalchemy import delete

from kernel.domain.rejections import StateConflict
from kernel.reference import Jurisdiction, load_jurisdiction
from kernel.reference.jurisdiction import REFERENCE_DIR
from kernel.store.store import EventStore
from services.approval import commands, handlers, schemas, serials, tables
from services.approval.domain import Application
from services.approval.events import ApplicationApproved
from services.approval.places import ensure_built
from services.approval.repository import record
from services.approval.tables import tables as approval_tables
from tests.approval.test_api import application, referral_envelope
from tests.approval.test_quotas import endorsed_child
from tests.backends import BACKENDS, store_on

LIANGJIANG_FILE = REFERENCE_DIR / "liangjiang" / "jurisdiction.toml"

OFFICE = {"responsible": "赵主任", "reviewer": "钱科长", "handler": "孙干事"}
DECISION = commands.decision(
    schemas.DecideApplication.model_validate(
        {
            "outcome": "approved",
            "approved_items": [
                {
                    "item": "children_rehab_training",
                    "institution_id": "lj-rehab-centre",
                    "subsidy_mode": "free",
                }
            ],
            "signatories": OFFICE,
            "decided_on": "2024-11-01",
        }
    )
)


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EventStore]:
    with store_on(request, tmp_path, "approval", approval_tables) as event_store:
        # Built up front, so that the first approval does not serialise the rest.
        with event_store.transaction() as unit:
            ensure_built(unit, list)
        yield event_store


def in_a_unit(store: EventStore, handler: Callable[..., Application], *arguments: object) -> Application:
    """The command handler in a unit of work of its own, as the API runs it."""
    with store.transaction() as unit:
        return handler(unit, *arguments)


def jurisdiction_with_places(tmp_path: Path, places: int) -> Jurisdiction:
    reference = tmp_path / f"liangjiang-{places}-places.toml"
    quota = f'\n[[quotas]]\nyear = 2024\narea = "鸳鸯"\nplaces = {places}\n'
    reference.write_text(LIANGJIANG_FILE.read_text(encoding="utf-8") + quota, "utf-8")
    return load_jurisdiction(str(reference))


def awaiting_decision(store: EventStore, count: int, street: str = "鸳鸯") -> list[UUID]:
    """Children's applications reviewed by community and street, stored as their events."""
    found = []
    for _ in range(count):
        history = endorsed_child(street=street)
        with store.transaction() as unit:
            for version, event in enumerate(history):
                record(unit, Application(history[:version]), version, [event], causation_id=None)
        found.append(history[0].application_id)
    return found


def all_at_once(calls: Sequence[Callable[[], object]]) -> list[object]:
    """Each call on its own thread (and so its own transaction), all released together; what each returned
    or raised, in order."""
    start = threading.Barrier(len(calls))
    outcomes: list[object] = [None] * len(calls)

    def run(index: int) -> None:
        start.wait()
        try:
            outcomes[index] = calls[index]()
        except Exception as error:  # the outcome is what the test looks at
            outcomes[index] = error

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def approve_all_at_once(store: EventStore, jurisdiction: Jurisdiction, waiting: list[UUID]) -> list[object]:
    return all_at_once(
        [partial(in_a_unit, store, handlers.approve_application, jurisdiction, application_id, DECISION)
         for application_id in waiting]
    )  # fmt: skip


def test_concurrent_approvals_beyond_the_areas_places_leave_exactly_the_places_approved(
    store: EventStore, tmp_path: Path
) -> None:
    jurisdiction = jurisdiction_with_places(tmp_path, places=3)
    outcomes = approve_all_at_once(store, jurisdiction, awaiting_decision(store, 8))
    approved = [outcome for outcome in outcomes if isinstance(outcome, Application)]
    refused = [outcome for outcome in outcomes if not isinstance(outcome, Application)]
    assert len(approved) == 3, outcomes
    assert all(
        isinstance(error, StateConflict)
        and (error.status_code, error.code) == (409, "approval.approved_items.over_quota")
        for error in refused
    ), refused
    cards = sorted(
        application.decision.service_card_number
        for application in approved
        if isinstance(application.decision, ApplicationApproved)
    )
    assert cards == ["LJ2024-000001", "LJ2024-000002", "LJ2024-000003"]
    [use] = handlers.quota_uses(store, jurisdiction, 2024)
    assert (use.taken, use.remaining) == (3, 0)
    statuses = [application.status for application in handlers.list_applications(store)]
    assert sorted(statuses) == ["approved"] * 3 + ["awaiting_decision"] * 5


def test_concurrent_approvals_in_different_areas_all_succeed_with_distinct_cards(
    store: EventStore, tmp_path: Path
) -> None:
    jurisdiction = jurisdiction_with_places(tmp_path, places=2)
    waiting = awaiting_decision(store, 2) + awaiting_decision(store, 4, street="人和")  # 人和 has no quota
    outcomes = approve_all_at_once(store, jurisdiction, waiting)
    assert all(isinstance(outcome, Application) for outcome in outcomes), outcomes
    cards = {
        outcome.decision.service_card_number
        for outcome in outcomes
        if isinstance(outcome, Application) and isinstance(outcome.decision, ApplicationApproved)
    }
    assert len(cards) == 6


def test_a_store_older_than_the_projection_counts_its_earlier_approvals_on_the_first_approval(
    store: EventStore, tmp_path: Path
) -> None:
    jurisdiction = jurisdiction_with_places(tmp_path, places=2)
    first, second, third = awaiting_decision(store, 3)
    [elsewhere] = awaiting_decision(store, 1, street="人和")
    for application_id in (first, second):
        in_a_unit(store, handlers.approve_application, jurisdiction, application_id, DECISION)
    with store.transaction() as unit:  # as a store written before the projection existed
        unit.session.execute(delete(tables.approved_items))
        unit.session.execute(delete(tables.projection_builds))
    [use] = handlers.quota_uses(store, jurisdiction, 2024)
    assert use.taken == 2  # read from the events while the projection is not built
    with pytest.raises(StateConflict) as refused:
        in_a_unit(store, handlers.approve_application, jurisdiction, third, DECISION)
    assert refused.value.code == "approval.approved_items.over_quota"
    in_a_unit(
        store, handlers.approve_application, jurisdiction, elsewhere, DECISION
    )  # built, and kept with it
    with store.reading() as unit:
        assert unit.session.query(tables.approved_items).count() == 3
        assert unit.session.query(tables.projection_builds).count() == 1


def test_one_persons_concurrent_submissions_of_one_item_leave_one_application_holding_it(
    store: EventStore,
) -> None:
    person_id = uuid4()
    referral = referral_envelope(person_id, "low_vision_training")
    with store.transaction() as unit:
        handlers.on_referral_issued(unit, referral, ReferralIssued.model_validate(referral.payload))
    request = commands.submission(schemas.SubmitApplication.model_validate(application(person_id)))
    submit = partial(in_a_unit, store, handlers.submit_application, load_jurisdiction("liangjiang"), request)
    outcomes = all_at_once([submit] * 5)
    refused = [outcome for outcome in outcomes if not isinstance(outcome, Application)]
    assert len(refused) == 4, outcomes
    assert {getattr(error, "code", error) for error in refused} == {"approval.requested_items.already_held"}
    assert len(handlers.list_applications(store, person_id=person_id)) == 1


def test_concurrent_forms_of_different_persons_with_one_serial_number_leave_one_recorded(
    store: EventStore,
) -> None:
    people = [uuid4() for _ in range(4)]
    with store.transaction() as unit:
        for person_id in people:
            referral = referral_envelope(person_id, "low_vision_training")
            handlers.on_referral_issued(unit, referral, ReferralIssued.model_validate(referral.payload))
        serials.ensure_built(unit, list)  # built up front, as the approvals' projection above
    jurisdiction = load_jurisdiction("liangjiang")
    submits = [
        partial(
            in_a_unit,
            store,
            handlers.submit_application,
            jurisdiction,
            commands.submission(
                schemas.SubmitApplication.model_validate(application(person_id, serial_number="2024-777"))
            ),
        )
        for person_id in people
    ]
    outcomes = all_at_once(submits)
    refused = [outcome for outcome in outcomes if not isinstance(outcome, Application)]
    assert len(refused) == 3, outcomes
    assert {getattr(error, "code", error) for error in refused} == {"approval.serial_number.taken"}
    assert len(handlers.list_applications(store)) == 1
