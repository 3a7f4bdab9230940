"""The settlement book: given facts, then the postings they make due (no I/O)."""

from __future__ import annotations

from datetime import date
from uuid import uuid5

import pytest

from services.settlement.book.dues import POSTING_NAMESPACE, Posting, posting_id_text
from services.settlement.book.facts import Fact
from services.settlement.book.policy import Free, ItemStandard, PolicySet, Standard, load_policies
from services.settlement.book.settlement_book import SettlementBook
from services.settlement.book.standards import subsidy_amount
from tests.settlement.settlement_builders import (
    CITY_ASSESSOR,
    DISTRICT_ASSESSOR,
    EYE_HOSPITAL,
    FUND,
    REHAB_CENTRE,
    STREET,
    approved,
    assessed,
    item,
    recorded,
    refused,
    surveyed,
)

POLICIES = load_policies()


def feed(*facts: Fact, policies: PolicySet = POLICIES) -> list[Posting]:
    book = SettlementBook(policies)
    return [posting for fact in facts for posting in book.feed(fact)]


def summary(postings: list[Posting]) -> list[tuple[str, str, int]]:
    return [(posting.rule, posting.credit_account, posting.amount_fen) for posting in postings]


# -- survey fee -----------------------------------------------------------------------------------
def test_a_first_survey_pays_the_survey_fee_to_the_street():
    [posting] = feed(surveyed("p1", has_needs=False, event_id="s1"))
    assert posting.rule == "survey_fee"
    assert posting.key == "survey_fee:p1:2024"
    assert posting.debit_account == FUND
    assert posting.credit_account == f"street:{STREET}"
    assert posting.amount_fen == 3000
    assert posting.business_date == date(2024, 10, 15)
    assert posting.source_event_ids == ("s1",)
    assert (posting.policy_id, posting.policy_version) == ("liangjiang-2024", 2)
    assert posting.inputs == {"person_id": "p1", "year": 2024, "street": STREET, "fee_fen": 3000}


def test_a_second_survey_of_the_same_person_and_year_pays_nothing_more():
    postings = feed(surveyed("p1", has_needs=False), surveyed("p1", has_needs=True))
    assert summary(postings) == [("survey_fee", f"street:{STREET}", 3000)]


def test_a_survey_in_another_year_pays_the_survey_fee_again():
    postings = feed(surveyed("p1", year=2024), surveyed("p1", year=2025, on=date(2025, 3, 1)))
    assert [posting.key for posting in postings] == ["survey_fee:p1:2024", "survey_fee:p1:2025"]


def test_each_person_surveyed_pays_one_survey_fee():
    postings = feed(surveyed("p1"), surveyed("p2", street="人和"))
    assert summary(postings) == [("survey_fee", "street:鸳鸯", 3000), ("survey_fee", "street:人和", 3000)]


# -- management fee ---------------------------------------------------------------------------------
def test_a_person_with_needs_assessed_the_same_year_pays_the_management_fee_to_the_street():
    postings = feed(surveyed("p1", event_id="s1"), assessed("p1", event_id="a1"))
    management = next(posting for posting in postings if posting.rule == "management_fee")
    assert management.key == "management_fee:p1:2024"
    assert management.credit_account == f"street:{STREET}"
    assert management.amount_fen == 3000
    assert management.source_event_ids == ("s1", "a1")


def test_the_management_fee_is_due_whichever_of_survey_and_assessment_arrives_first():
    survey, assessment = surveyed("p1", event_id="s1"), assessed("p1", event_id="a1")
    assert sorted(feed(survey, assessment), key=lambda p: p.key) == sorted(
        feed(assessment, survey), key=lambda p: p.key
    )


def test_the_management_fee_is_dated_by_the_later_of_survey_and_assessment():
    postings = feed(assessed("p1", on=date(2024, 10, 1)), surveyed("p1", on=date(2024, 10, 20)))
    management = next(posting for posting in postings if posting.rule == "management_fee")
    assert management.business_date == date(2024, 10, 20)


def test_a_person_surveyed_without_needs_pays_no_management_fee_even_when_assessed():
    postings = feed(surveyed("p1", has_needs=False), assessed("p1"))
    assert "management_fee" not in {posting.rule for posting in postings}


def test_an_assessment_of_another_year_does_not_complete_the_management_fee():
    postings = feed(surveyed("p1", year=2024), assessed("p1", year=2025, on=date(2025, 2, 1)))
    assert "management_fee" not in {posting.rule for posting in postings}


def test_a_surveyed_person_not_yet_assessed_pays_no_management_fee():
    assert summary(feed(surveyed("p1"))) == [("survey_fee", f"street:{STREET}", 3000)]


def test_a_city_level_assessment_completes_the_management_fee_of_the_street():
    postings = feed(surveyed("p1"), assessed("p1", institution=CITY_ASSESSOR, level="city"))
    assert summary(postings) == [
        ("survey_fee", f"street:{STREET}", 3000),
        ("management_fee", f"street:{STREET}", 3000),
    ]


def test_the_management_fee_is_paid_once_however_many_surveys_and_assessments():
    second = "lj-assess-second-hospital"
    postings = feed(surveyed("p1"), assessed("p1"), surveyed("p1"), assessed("p1", institution=second))
    assert [posting.rule for posting in postings].count("management_fee") == 1


# -- assessment fee -------------------------------------------------------------------------------
def test_a_district_level_assessment_pays_the_assessment_fee_to_that_institution():
    [posting] = feed(assessed("p1", event_id="a1"))
    assert posting.rule == "assessment_fee"
    assert posting.key == "assessment_fee:p1:2024"
    assert posting.credit_account == f"assessment_institution:{DISTRICT_ASSESSOR}"
    assert posting.amount_fen == 3000
    assert posting.business_date == date(2024, 10, 22)


def test_a_city_level_assessment_gets_no_assessment_fee_from_this_fund():
    assert feed(assessed("p1", institution=CITY_ASSESSOR, level="city")) == []


def test_the_assessment_fee_is_paid_once_per_person_and_year():
    postings = feed(assessed("p1"), assessed("p1", institution="lj-assess-second-hospital"))
    assert summary(postings) == [("assessment_fee", f"assessment_institution:{DISTRICT_ASSESSOR}", 3000)]


# -- support service ------------------------------------------------------------------------------
def test_a_signed_support_service_pays_200_yuan_to_the_service_institution():
    postings = feed(approved(item("support_service_mental"), event_id="ap1"), recorded("d1", event_id="d1"))
    [posting] = postings
    assert posting.rule == "support_service"
    assert posting.key == "support_service:p1:2024"
    assert posting.credit_account == f"service_institution:{REHAB_CENTRE}"
    assert posting.amount_fen == 20000
    assert posting.source_event_ids == ("ap1", "d1")
    assert posting.business_date == date(2024, 12, 20)


def test_a_support_service_is_paid_once_per_person_year_however_many_records():
    postings = feed(approved(item("support_service_mental")), recorded("d1"), recorded("d2"), recorded("d3"))
    assert summary(postings) == [("support_service", f"service_institution:{REHAB_CENTRE}", 20000)]


def test_a_second_support_service_item_in_a_year_is_not_paid_again_and_is_shown_unsettled():
    book = SettlementBook(POLICIES)
    facts: list[Fact] = [
        approved(item("support_service_mental"), item("support_service_midlife_blind")),
        recorded("d1", item_code="support_service_mental"),
        recorded("d2", item_code="support_service_midlife_blind"),
    ]
    postings = [posting for fact in facts for posting in book.feed(fact)]
    assert summary(postings) == [("support_service", f"service_institution:{REHAB_CENTRE}", 20000)]
    assert any("每人每年" in entry.reason for entry in book.unsettled())


def test_a_support_service_pays_the_flat_rate_whatever_the_charge_and_insurance():
    postings = feed(
        approved(item("support_service_midlife_blind")),
        recorded("d1", item_code="support_service_midlife_blind", charge_fen=0),
    )
    assert summary(postings) == [("support_service", f"service_institution:{REHAB_CENTRE}", 20000)]


# -- catalogue item subsidies ---------------------------------------------------------------------
def low_vision(mode: str = "fixed_amount", amount_fen: int | None = 100000):
    return item("low_vision_training", EYE_HOSPITAL, mode, amount_fen)


def low_vision_record(delivery: str = "d1", charge_fen: int = 150000, insurance_paid_fen: int = 0):
    return recorded(
        delivery,
        item_code="low_vision_training",
        institution=EYE_HOSPITAL,
        charge_fen=charge_fen,
        insurance_paid_fen=insurance_paid_fen,
    )


def test_a_fixed_amount_pays_the_approved_amount_when_the_self_paid_part_is_larger():
    [posting] = feed(approved(low_vision(amount_fen=100000)), low_vision_record(charge_fen=150000))
    assert posting.rule == "service_subsidy"
    assert posting.key == "service_subsidy:d1"
    assert posting.credit_account == f"service_institution:{EYE_HOSPITAL}"
    assert posting.amount_fen == 100000


def test_a_fixed_amount_pays_only_the_self_paid_part_after_insurance():
    [posting] = feed(
        approved(low_vision(amount_fen=100000)),
        low_vision_record(charge_fen=150000, insurance_paid_fen=90000),
    )
    assert posting.amount_fen == 60000
    assert posting.inputs["self_paid_fen"] == 60000
    assert posting.inputs["insurance_paid_fen"] == 90000
    assert posting.inputs["cap_fen"] == 100000


def test_a_fixed_amount_is_a_cap_shared_by_every_record_of_the_approved_item():
    postings = feed(
        approved(low_vision(amount_fen=100000)),
        low_vision_record("d1", charge_fen=70000),
        low_vision_record("d2", charge_fen=70000),
        low_vision_record("d3", charge_fen=70000),
    )
    assert [(posting.key, posting.amount_fen) for posting in postings] == [
        ("service_subsidy:d1", 70000),
        ("service_subsidy:d2", 30000),
    ]


def test_free_mode_without_a_stated_standard_pays_the_whole_self_paid_part():
    postings = feed(
        approved(low_vision(mode="free", amount_fen=None)),
        low_vision_record(charge_fen=150000, insurance_paid_fen=30000),
    )
    assert summary(postings) == [("service_subsidy", f"service_institution:{EYE_HOSPITAL}", 120000)]
    assert postings[0].inputs["standard_fen"] is None


def test_free_mode_is_capped_by_the_standard_when_a_policy_states_one():
    policy = POLICIES.get("liangjiang-2024")
    assert policy is not None
    standard = Standard(name="低视力视功能训练", subsidy=Free(mode="free", standard_fen=80000))
    capped = policy.model_copy(
        update={
            "items": {
                **policy.items,
                "low_vision_training": ItemStandard(
                    name="低视力视功能训练", kind="training", standards={"training": standard}
                ),
            }
        }
    )
    postings = feed(
        approved(low_vision(mode="free", amount_fen=None)),
        low_vision_record(charge_fen=150000, insurance_paid_fen=30000),
        policies=PolicySet([capped]),
    )
    assert [posting.amount_fen for posting in postings] == [80000]


def test_a_charge_paid_in_full_by_insurance_pays_nothing_and_says_why():
    book = SettlementBook(POLICIES)
    book.feed(approved(low_vision()))
    assert book.feed(low_vision_record(charge_fen=50000, insurance_paid_fen=50000)) == []
    [note] = book.unsettled()
    assert note.subject == "d1"
    assert (note.code, note.reason) == ("nothing_to_pay", "无需补助：医保等已支付全部费用，或补助上限已用完")


def test_a_self_purchased_device_is_reimbursed_to_the_person():
    postings = feed(
        approved(item("self_purchased_device_subsidy", None, "fixed_amount", 80000)),
        recorded("d1", item_code="self_purchased_device_subsidy", charge_fen=120000),
    )
    assert summary(postings) == [("service_subsidy", "person:p1", 80000)]


@pytest.mark.parametrize(
    ("charge", "insurance", "cap", "paid", "expected"),
    [
        (150000, 30000, None, 0, 120000),
        (150000, 30000, 100000, 0, 100000),
        (150000, 30000, 100000, 90000, 10000),
        (150000, 30000, 100000, 100000, 0),
        (50000, 50000, 100000, 0, 0),
        (0, 0, None, 0, 0),
    ],
)
def test_the_subsidy_covers_the_self_paid_part_up_to_what_is_left_of_the_cap(
    charge, insurance, cap, paid, expected
):
    assert subsidy_amount(charge, insurance, cap, paid) == expected


# -- matching a service record to its approval ------------------------------------------------------
def test_a_service_recorded_before_its_approval_waits_and_is_settled_when_the_approval_arrives():
    book = SettlementBook(POLICIES)
    assert book.feed(recorded("d1")) == []
    assert [note.subject for note in book.unsettled()] == ["d1"]
    assert book.unsettled()[0].code == "awaiting_approval"
    assert "等待其补助申请的审批结果" in book.unsettled()[0].reason
    postings = book.feed(approved(item("support_service_mental")))
    assert summary(postings) == [("support_service", f"service_institution:{REHAB_CENTRE}", 20000)]
    assert book.unsettled() == []


def test_records_waiting_for_one_approval_are_settled_in_the_order_they_arrived():
    book = SettlementBook(POLICIES)
    book.feed(low_vision_record("d1", charge_fen=70000))
    book.feed(low_vision_record("d2", charge_fen=70000))
    postings = book.feed(approved(low_vision(amount_fen=100000)))
    assert [(posting.key, posting.amount_fen) for posting in postings] == [
        ("service_subsidy:d1", 70000),
        ("service_subsidy:d2", 30000),
    ]


def test_a_service_under_a_refused_application_is_never_paid():
    book = SettlementBook(POLICIES)
    book.feed(recorded("d1"))
    assert book.feed(refused("a1")) == []
    assert book.feed(recorded("d2")) == []
    refusal = "「支持性服务（精神残疾人生活自理、心理疏导）」所依据的补助申请未获批准（区残联办审批不同意）"
    assert [(note.subject, note.code, note.reason, note.person) for note in book.unsettled()] == [
        ("d1", "application_refused", refusal, "p1"),
        ("d2", "application_refused", refusal, "p1"),
    ]


@pytest.mark.parametrize(
    ("record", "code", "reason"),
    [
        (recorded("d1", institution="lj-first-hospital"), "other_institution", "批准在lj-rehab-centre实施"),
        (recorded("d1", item_code="support_service_midlife_blind"), "item_not_approved", "未批准服务项目"),
        (
            recorded("d1", year=2025, on=date(2025, 1, 5)),
            "other_year",
            "服务年度 2025 与申请年度 2024 不一致",
        ),
        (recorded("d1", person="p2"), "other_person", "不是同一人"),
        (recorded("d1", signed=False), "record_unsigned", "未经本人或监护人签字"),
    ],
    ids=["another institution", "another item", "another year", "another person", "unsigned"],
)
def test_a_service_record_that_does_not_match_its_approval_is_not_paid(record, code, reason):
    book = SettlementBook(POLICIES)
    book.feed(approved(item("support_service_mental")))
    assert book.feed(record) == []
    [note] = book.unsettled()
    assert note.code == code
    assert reason in note.reason


def test_a_second_approval_of_the_same_application_supersedes_the_first():
    book = SettlementBook(POLICIES)
    facts: list[Fact] = [
        approved(item("support_service_mental")),
        approved(item("support_service_mental", institution="lj-first-hospital")),
        recorded("d1"),
    ]
    assert [posting for fact in facts for posting in book.feed(fact)] == []
    [note] = book.unsettled()
    assert "批准在lj-first-hospital实施，记录却来自lj-rehab-centre" in note.reason


# -- policy in force, ids, idempotence --------------------------------------------------------------
def test_a_fact_before_the_policy_took_effect_is_not_paid_and_says_why():
    book = SettlementBook(POLICIES)
    assert book.feed(surveyed("p1", on=date(2024, 9, 28))) == []
    [note] = book.unsettled()
    assert note.subject == "survey_fee:p1:2024"
    assert (note.code, note.reason) == ("no_policy", "2024年9月28日没有施行中的结算政策")


def test_the_policy_takes_effect_on_its_first_day():
    assert len(feed(surveyed("p1", has_needs=False, on=date(2024, 9, 29)))) == 1


def test_a_posting_id_is_the_uuid5_of_its_key_so_every_replay_gives_the_same_id():
    [first] = feed(surveyed("p1", event_id="s1"))
    [again] = feed(surveyed("p1", event_id="s1"))
    assert first.posting_id == again.posting_id == uuid5(POSTING_NAMESPACE, "survey_fee:p1:2024")
    assert first == again


def test_the_posting_id_text_a_replay_stores_is_the_uuid5_of_the_key_for_any_key():
    for key in ("survey_fee:p1:2024", "service_subsidy:d1|central", "", "street:鸳鸯", "x" * 300):
        assert posting_id_text(key) == str(uuid5(POSTING_NAMESPACE, key))


def test_the_same_event_fed_twice_posts_once():
    book = SettlementBook(POLICIES)
    survey = surveyed("p1")
    assert len(book.feed(survey)) == 1
    assert book.feed(survey) == []


# -- the whole journey ----------------------------------------------------------------------------
def test_one_persons_journey_pays_the_street_the_assessor_and_the_service_institution():
    postings = feed(
        surveyed("p1"),
        assessed("p1"),
        approved(item("support_service_mental")),
        recorded("d1"),
    )
    assert summary(postings) == [
        ("survey_fee", f"street:{STREET}", 3000),
        ("assessment_fee", f"assessment_institution:{DISTRICT_ASSESSOR}", 3000),
        ("management_fee", f"street:{STREET}", 3000),
        ("support_service", f"service_institution:{REHAB_CENTRE}", 20000),
    ]
    assert {posting.debit_account for posting in postings} == {FUND}
    assert sum(posting.amount_fen for posting in postings) == 29000


def test_a_journey_with_a_fixed_amount_pays_the_fixed_amount_to_the_service_institution():
    approval = approved(low_vision(amount_fen=120000))
    postings = feed(surveyed("p1"), assessed("p1"), approval, low_vision_record())
    assert summary(postings)[-1] == ("service_subsidy", f"service_institution:{EYE_HOSPITAL}", 120000)
    assert sum(posting.amount_fen for posting in postings) == 9000 + 120000


# -- institution changes approved by 区残联办 -------------------------------------------------------
def moved(to: str, *, item_code: str = "orientation_mobility_training", on: date = date(2024, 11, 15)):
    from services.settlement.book.facts import InstitutionChanged

    return InstitutionChanged(f"change-{to}", "a1", item_code, "lj-first-hospital", to, on)


ORIENTATION = item("orientation_mobility_training", institution="lj-first-hospital")


def test_a_record_from_the_institution_an_approved_change_moved_the_item_to_is_paid_to_it() -> None:
    postings = feed(
        approved(ORIENTATION),
        moved("lj-second-hospital"),
        recorded("d1", item_code="orientation_mobility_training", institution="lj-second-hospital"),
    )
    assert summary(postings) == [("service_subsidy", "service_institution:lj-second-hospital", 50000)]


def test_a_change_that_arrives_after_the_record_still_makes_it_count() -> None:
    postings = feed(
        approved(ORIENTATION),
        recorded("d1", item_code="orientation_mobility_training", institution="lj-second-hospital"),
        moved("lj-second-hospital"),
    )
    assert summary(postings) == [("service_subsidy", "service_institution:lj-second-hospital", 50000)]


def test_a_record_from_another_institution_without_an_approved_change_is_not_paid() -> None:
    book = SettlementBook(POLICIES)
    facts: list[Fact] = [
        approved(ORIENTATION),
        recorded("d1", item_code="orientation_mobility_training", institution="lj-second-hospital"),
    ]
    assert [posting for fact in facts for posting in book.feed(fact)] == []
    assert any("没有已批准的服务机构变更" in entry.reason for entry in book.unsettled())
