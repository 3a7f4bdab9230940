"""A replay settled person by person (a fresh book per group of persons) posts what one book posts."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from kernel.store.store import create_store_engine
from kernel.store.store import metadata as kernel_metadata
from services.settlement.book.dues import Posting
from services.settlement.book.facts import Fact, InstitutionChanged
from services.settlement.book.policy import load_policies
from services.settlement.ledger import fact_log, person_order, replay
from services.settlement.ledger.books import feed_facts
from services.settlement.ledger.person_order import fold_facts, settle_by_person
from services.settlement.ledger.replay import rebuild_ledger
from services.settlement.ledger.report import report_of
from services.settlement.ledger.tables import facts_table, postings_table
from services.settlement.ledger.tables import metadata as ledger_metadata
from tests.settlement.settlement_builders import approved, assessed, item, recorded, refused, surveyed

POLICIES = load_policies()
ARRIVED = date(2025, 1, 10)
ORIENTATION = item("orientation_mobility_training", institution="lj-first-hospital")


def journeys() -> list[Fact]:
    """Four persons' facts interleaved as four streams deliver them, with corrections of each kind."""
    facts: list[Fact] = []
    for number in range(1, 5):
        person, application, delivery = f"p{number}", f"a{number}", f"d{number}"
        facts += [
            surveyed(person, event_id=f"s-{person}"),
            assessed(person, event_id=f"as-{person}"),
            approved(ORIENTATION, application=application, person=person, event_id=f"ap-{person}"),
            recorded(
                delivery,
                application=application,
                person=person,
                item_code="orientation_mobility_training",
                institution="lj-first-hospital",
                event_id=f"r-{person}",
            ),
        ]
    corrected = recorded(
        "d2",
        application="a2",
        person="p2",
        item_code="orientation_mobility_training",
        institution="lj-first-hospital",
        charge_fen=30000,
        event_id="r-p2-corrected",
    )
    moved = InstitutionChanged(
        "change-a3", "a3", "orientation_mobility_training", "lj-first-hospital", "lj-second-hospital",
        date(2024, 11, 15), recorded_on=ARRIVED,
    )  # fmt: skip
    resurveyed = replace(surveyed("p4", has_needs=False, event_id="s-p4-again"), supersedes="s-p4")
    facts += [replace(corrected, recorded_on=ARRIVED), moved, resurveyed, refused("a5", person="p5")]
    facts.insert(3, surveyed("p5", event_id="s-p5"))  # persons interleave
    return facts


def by_key(postings: list[Posting]) -> list[Posting]:
    return sorted(postings, key=lambda posting: posting.key)


def settled_by_person(facts: list[Fact]) -> tuple[list[Posting], person_order.Settled]:
    postings: list[Posting] = []
    settled = settle_by_person(facts, POLICIES, postings.extend)
    return postings, settled


@pytest.fixture
def a_book_per_person(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(person_order, "GROUP_FACTS", 1)


@pytest.mark.usefixtures("a_book_per_person")
def test_a_fresh_book_per_person_posts_the_same_postings_and_leaves_the_same_facts_unsettled() -> None:
    facts = journeys()
    book, expected = feed_facts(facts, POLICIES)

    postings, settled = settled_by_person(facts)

    assert settled.by_person
    assert (settled.facts, settled.unsettled) == (len(facts), len(book.unsettled()))
    assert by_key(postings) == by_key(expected)
    assert any(posting.rule.endswith("_adjustment") for posting in postings)  # the corrections posted


@pytest.mark.usefixtures("a_book_per_person")
def test_an_institution_change_is_settled_with_the_person_of_its_application() -> None:
    facts = journeys()
    _book, expected = feed_facts(facts, POLICIES)
    claw_backs = [posting for posting in expected if posting.source_event_ids[0] == "change-a3"]
    assert claw_backs  # the change claws back p3's record signed after it

    postings, _settled = settled_by_person(facts)

    assert [posting for posting in postings if posting.source_event_ids[0] == "change-a3"] == claw_backs


@pytest.mark.usefixtures("a_book_per_person")
def test_an_application_naming_two_persons_is_settled_in_one_book_in_arrival_order() -> None:
    stray = recorded("d9", application="a1", person="p2", event_id="r-stray")
    facts = [*journeys(), stray]
    book, expected = feed_facts(facts, POLICIES)

    postings, settled = settled_by_person(facts)

    assert not settled.by_person
    assert by_key(postings) == by_key(expected)
    assert settled.unsettled == len(book.unsettled())


@pytest.mark.usefixtures("a_book_per_person")
def test_folded_totals_person_by_person_equal_the_totals_of_one_book() -> None:
    facts = journeys()
    _book, expected = feed_facts(facts, POLICIES)

    settled, report = fold_facts(facts, POLICIES)

    assert report == report_of(expected)
    assert settled.facts == len(facts)


@pytest.mark.usefixtures("a_book_per_person")
def test_rebuilding_the_stored_ledger_person_by_person_stores_the_postings_of_one_book(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = create_store_engine(f"sqlite:///{tmp_path}/settlement.db")
    facts = journeys()
    with engine.begin() as connection:
        kernel_metadata.create_all(connection)
        ledger_metadata.create_all(connection)
        fact_log.rewrite(connection, facts_table, facts)
    monkeypatch.setattr(replay, "covers_archive", lambda *_args: True)  # a log without its archive

    report = rebuild_ledger(engine, POLICIES)

    _book, expected = feed_facts(facts, POLICIES)
    with engine.connect() as connection:
        stored = sorted(connection.execute(select(postings_table.c.key, postings_table.c.amount_fen)).all())
    assert stored == sorted((posting.key, posting.amount_fen) for posting in expected)
    assert report == report_of(expected)


@pytest.mark.usefixtures("a_book_per_person")
def test_a_delivery_recorded_for_two_persons_is_settled_in_one_book_in_arrival_order() -> None:
    stray = recorded(
        "d1",
        application="a9",
        person="p2",
        item_code="orientation_mobility_training",
        institution="lj-first-hospital",
        event_id="r-stray",
    )
    facts = [*journeys(), stray]
    book, expected = feed_facts(facts, POLICIES)

    postings, settled = settled_by_person(facts)

    assert not settled.by_person
    assert by_key(postings) == by_key(expected)
    assert settled.unsettled == len(book.unsettled())


@pytest.mark.usefixtures("a_book_per_person")
def test_a_second_rebuild_on_the_same_connection_finds_no_temporary_table_of_the_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = create_store_engine(f"sqlite:///{tmp_path}/settlement.db")  # one pooled connection, reused
    facts = journeys()
    with engine.begin() as connection:
        kernel_metadata.create_all(connection)
        ledger_metadata.create_all(connection)
        fact_log.rewrite(connection, facts_table, facts)
    monkeypatch.setattr(replay, "covers_archive", lambda *_args: True)

    first = rebuild_ledger(engine, POLICIES)
    second = rebuild_ledger(engine, POLICIES)

    assert first == second == report_of(feed_facts(facts, POLICIES)[1])


def test_a_rebuild_leaves_the_connections_secure_delete_as_it_found_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = create_store_engine(f"sqlite:///{tmp_path}/settlement.db")  # one pooled connection, reused
    with engine.begin() as connection:
        kernel_metadata.create_all(connection)
        ledger_metadata.create_all(connection)
        fact_log.rewrite(connection, facts_table, journeys())
        connection.exec_driver_sql("PRAGMA secure_delete = ON")
    monkeypatch.setattr(replay, "covers_archive", lambda *_args: True)

    rebuild_ledger(engine, POLICIES)
    rebuild_ledger(engine, POLICIES)  # the second drops a ledger with rows

    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA main.secure_delete").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA temp.secure_delete").scalar() == 1


@pytest.mark.usefixtures("a_book_per_person")
def test_a_fact_failing_mid_replay_fails_the_rebuild_with_its_own_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = create_store_engine(f"sqlite:///{tmp_path}/settlement.db")
    with engine.begin() as connection:
        kernel_metadata.create_all(connection)
        ledger_metadata.create_all(connection)
        fact_log.rewrite(connection, facts_table, journeys())
    monkeypatch.setattr(replay, "covers_archive", lambda *_args: True)

    def unreadable(_row: list[object]) -> Fact:
        raise ValueError("a row this codec cannot read")

    monkeypatch.setitem(person_order._DECODERS, "recorded", unreadable)

    with pytest.raises(ValueError, match="a row this codec cannot read"):
        rebuild_ledger(engine, POLICIES)
