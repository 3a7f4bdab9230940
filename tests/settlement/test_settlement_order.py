"""Postings are a function of the facts, not of the order the four streams deliver them in."""

from __future__ import annotations

import random
from datetime import date

import pytest

from services.settlement.book.dues import Posting, Unsettled
from services.settlement.book.facts import Fact
from services.settlement.book.policy import load_policies
from services.settlement.book.settlement_book import SettlementBook
from tests.settlement.settlement_builders import (
    CITY_ASSESSOR,
    EYE_HOSPITAL,
    approved,
    assessed,
    item,
    recorded,
    refused,
    surveyed,
)

POLICIES = load_policies()
SEEDS = range(8)


def settle(facts: list[Fact]) -> tuple[list[Posting], list[Unsettled]]:
    book = SettlementBook(POLICIES)
    postings = [posting for fact in facts for posting in book.feed(fact)]
    return sorted(postings, key=lambda posting: posting.key), book.unsettled()


def one_fact_per_payment(rng: random.Random, persons: int = 12) -> list[Fact]:
    """A year of facts where every payment has exactly one fact (or pair of facts) that makes it due."""
    facts: list[Fact] = []
    for number in range(persons):
        person, application = f"p{number}", f"a{number}"
        street = rng.choice(["鸳鸯", "人和", "礼嘉"])
        survey_day = date(2024, 10, rng.randint(1, 31))
        facts.append(surveyed(person, has_needs=rng.random() < 0.8, street=street, on=survey_day))
        if rng.random() < 0.8:
            city = rng.random() < 0.3
            institution, level = (CITY_ASSESSOR, "city") if city else ("lj-assess-first-hospital", "district")
            assessment_day = date(2024, 11, rng.randint(1, 30))
            facts.append(assessed(person, institution=institution, level=level, on=assessment_day))
        fate = rng.choice(["approved", "approved", "refused", "pending"])
        if fate == "approved":
            fixed = item("low_vision_training", EYE_HOSPITAL, "fixed_amount", rng.randint(1, 9) * 10000)
            support = item("support_service_mental")
            facts.append(approved(support, fixed, application=application, person=person))
        elif fate == "refused":
            facts.append(refused(application, person))
        facts.append(recorded(f"d{number}-1", application=application, person=person))
        charge = rng.randint(0, 20) * 10000
        facts.append(
            recorded(
                f"d{number}-2",
                application=application,
                person=person,
                item_code="low_vision_training",
                institution=EYE_HOSPITAL,
                charge_fen=charge,
                insurance_paid_fen=rng.randint(0, charge),
            )
        )
    return facts


@pytest.mark.parametrize("seed", SEEDS)
def test_any_arrival_order_of_the_same_facts_gives_the_same_postings(seed):
    facts = one_fact_per_payment(random.Random(1000 + seed))
    shuffled = facts[:]
    random.Random(seed).shuffle(shuffled)
    expected_postings, expected_unsettled = settle(facts)
    postings, unsettled = settle(shuffled)
    assert postings == expected_postings
    assert unsettled == expected_unsettled
    assert len(expected_postings) > 20


def streams_with_competing_facts() -> dict[str, list[Fact]]:
    """Each stream in its own order, with several facts competing for the same payment."""
    return {
        "survey": [
            surveyed("p1", has_needs=False, street="鸳鸯", event_id="s1"),
            surveyed("p1", has_needs=True, street="人和", event_id="s2"),
            surveyed("p2", has_needs=True, event_id="s3"),
            surveyed("p2", has_needs=True, event_id="s4"),
        ],
        "assessment": [
            assessed("p1", institution=CITY_ASSESSOR, level="city", event_id="as1"),
            assessed("p1", event_id="as2"),
            assessed("p2", event_id="as3"),
            assessed("p2", institution="lj-assess-second-hospital", event_id="as4"),
        ],
        "approval": [
            approved(item("low_vision_training", EYE_HOSPITAL, "fixed_amount", 100000), event_id="ap1"),
            approved(item("support_service_mental"), application="a2", person="p2", event_id="ap2"),
        ],
        "delivery": [
            recorded("d1", item_code="low_vision_training", institution=EYE_HOSPITAL, charge_fen=60000),
            recorded("d2", item_code="low_vision_training", institution=EYE_HOSPITAL, charge_fen=60000),
            recorded("d3", application="a2", person="p2"),
            recorded("d4", application="a2", person="p2"),
            recorded("d5", item_code="low_vision_training", institution=EYE_HOSPITAL, charge_fen=60000),
        ],
    }


def interleave(streams: dict[str, list[Fact]], rng: random.Random) -> list[Fact]:
    """A random merge that keeps each stream's own order, as four consumers would deliver them."""
    queues = {name: list(facts) for name, facts in streams.items()}
    merged: list[Fact] = []
    while any(queues.values()):
        name = rng.choice([name for name, queue in queues.items() if queue])
        merged.append(queues[name].pop(0))
    return merged


@pytest.mark.parametrize("seed", SEEDS)
def test_any_interleaving_of_the_four_streams_gives_the_same_postings(seed):
    streams = streams_with_competing_facts()
    in_workflow_order = [fact for facts in streams.values() for fact in facts]
    expected, _ = settle(in_workflow_order)
    postings, _ = settle(interleave(streams, random.Random(seed)))
    assert postings == expected


def test_competing_facts_pay_each_fee_once_to_the_first_in_its_stream():
    postings, _ = settle([fact for facts in streams_with_competing_facts().values() for fact in facts])
    paid = {p.key: (p.credit_account, p.amount_fen, p.source_event_ids) for p in postings}
    assert paid["survey_fee:p1:2024"] == ("street:鸳鸯", 3000, ("s1",))
    assert paid["management_fee:p1:2024"] == ("street:人和", 3000, ("s2", "as1"))
    first_assessor = "assessment_institution:lj-assess-first-hospital"
    assert paid["assessment_fee:p1:2024"] == (first_assessor, 3000, ("as2",))
    assert paid["assessment_fee:p2:2024"][2] == ("as3",)
    assert paid["management_fee:p2:2024"][2] == ("s3", "as3")
    assert paid["service_subsidy:d1"][1:2] == (60000,)
    assert paid["service_subsidy:d2"][1:2] == (40000,)
    assert "service_subsidy:d5" not in paid
    support = [key for key in paid if key.startswith("support_service")]
    assert support == ["support_service:p2:2024"]
