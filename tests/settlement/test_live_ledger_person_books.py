"""The live ledger keeps the books of recent persons only (ADR 0021): a person's book is built again from
their facts in the log when needed, and the ledger, what is left unsettled, and every payment are what one
book over the whole history makes, whatever the number of books kept."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path

import orjson
import pytest
import redis
from alembic.config import main as alembic
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, text

from kernel.runtime import ServiceSettings
from kernel.store.schema import MIGRATIONS
from kernel.store.store import EventStore, create_store_engine
from services.settlement.app import create_app
from services.settlement.book.facts import Fact, InstitutionChanged
from services.settlement.book.policy import load_policies
from services.settlement.ledger import unsettled
from services.settlement.ledger.books import feed_facts
from services.settlement.ledger.fact_log import encode
from services.settlement.ledger.live import LiveLedger
from services.settlement.ledger.tables import facts_table, postings_table
from services.settlement.ledger.tables import metadata as ledger_metadata
from tests.settlement.settlement_builders import approved, assessed, item, recorded, surveyed

PERSONS = [f"p{number}" for number in range(1, 7)]
ORIENTATION = item("orientation_mobility_training", institution="lj-first-hospital")


@pytest.fixture
def store(tmp_path: Path) -> EventStore:
    store = EventStore(create_store_engine(f"sqlite:///{tmp_path}/settlement.db"), "settlement")
    store.create_schema(ledger_metadata, service="settlement")
    return store


def journeys() -> list[Fact]:
    """Six persons' years, taken a step of each person at a time: each person's next fact comes after the
    five others', so a ledger keeping two books builds every book again from the log."""
    steps: list[list[Fact]] = []
    for person in PERSONS:
        application = f"a-{person}"
        steps.append(
            [
                surveyed(person),
                assessed(person),
                approved(application=application, person=person),
                recorded(f"d-{person}", application=application, person=person),
                recorded(f"d2-{person}", application=f"never-approved-{person}", person=person),
            ]
        )
    return [step[turn] for turn in range(5) for step in steps]


def record(ledger: LiveLedger, store: EventStore, facts: Iterable[Fact]) -> None:
    for fact in facts:
        with store.transaction() as unit:
            ledger.record(unit, fact)


def ledger_of(engine: Engine) -> list[tuple[str, str, str, int]]:
    column = postings_table.c
    query = select(column.key, column.debit_account, column.credit_account, column.amount_fen)
    with engine.connect() as connection:
        return sorted(tuple(row) for row in connection.execute(query))


def made_by_one_book(facts: list[Fact]) -> tuple[list[tuple[str, str, str, int]], list[unsettled.Unsettled]]:
    book, postings = feed_facts(facts, load_policies())
    rows = sorted((p.key, p.debit_account, p.credit_account, p.amount_fen) for p in postings)
    return rows, book.unsettled()


def test_a_ledger_keeping_two_books_pays_six_persons_as_one_book_over_their_whole_history(store):
    facts = journeys()
    ledger = LiveLedger(load_policies(), persons_kept=2)

    record(ledger, store, facts)

    postings, left = made_by_one_book(facts)
    assert ledger_of(store.engine) == postings
    assert len(postings) == 6 * 4  # survey, management and assessment fees, and the support service
    assert unsettled.read(store.engine) == left
    assert [item.code for item in left] == ["awaiting_approval"] * 6
    assert len(ledger.kept_persons()) == 2
    assert ledger.loaded > 6 * 4  # every person's book was built again for each of their later facts


def test_one_transaction_feeding_more_persons_than_are_kept_keeps_them_all_until_it_commits(store):
    facts = journeys()
    ledger = LiveLedger(load_policies(), persons_kept=2)

    with store.transaction() as unit:
        for fact in facts:
            ledger.record(unit, fact)
        assert len(ledger.kept_persons()) == 6  # another transaction could not read their facts yet

    assert len(ledger.kept_persons()) == 2
    assert ledger_of(store.engine) == made_by_one_book(facts)[0]


def test_a_transaction_that_does_not_commit_drops_the_books_it_fed_and_the_redelivery_pays_once(store):
    ledger = LiveLedger(load_policies())
    record(ledger, store, [surveyed("p1"), assessed("p1")])
    approval = approved(application="a-p1", person="p1")

    with pytest.raises(RuntimeError), store.transaction() as unit:
        ledger.record(unit, approval)
        ledger.record(unit, recorded("d-p1", application="a-p1", person="p1"))
        raise RuntimeError("the commit fails")
    assert ledger.kept_persons() == []

    service = recorded("d-p1", application="a-p1", person="p1")
    record(ledger, store, [approval, service])
    assert ledger_of(store.engine) == made_by_one_book([surveyed("p1"), assessed("p1"), approval, service])[0]
    assert [key for key, *_ in ledger_of(store.engine)].count("support_service:p1:2024") == 1


def moved(application: str, on: date) -> InstitutionChanged:
    return InstitutionChanged(
        f"change-{application}", application, ORIENTATION.item, "lj-first-hospital", "lj-second-hospital", on
    )


def test_an_institution_change_logged_before_any_fact_of_its_application_is_the_persons_once_one_comes(
    store,
):
    change = moved("a-p1", date(2024, 11, 15))
    approval = approved(ORIENTATION, application="a-p1", person="p1")
    service = recorded(
        "d-p1",
        application="a-p1",
        person="p1",
        item_code=ORIENTATION.item,
        institution="lj-second-hospital",
        on=date(2024, 12, 20),
    )
    ledger = LiveLedger(load_policies(), persons_kept=1)

    record(ledger, store, [change, surveyed("p2"), approval, surveyed("p3"), service])

    assert (
        ledger_of(store.engine)
        == made_by_one_book([change, surveyed("p2"), approval, surveyed("p3"), service])[0]
    )
    paid_to = {
        credit for key, _debit, credit, _amount in ledger_of(store.engine) if key.startswith("service_")
    }
    assert paid_to == {"service_institution:lj-second-hospital"}
    with store.engine.connect() as connection:
        person = connection.scalar(
            select(facts_table.c.person).where(facts_table.c.event_id == change.event_id)
        )
    assert person == "p1"


def test_what_is_left_unsettled_is_read_from_the_store_by_a_ledger_that_has_fed_nothing(store):
    facts = journeys()
    record(LiveLedger(load_policies()), store, facts)

    assert LiveLedger(load_policies()).kept_persons() == []
    assert unsettled.read(store.engine) == made_by_one_book(facts)[1]


# -- a store of the release before ---------------------------------------------------------------------
def migrate(url: str, target: str) -> None:
    ini = str(MIGRATIONS.parent / "alembic.ini")
    alembic(["-c", ini, "-x", f"url={url}", "upgrade", "kernel@head"])
    alembic(["-c", ini, "-x", f"url={url}", "upgrade", target])


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'settlement.db'}"
    return str(request.getfixturevalue("empty_postgres_url"))


def logged_by_the_release_before(url: str, facts: list[Fact]) -> None:
    engine = create_store_engine(url)
    with engine.begin() as connection:
        for fact in facts:
            connection.execute(
                text("INSERT INTO settlement_facts (event_id, fact) VALUES (:event_id, :fact)"),
                {"event_id": fact.event_id, "fact": encode(fact)},
            )
    engine.dispose()


def test_the_upgrade_names_the_person_of_every_logged_fact_an_institution_change_by_its_application(
    empty_url: str,
) -> None:
    change = moved("a-p1", date(2024, 11, 15))
    facts: list[Fact] = [change, surveyed("p1"), approved(ORIENTATION, application="a-p1", person="p1")]
    migrate(empty_url, "settlement_0001")
    logged_by_the_release_before(empty_url, facts)

    migrate(empty_url, "settlement@head")

    engine = create_store_engine(empty_url)
    column = facts_table.c
    with engine.connect() as connection:
        rows = connection.execute(select(column.event_id, column.person, column.application)).all()
    engine.dispose()
    assert sorted(tuple(row) for row in rows) == sorted(
        [(change.event_id, "p1", "a-p1"), (facts[1].event_id, "p1", None), (facts[2].event_id, "p1", "a-p1")]
    )


@pytest.fixture
def upgraded(tmp_path: Path) -> Iterator[tuple[str, list[Fact]]]:
    url = f"sqlite:///{tmp_path / 'settlement.db'}"
    facts = journeys()
    migrate(url, "settlement_0001")
    logged_by_the_release_before(url, facts)
    yield url, facts


def test_a_service_started_on_an_upgraded_store_lists_what_its_log_leaves_unsettled(
    upgraded: tuple[str, list[Fact]], redis_url: str, redis_client: redis.Redis, monkeypatch
) -> None:
    url, facts = upgraded
    monkeypatch.setattr(
        "services.settlement.ledger.fact_log.covers_archive", lambda *_args: True
    )  # a log, no archive
    settings = ServiceSettings(service="settlement", database_url=url, redis_url=redis_url)

    with TestClient(create_app(settings)) as client:
        listed = client.get("/ledger/unsettled").json()

    expected = made_by_one_book(facts)[1]
    assert [(entry["subject"], entry["code"], entry["person_id"]) for entry in listed] == [
        (item.subject, item.code, item.person) for item in expected
    ]
    assert all(orjson.dumps(entry["source_event_ids"]) for entry in listed)
