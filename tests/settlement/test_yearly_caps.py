"""A cap 每人每年 holds per person and year across the person's applications (issue 13 rules 5 and 8, the
part left undone): Shapingba's inpatient allowance, medical aid, medication and children's training, a
second application in the same year paying only what the first left, corrections moving the room between
them, and a replay settled person by person paying the same. Every expected figure is computed by hand
from seed 002 (沙府办发〔2023〕100号), never read from the policy file.

The seed's year is 「全年」, the programme's calendar year (its tasks are scheduled 「1-11月」, 「全年」); a
record counts in its 服务年度, the year of the application it must match (附件2's 年度)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from services.settlement.book.dues import Posting
from services.settlement.book.facts import ApprovedItem, Fact, ItemsApproved, PersonSurveyed, ServiceRecorded
from services.settlement.book.policy import load_policies
from services.settlement.book.settlement_book import SettlementBook
from services.settlement.ledger import person_order
from services.settlement.ledger.books import feed_facts
from services.settlement.ledger.person_order import settle_by_person

POLICIES = load_policies()
CENTRE = "spb-children-centre"
MENTAL = "spb-mental-health-centre"
HOSPITAL = "spb-general-hospital"
INPATIENT = "mental_inpatient_aid"
MEDICAL_AID = "inpatient_medical_aid"
FAMILY_AID = "family_inpatient_medical_aid"
MEDICATION = "mental_medication_aid"
TRAINING = "children_rehab_training"


def surveyed(person: str, birth_month: str, categories: str, year: int = 2024) -> PersonSurveyed:
    """A 低保 person surveyed on 1 February: 困难 as every capped measure asks."""
    return PersonSurveyed(
        f"sv-{person}-{year}", person, year, "小龙坎", True, date(year, 2, 1), birth_month=birth_month,
        categories=categories, economic_status="subsistence_allowance", certified=True,
    )  # fmt: skip


def approved(
    application: str,
    item: str,
    institution: str,
    *,
    person: str = "p1",
    year: int = 2024,
    mode: str = "free",
    amount_fen: int | None = None,
) -> ItemsApproved:
    items = (ApprovedItem(item, institution, mode, amount_fen),)
    return ItemsApproved(
        f"ap-{application}", application, person, year, items, date(year, 2, 20), area="小龙坎"
    )


def recorded(
    delivery: str,
    application: str,
    item: str,
    institution: str,
    *,
    charge_fen: int,
    insurance_paid_fen: int = 0,
    person: str = "p1",
    year: int = 2024,
    month: int = 3,
) -> ServiceRecorded:
    start, end = date(year, month, 1), date(year, month, 28)
    return ServiceRecorded(
        f"rec-{delivery}", delivery, application, person, item, institution, year, charge_fen,
        insurance_paid_fen, True, end, period_start=start, period_end=end,
    )  # fmt: skip


def settle(*facts: Fact) -> tuple[SettlementBook, list[Posting]]:
    book = SettlementBook(POLICIES, jurisdiction="shapingba")
    postings: list[Posting] = []
    for fact in facts:
        postings += book.feed(fact)
    return book, postings


def paid(postings: list[Posting]) -> dict[str, int]:
    """Net fen paid per service record (claw-backs less), by delivery."""
    net: dict[str, int] = {}
    for posting in postings:
        if posting.rule.startswith("service_subsidy"):
            delivery = str(posting.inputs["delivery_id"])
            sign = -1 if posting.inputs.get("adjustment") == "claw_back" else 1
            net[delivery] = net.get(delivery, 0) + sign * posting.amount_fen
    return net


# 002 三(一)3 「对特殊困难、确实需要住院治疗精神残疾人给予最高5000元/年/人住院补贴」: a stay of 3,000 yuan
# in one application, then one of 4,000 yuan in a second application the same year: 3,000 + 2,000 yuan,
# never 3,000 + 4,000.
def test_a_second_applications_inpatient_stay_is_paid_only_what_is_left_of_5000_yuan_a_year() -> None:
    book, postings = settle(
        surveyed("p1", "1980-05", "mental"),
        approved("a1", INPATIENT, MENTAL),
        recorded("d1", "a1", INPATIENT, MENTAL, charge_fen=300_000),
        approved("a2", INPATIENT, MENTAL),
        recorded("d2", "a2", INPATIENT, MENTAL, charge_fen=400_000, month=9),
    )
    assert paid(postings) == {"d1": 300_000, "d2": 200_000}
    [second] = [p for p in postings if p.inputs["delivery_id"] == "d2"]
    assert (second.inputs["yearly_cap_fen"], second.inputs["paid_this_year_fen"]) == (500_000, 300_000)
    # A third stay that year finds the 5,000 yuan used up, and says so.
    more = book.feed(approved("a3", INPATIENT, MENTAL)) + book.feed(
        recorded("d3", "a3", INPATIENT, MENTAL, charge_fen=100_000, month=11)
    )
    assert paid(more) == {}
    code, reason = next((u.code, u.reason) for u in book.unsettled() if u.subject == "d3")
    assert code == "nothing_to_pay"
    assert (
        reason == "「精神残疾人住院补贴」每人每年最高 5,000.00 元，本年度已支付 5,000.00 元，补助上限已用完"
    )


# 002 三(四)9 「对因病住院的困难残疾人住院发票费用自付部分，给予80%的补贴，全年最高补贴不超过1万元。对患重大
# 疾病的困难残疾人配偶及未成年子女住院发票费用自付部分，给予80%的补贴，全年最高补贴不超过0.3万元」.
def test_medical_aid_holds_10000_yuan_a_year_over_two_applications_and_starts_again_next_year() -> None:
    # 2024: 20,000 - 12,000 = 8,000 yuan self-paid, 80 % = 6,400; then 25,000 - 15,000 = 10,000 self-paid,
    # 80 % = 8,000, of which 10,000 - 6,400 = 3,600 yuan are left. 2025 is another year: 5,000 yuan
    # self-paid, 80 % = 4,000 yuan.
    _, postings = settle(
        surveyed("p1", "1970-01", "physical"),
        approved("a1", MEDICAL_AID, HOSPITAL),
        recorded("d1", "a1", MEDICAL_AID, HOSPITAL, charge_fen=2_000_000, insurance_paid_fen=1_200_000),
        approved("a2", MEDICAL_AID, HOSPITAL),
        recorded(
            "d2", "a2", MEDICAL_AID, HOSPITAL, charge_fen=2_500_000, insurance_paid_fen=1_500_000, month=8
        ),
        surveyed("p1", "1970-01", "physical", year=2025),
        approved("a3", MEDICAL_AID, HOSPITAL, year=2025),
        recorded("d3", "a3", MEDICAL_AID, HOSPITAL, charge_fen=500_000, year=2025),
    )
    assert paid(postings) == {"d1": 640_000, "d2": 360_000, "d3": 400_000}


def test_a_spouses_medical_aid_holds_3000_yuan_a_year_over_two_applications() -> None:
    # Two stays of 2,500 yuan self-paid: 80 % = 2,000 yuan each; the second gets 3,000 - 2,000 = 1,000.
    _, postings = settle(
        approved("a1", FAMILY_AID, HOSPITAL, person="spouse"),
        recorded("d1", "a1", FAMILY_AID, HOSPITAL, charge_fen=250_000, person="spouse"),
        approved("a2", FAMILY_AID, HOSPITAL, person="spouse"),
        recorded("d2", "a2", FAMILY_AID, HOSPITAL, charge_fen=250_000, person="spouse", month=6),
    )
    assert paid(postings) == {"d1": 200_000, "d2": 100_000}


# 002 三(一)3 「对精神残疾人开展600-1200元/年/人服药救助」: 区残联办 approves 800 yuan, then in a second
# application 1,000 yuan: the year pays 800 + 400 = 1,200 yuan, never 1,800.
def test_medication_aid_approved_twice_in_a_year_pays_at_most_1200_yuan() -> None:
    _, postings = settle(
        surveyed("p1", "1980-05", "mental"),
        approved("a1", MEDICATION, MENTAL, mode="fixed_amount", amount_fen=80_000),
        recorded("d1", "a1", MEDICATION, MENTAL, charge_fen=100_000),
        approved("a2", MEDICATION, MENTAL, mode="fixed_amount", amount_fen=100_000),
        recorded("d2", "a2", MEDICATION, MENTAL, charge_fen=100_000, month=10),
    )
    assert paid(postings) == {"d1": 80_000, "d2": 40_000}


# 002 三(一)3 「对0-6周岁沙坪坝区户籍的……听力……儿童给予2万元/人/年专项训练补助」: a child of 4 trained
# under two applications, 15,000 yuan each: 15,000 + 5,000 yuan.
def test_a_childs_training_under_two_applications_is_paid_20000_yuan_a_year_in_all() -> None:
    _, postings = settle(
        surveyed("p1", "2019-05", "hearing"),
        approved("a1", TRAINING, CENTRE),
        recorded("d1", "a1", TRAINING, CENTRE, charge_fen=1_500_000),
        approved("a2", TRAINING, CENTRE),
        recorded("d2", "a2", TRAINING, CENTRE, charge_fen=1_500_000, month=9),
    )
    assert paid(postings) == {"d1": 1_500_000, "d2": 500_000}


def inpatient_stays(person: str = "p1") -> list[Fact]:
    """Stays of 3,000 yuan (a1, at the mental-health centre) and 4,000 yuan (a2, at the hospital); another
    person's ids carry their name (``p2-a1``, ``p2-d1``)."""
    tag = "" if person == "p1" else f"{person}-"
    return [
        surveyed(person, "1980-05", "mental"),
        approved(f"{tag}a1", INPATIENT, MENTAL, person=person),
        recorded(f"{tag}d1", f"{tag}a1", INPATIENT, MENTAL, charge_fen=300_000, person=person),
        approved(f"{tag}a2", INPATIENT, HOSPITAL, person=person),
        recorded(f"{tag}d2", f"{tag}a2", INPATIENT, HOSPITAL, charge_fen=400_000, person=person, month=9),
    ]


def test_a_claw_back_frees_the_years_room_for_the_other_application_and_a_top_up_takes_it_back() -> None:
    book, postings = settle(*inpatient_stays())
    assert paid(postings) == {"d1": 300_000, "d2": 200_000}
    # The first stay's record is corrected to 1,000 yuan: 2,000 yuan clawed back from the centre, and the
    # second stay, now with 4,000 yuan of room, is topped up by 2,000 yuan at the hospital.
    lower = replace(
        recorded("d1", "a1", INPATIENT, MENTAL, charge_fen=100_000),
        event_id="rec-d1-lower",
        recorded_on=date(2024, 10, 8),
    )
    adjusted = book.feed(lower)
    assert [(p.debit_account, p.credit_account, p.amount_fen, p.business_date) for p in adjusted] == [
        (f"service_institution:{MENTAL}", "fund:shapingba-finance", 200_000, date(2024, 10, 8)),
        ("fund:shapingba-finance", f"service_institution:{HOSPITAL}", 200_000, date(2024, 10, 8)),
    ]
    # Corrected back to 3,000 yuan: the first stay keeps its turn at the cap (paid first), so its top-up
    # takes the room back and the second stay returns to 2,000 yuan.
    higher = replace(lower, event_id="rec-d1-higher", charge_fen=300_000, recorded_on=date(2024, 11, 2))
    again = book.feed(higher)
    assert paid(adjusted + again) == {"d1": 0, "d2": 0}
    assert paid(postings + adjusted + again) == {"d1": 300_000, "d2": 200_000}
    assert {p.inputs["adjustment"] for p in again} == {"top_up", "claw_back"}


def test_a_record_moved_to_the_next_year_frees_this_years_room() -> None:
    # The second stay's record is corrected to 服务年度 2025 (its approval is for 2024): it no longer counts
    # this year, nor in 2025 (another year than its application's); the first keeps its 3,000 yuan.
    book, _ = settle(*inpatient_stays())
    moved = replace(
        recorded("d2", "a2", INPATIENT, HOSPITAL, charge_fen=400_000, month=9, year=2025),
        event_id="rec-d2-moved",
        recorded_on=date(2025, 1, 6),
    )
    adjusted = book.feed(moved)
    assert paid(adjusted) == {"d2": -200_000}
    assert next(u.code for u in book.unsettled() if u.subject == "d2") == "other_year"


@pytest.fixture
def shapingba_replayed_person_by_person(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REHAB_REFERENCE", "shapingba")
    monkeypatch.setattr(person_order, "GROUP_FACTS", 1)  # a fresh book per person


@pytest.mark.usefixtures("shapingba_replayed_person_by_person")
def test_a_replay_person_by_person_pays_the_yearly_caps_as_the_live_book_did() -> None:
    # Two persons' applications interleave as the streams deliver them, with a correction of each.
    first, second = inpatient_stays("p1"), inpatient_stays("p2")
    facts: list[Fact] = [fact for pair in zip(first, second, strict=True) for fact in pair]
    lower = recorded("d1", "a1", INPATIENT, MENTAL, charge_fen=100_000)
    higher = recorded("p2-d2", "p2-a2", INPATIENT, HOSPITAL, charge_fen=600_000, person="p2", month=9)
    facts += [
        replace(lower, event_id="rec-d1-lower", recorded_on=date(2024, 10, 8)),
        replace(higher, event_id="rec-p2-d2-higher", recorded_on=date(2024, 10, 9)),
    ]
    _book, live = feed_facts(facts, POLICIES)

    replayed: list[Posting] = []
    settled = settle_by_person(facts, POLICIES, replayed.extend)

    assert settled.by_person
    assert sorted(replayed, key=lambda p: p.key) == sorted(live, key=lambda p: p.key)
    # p1: 1,000 + 4,000 yuan after the correction; p2: its second stay raised to 6,000 yuan still gets
    # only 5,000 - 3,000 = 2,000 yuan.
    assert paid(live) == {"d1": 100_000, "d2": 400_000, "p2-d1": 300_000, "p2-d2": 200_000}
