"""Corrections never rewrite history: top-ups and claw-backs dated the day they arrive (ADR 0006)."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from services.settlement.book.dues import Posting
from services.settlement.book.facts import Fact, InstitutionChanged
from services.settlement.book.policy import load_policies
from services.settlement.book.settlement_book import SettlementBook
from tests.settlement.settlement_builders import (
    DISTRICT_ASSESSOR,
    EYE_HOSPITAL,
    FUND,
    approved,
    assessed,
    item,
    recorded,
    surveyed,
)

POLICIES = load_policies()
ARRIVED = date(2024, 12, 28)
"""The day the corrections below were recorded: their adjustments carry this date."""


def feed(book: SettlementBook, *facts: Fact) -> list[Posting]:
    return [posting for fact in facts for posting in book.feed(fact)]


def moves(postings: list[Posting]) -> list[tuple[str, str, str, int, date]]:
    return [(p.rule, p.debit_account, p.credit_account, p.amount_fen, p.business_date) for p in postings]


def balances(postings: list[Posting]) -> dict[str, int]:
    """What each account received (credits - debits), without accounts at zero."""
    totals: dict[str, int] = {}
    for posting in postings:
        totals[posting.credit_account] = totals.get(posting.credit_account, 0) + posting.amount_fen
        totals[posting.debit_account] = totals.get(posting.debit_account, 0) - posting.amount_fen
    return {account: amount for account, amount in sorted(totals.items()) if amount != 0}


def corrected_survey(**changes: Any):
    return replace(surveyed("p1", event_id="s2"), supersedes="s1", recorded_on=ARRIVED, **changes)


# -- surveys ------------------------------------------------------------------------------------------
def test_a_corrected_survey_naming_another_street_claws_back_from_the_first_and_pays_the_second():
    book = SettlementBook(POLICIES)
    [paid] = feed(book, surveyed("p1", street="鸳鸯", event_id="s1"))
    adjustments = feed(book, corrected_survey(street="人和"))
    assert moves(adjustments) == [
        ("survey_fee_adjustment", FUND, "street:人和", 3000, ARRIVED),
        ("survey_fee_adjustment", "street:鸳鸯", FUND, 3000, ARRIVED),  # claw-back: the payee pays back
    ]
    claw_back = next(p for p in adjustments if p.debit_account == "street:鸳鸯")
    assert claw_back.inputs["adjustment"] == "claw_back"
    assert claw_back.inputs["correcting_event_id"] == "s2"
    assert claw_back.inputs["adjusts_posting_ids"] == [str(paid.posting_id)]
    assert claw_back.source_event_ids == ("s2", "s1")
    assert balances([paid, *adjustments]) == {"street:人和": 3000, FUND: -3000}
    assert paid.business_date == date(2024, 10, 15)  # the first posting stays as it was


def test_a_corrected_survey_without_needs_claws_back_the_management_fee_and_keeps_the_survey_fee():
    book = SettlementBook(POLICIES)
    first = feed(book, surveyed("p1", event_id="s1"), assessed("p1"))
    assert sorted(p.rule for p in first) == ["assessment_fee", "management_fee", "survey_fee"]
    adjustments = feed(book, corrected_survey(has_needs=False))
    assert moves(adjustments) == [("management_fee_adjustment", "street:鸳鸯", FUND, 3000, ARRIVED)]
    assert balances(first + adjustments) == {
        f"assessment_institution:{DISTRICT_ASSESSOR}": 3000,
        "street:鸳鸯": 3000,
        FUND: -6000,
    }


def test_a_correction_that_changes_nothing_paid_posts_nothing():
    book = SettlementBook(POLICIES)
    feed(book, surveyed("p1", event_id="s1"), assessed("p1"))
    assert feed(book, corrected_survey(surveyed_on=date(2024, 10, 16))) == []


def test_a_survey_moved_to_another_year_claws_back_the_old_year_and_pays_the_new_one_as_a_first_payment():
    book = SettlementBook(POLICIES)
    feed(book, surveyed("p1", event_id="s1"))
    postings = feed(book, corrected_survey(year=2025, surveyed_on=date(2025, 1, 5)))
    assert [(p.key, p.rule, p.amount_fen, p.business_date) for p in postings] == [
        (f"survey_fee:p1:2024|adjustment:s2|street:鸳鸯|{FUND}", "survey_fee_adjustment", 3000, ARRIVED),
        ("survey_fee:p1:2025", "survey_fee", 3000, date(2025, 1, 5)),  # nothing was paid for 2025 yet
    ]


# -- service records ---------------------------------------------------------------------------------
LOW_VISION = item("low_vision_training", EYE_HOSPITAL, "fixed_amount", 100000)
"""Fixed amount 1,000 yuan: the subsidy covers the self-paid part up to it."""


def low_vision(delivery: str, charge_fen: int, insurance_paid_fen: int = 0, **changes: Any):
    record = recorded(
        delivery,
        item_code="low_vision_training",
        institution=EYE_HOSPITAL,
        charge_fen=charge_fen,
        insurance_paid_fen=insurance_paid_fen,
    )
    return replace(record, **changes)


def test_a_service_record_corrected_to_a_higher_charge_is_topped_up_to_the_new_self_paid_part():
    book = SettlementBook(POLICIES)
    [paid] = feed(book, approved(LOW_VISION), low_vision("d1", 60000))
    assert paid.amount_fen == 60000
    # 800 - 100 insurance = 700 yuan self-paid, under the 1,000 cap: 100 yuan more is due.
    [top_up] = feed(book, low_vision("d1", 80000, 10000, event_id="d1-fix", recorded_on=ARRIVED))
    assert moves([top_up]) == [
        ("service_subsidy_adjustment", FUND, f"service_institution:{EYE_HOSPITAL}", 10000, ARRIVED)
    ]
    assert top_up.inputs["posted_before_fen"] == 60000
    assert top_up.inputs["due_now_fen"] == 70000
    assert top_up.inputs["adjusts_posting_ids"] == [str(paid.posting_id)]
    # Corrected again to 300 yuan: 700 paid so far, 400 yuan clawed back.
    [claw_back] = feed(book, low_vision("d1", 30000, event_id="d1-fix-2", recorded_on=ARRIVED))
    assert moves([claw_back]) == [
        ("service_subsidy_adjustment", f"service_institution:{EYE_HOSPITAL}", FUND, 40000, ARRIVED)
    ]
    assert claw_back.inputs["adjusts_posting_ids"] == [str(paid.posting_id), str(top_up.posting_id)]


def test_lowering_the_first_record_of_a_capped_item_leaves_more_of_the_cap_to_the_second():
    book = SettlementBook(POLICIES)
    paid = feed(book, approved(LOW_VISION), low_vision("d1", 60000), low_vision("d2", 60000))
    assert [p.amount_fen for p in paid] == [60000, 40000]  # the cap of 1,000 yuan is used up
    adjustments = feed(book, low_vision("d1", 20000, event_id="d1-fix", recorded_on=ARRIVED))
    # d1 now 200: claw back 400; d2 may now take min(600, 1000 - 200) = 600: top up 200.
    assert [(p.key.split("|")[0], p.inputs["adjustment"], p.amount_fen) for p in adjustments] == [
        ("service_subsidy:d1", "claw_back", 40000),
        ("service_subsidy:d2", "top_up", 20000),
    ]
    assert all(p.inputs["correcting_event_id"] == "d1-fix" for p in adjustments)
    assert balances(paid + adjustments)[f"service_institution:{EYE_HOSPITAL}"] == 80000


# -- approvals ---------------------------------------------------------------------------------------
def test_an_approval_whose_fixed_amount_changed_tops_up_then_claws_back_the_difference():
    book = SettlementBook(POLICIES)
    [paid] = feed(book, approved(LOW_VISION, event_id="ap1"), low_vision("d1", 150000))
    assert paid.amount_fen == 100000
    raised = approved(item("low_vision_training", EYE_HOSPITAL, "fixed_amount", 120000), event_id="ap2")
    [top_up] = feed(book, replace(raised, recorded_on=ARRIVED))
    assert (top_up.inputs["adjustment"], top_up.amount_fen) == ("top_up", 20000)
    assert top_up.business_date == ARRIVED
    assert top_up.source_event_ids[0] == "ap2"
    lowered = approved(item("low_vision_training", EYE_HOSPITAL, "fixed_amount", 80000), event_id="ap3")
    [claw_back] = feed(book, replace(lowered, recorded_on=ARRIVED))
    assert (claw_back.inputs["adjustment"], claw_back.amount_fen) == ("claw_back", 40000)
    assert balances([paid, top_up, claw_back])[f"service_institution:{EYE_HOSPITAL}"] == 80000


def test_an_approval_that_drops_a_paid_item_claws_the_whole_payment_back():
    book = SettlementBook(POLICIES)
    paid = feed(book, approved(item("support_service_mental"), event_id="ap1"), recorded("d1"))
    assert [p.amount_fen for p in paid] == [20000]
    dropped = approved(LOW_VISION, event_id="ap2", on=date(2024, 11, 2))
    [claw_back] = feed(book, replace(dropped, recorded_on=ARRIVED))
    assert (claw_back.rule, claw_back.inputs["adjustment"], claw_back.amount_fen) == (
        "support_service_adjustment",
        "claw_back",
        20000,
    )
    assert balances([*paid, claw_back]) == {}


# -- institution changes -------------------------------------------------------------------------------
ORIENTATION = item("orientation_mobility_training", institution="lj-first-hospital")


def change(on: date, event_id: str = "change-1") -> InstitutionChanged:
    return InstitutionChanged(
        event_id,
        "a1",
        "orientation_mobility_training",
        "lj-first-hospital",
        "lj-second-hospital",
        on,
        recorded_on=ARRIVED,
    )


def orientation(delivery: str, institution: str, on: date):
    return recorded(delivery, item_code="orientation_mobility_training", institution=institution, on=on)


def test_an_institution_change_arriving_after_payment_claws_back_a_record_signed_after_the_change():
    book = SettlementBook(POLICIES)
    paid = feed(book, approved(ORIENTATION), orientation("d1", "lj-first-hospital", date(2024, 12, 20)))
    assert moves(paid)[0][2:4] == ("service_institution:lj-first-hospital", 50000)
    [claw_back] = feed(book, change(on=date(2024, 11, 15)))
    assert moves([claw_back]) == [
        ("service_subsidy_adjustment", "service_institution:lj-first-hospital", FUND, 50000, ARRIVED)
    ]
    assert claw_back.source_event_ids[0] == "change-1"
    [note] = book.unsettled()
    assert note.code == "other_institution"
    assert "机构变更把「盲人定向行走及适应训练」转到lj-second-hospital" in note.reason


def test_an_institution_change_keeps_what_the_old_institution_delivered_before_it():
    book = SettlementBook(POLICIES)
    feed(book, approved(ORIENTATION), orientation("d1", "lj-first-hospital", date(2024, 11, 10)))
    assert feed(book, change(on=date(2024, 11, 15))) == []


# -- order --------------------------------------------------------------------------------------------
LOWER_CAP = item("low_vision_training", EYE_HOSPITAL, "fixed_amount", 70000)


def streams_with_corrections() -> dict[str, list[Fact]]:
    """Each stream in its own order, corrections after what they correct."""
    return {
        "survey": [surveyed("p1", event_id="s1"), corrected_survey(street="人和", has_needs=False)],
        "assessment": [assessed("p1", event_id="as1")],
        "approval": [
            approved(LOW_VISION, event_id="ap1"),
            replace(approved(LOWER_CAP, event_id="ap2"), recorded_on=ARRIVED),
        ],
        "delivery": [
            low_vision("d1", 60000),
            low_vision("d2", 60000),
            low_vision("d1", 30000, event_id="d1-fix", recorded_on=ARRIVED),
        ],
    }


def interleave(streams: dict[str, list[Fact]], rng: random.Random) -> list[Fact]:
    queues = {name: list(facts) for name, facts in streams.items()}
    merged: list[Fact] = []
    while any(queues.values()):
        name = rng.choice([name for name, queue in queues.items() if queue])
        merged.append(queues[name].pop(0))
    return merged


@pytest.mark.parametrize("seed", range(12))
def test_what_each_payee_receives_in_the_end_does_not_depend_on_how_the_streams_interleave(seed):
    streams = streams_with_corrections()
    postings = feed(SettlementBook(POLICIES), *interleave(streams, random.Random(seed)))
    # survey fee 30 to 人和 (the corrected street), no management fee (no needs after correction),
    # assessment fee 30; low vision: d1 300 + d2 min(600, 700 - 300) = 400 of the corrected 700 cap.
    assert balances(postings) == {
        f"assessment_institution:{DISTRICT_ASSESSOR}": 3000,
        f"service_institution:{EYE_HOSPITAL}": 70000,
        "street:人和": 3000,
        FUND: -76000,
    }


def test_the_same_facts_in_the_same_order_give_byte_identical_adjustments():
    facts = interleave(streams_with_corrections(), random.Random(3))
    assert feed(SettlementBook(POLICIES), *facts) == feed(SettlementBook(POLICIES), *facts)
