"""Hand-computed examples from the seeds: standards, eligibility, the funding split, rates by date."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from services.settlement.book.eligibility import Applicant
from services.settlement.book.policy import Funding, FundingSource, FundingSplit, PolicySet, load_policies
from services.settlement.book.settlement_book import SettlementBook
from services.settlement.book.standards import Claim, StandardUnstated, amount_due, pro_rated, split_fen
from tests.settlement.settlement_builders import approved, item, policy_in, recorded, surveyed

POLICIES = load_policies()
SHAPINGBA = policy_in(POLICIES, "shapingba-2023")
ANYANG = policy_in(POLICIES, "anyang-2021")
LIANGJIANG = policy_in(POLICIES, "liangjiang-2024")


def subsidy(policy, item_code: str, tier: str):
    return policy.items[item_code].standards[tier].subsidy


# -- Shapingba: 80% medical aid, capped -------------------------------------------------------------
def test_shapingba_pays_80_percent_of_a_self_paid_inpatient_cost_capped_at_10000_yuan():
    aid = subsidy(SHAPINGBA, "inpatient_medical_aid", "person")
    # 20,000 yuan invoice, insurance paid 6,000: self-paid 14,000; 80% = 11,200 > cap 10,000.
    assert amount_due(aid, Claim(charge_fen=2_000_000, insurance_paid_fen=600_000)) == 1_000_000
    # self-paid 5,000.55 yuan: 80% = 4,000.44 yuan.
    assert amount_due(aid, Claim(charge_fen=500_055)) == 400_044
    # 8,000 yuan already paid this year: only 2,000 left of the cap.
    assert amount_due(aid, Claim(charge_fen=500_000, already_paid_fen=800_000)) == 200_000


def test_shapingba_pays_a_spouse_80_percent_capped_at_3000_yuan():
    aid = subsidy(SHAPINGBA, "family_inpatient_medical_aid", "family")
    assert amount_due(aid, Claim(charge_fen=300_000)) == 240_000
    assert amount_due(aid, Claim(charge_fen=500_000)) == 300_000


def test_shapingba_pays_1200_yuan_per_cataract_case_and_300_yuan_diagnosis_once():
    cataract = subsidy(SHAPINGBA, "cataract_surgery", "hardship")
    assert amount_due(cataract, Claim(charge_fen=400_000)) == 120_000
    diagnosis = subsidy(SHAPINGBA, "suspected_disability_diagnosis", "once")
    assert amount_due(diagnosis, Claim(charge_fen=0)) == 30_000
    assert amount_due(diagnosis, Claim(charge_fen=0, already_paid_fen=30_000)) == 0


def test_shapingba_transport_and_living_allowance_is_monthly():
    standard = subsidy(SHAPINGBA, "children_transport_living_allowance", "standard")
    hardship = subsidy(SHAPINGBA, "children_transport_living_allowance", "hardship")
    assert amount_due(standard, Claim(charge_fen=0, months=12)) == 480_000
    assert amount_due(hardship, Claim(charge_fen=0, months=3)) == 150_000
    with pytest.raises(StandardUnstated, match="服务月数"):
        amount_due(standard, Claim(charge_fen=0))


def test_shapingba_childrens_training_is_capped_at_the_annual_standard_after_insurance():
    training = subsidy(SHAPINGBA, "children_rehab_training", "age-0-6")
    assert amount_due(training, Claim(charge_fen=3_000_000, insurance_paid_fen=500_000)) == 2_000_000
    assert amount_due(training, Claim(charge_fen=1_200_000, insurance_paid_fen=200_000)) == 1_000_000


def test_shapingba_medication_aid_is_decided_within_600_to_1200_yuan():
    medication = subsidy(SHAPINGBA, "mental_medication_aid", "medication")
    assert amount_due(medication, Claim(charge_fen=0, decided_fen=90_000)) == 90_000
    with pytest.raises(StandardUnstated, match="不在标准区间"):
        amount_due(medication, Claim(charge_fen=0, decided_fen=130_000))


@pytest.mark.parametrize(
    ("applicant", "tiers"),
    [
        (Applicant(5, frozenset({"hearing"})), ["age-0-6"]),
        (Applicant(5, frozenset({"autism"}), residence="residence_permit", certified=False), ["age-0-6"]),
        (Applicant(4, frozenset({"vision", "low_vision"})), ["age-0-6-low-vision"]),
        (Applicant(6, frozenset({"vision", "blind"})), ["age-0-6-blind"]),
        (Applicant(9, frozenset({"physical"}), frozenset({"subsistence_allowance"})), ["age-7-14-hardship"]),
        (Applicant(9, frozenset({"physical"})), []),
        (Applicant(9, frozenset({"physical"}), frozenset({"hardship"}), residence="residence_permit"), []),
        (Applicant(15, frozenset({"hearing"}), frozenset({"hardship"})), []),
    ],
)
def test_shapingba_childrens_training_tier_follows_age_category_hardship_and_residence(applicant, tiers):
    assert list(SHAPINGBA.items["children_rehab_training"].standards_for(applicant)) == tiers


# -- Anyang: 10 months pro-rated, the monthly standard unstated ------------------------------------
def test_anyang_pays_seven_months_of_training_at_the_monthly_standard():
    # The seed leaves the monthly standard to 安政办〔2019〕23号; 1,500 yuan stands in for it here.
    assert pro_rated(150_000, months=7, max_months=10) == 1_050_000
    assert pro_rated(150_000, months=12, max_months=10) == 1_500_000


def test_anyang_training_cannot_be_priced_because_the_seed_leaves_the_monthly_standard_unstated():
    training = subsidy(ANYANG, "children_rehab_training", "ten-months")
    with pytest.raises(StandardUnstated, match="当地每月补助标准"):
        amount_due(training, Claim(charge_fen=2_000_000, months=7))
    stand_in = training.model_copy(update={"monthly_fen": 150_000})
    # 7 months entitle 10,500 yuan; the self-paid part is less, so the subsidy pays it in full.
    assert amount_due(stand_in, Claim(charge_fen=1_200_000, insurance_paid_fen=300_000, months=7)) == 900_000
    assert amount_due(stand_in, Claim(charge_fen=2_000_000, months=7)) == 1_050_000


# -- the funding split ------------------------------------------------------------------------------
def test_huaxian_splits_an_odd_amount_65_35_with_the_odd_fen_to_the_larger_share():
    shares = ANYANG.funding.split_for("滑县").shares
    assert split_fen(10_001, shares) == {"central-provincial": 6_501, "huaxian": 3_500}
    assert split_fen(1, shares) == {"central-provincial": 1, "huaxian": 0}


def test_a_50_50_split_of_an_odd_amount_gives_the_odd_fen_to_the_first_source_by_id():
    shares = ANYANG.funding.split_for("文峰区").shares
    assert split_fen(10_001, shares) == {"central-provincial": 5_001, "city-county": 5_000}
    assert split_fen(10_001, dict(reversed(list(shares.items())))) == split_fen(10_001, shares)


@pytest.mark.parametrize("amount", [0, 1, 2, 3, 99, 100, 333, 10_001, 1_234_567, 99_999_999])
def test_a_split_always_adds_up_to_the_amount(amount):
    for shares in (
        {"a": Decimal(65), "b": Decimal(35)},
        {"a": Decimal("33.33"), "b": Decimal("33.33"), "c": Decimal("33.34")},
    ):
        parts = split_fen(amount, shares)
        assert sum(parts.values()) == amount and all(part >= 0 for part in parts.values())


def test_a_split_is_refused_when_the_shares_do_not_add_up():
    with pytest.raises(ValueError):
        split_fen(100, {"a": Decimal(60), "b": Decimal(30)})


# -- the book: the jurisdiction, the policy of the date, the split ----------------------------------
def test_the_liangjiang_book_settles_only_under_liangjiang_policies():
    book = SettlementBook(POLICIES)
    [posting] = book.feed(surveyed("p1", has_needs=False))
    assert (posting.policy_id, posting.amount_fen) == ("liangjiang-2024", 3000)


def test_replaying_2023_facts_pays_2023_rates():
    older = LIANGJIANG.model_copy(
        update={
            "id": "liangjiang-2023",
            "effective_from": date(2023, 1, 1),
            "fees": LIANGJIANG.fees.model_copy(update={"survey_fee_fen": 2000}),
        }
    )
    book = SettlementBook(PolicySet([*POLICIES, older]))
    postings = book.feed(surveyed("p1", year=2023, on=date(2023, 11, 1), has_needs=False))
    postings += book.feed(surveyed("p1", year=2024, on=date(2024, 10, 15), has_needs=False))
    paid = [(p.policy_id, p.amount_fen) for p in postings]
    assert paid == [("liangjiang-2023", 2000), ("liangjiang-2024", 3000)]


def test_a_fee_the_policy_leaves_unstated_is_not_paid_and_says_why():
    book = SettlementBook(POLICIES, jurisdiction="anyang")
    assert book.feed(surveyed("p1", year=2021, on=date(2021, 6, 1), has_needs=False)) == []
    [note] = book.unsettled()
    assert note.code == "fee_unstated"
    assert note.reason.startswith("《2021年安阳市残疾儿童康复救助工作实施方案》未规定需求调查工作经费标准：")


def split_policy():
    funding = Funding(
        sources={
            "central-provincial": FundingSource(
                name="中央和省财政", level="central_provincial", account="fund:central-provincial"
            ),
            "county": FundingSource(name="县财政", level="county", account="fund:county"),
        },
        splits={"all": FundingSplit(shares={"central-provincial": Decimal(65), "county": Decimal(35)})},
    )
    return PolicySet([LIANGJIANG.model_copy(update={"funding": funding})])


def test_a_payment_is_posted_once_per_funding_source_and_the_parts_add_up_to_the_fen():
    book = SettlementBook(split_policy())
    book.feed(approved(item("self_purchased_device_subsidy", None, "fixed_amount", 10_001)))
    postings = book.feed(recorded("d1", item_code="self_purchased_device_subsidy", charge_fen=20_000))
    assert [(p.debit_account, p.credit_account, p.amount_fen) for p in postings] == [
        ("fund:central-provincial", "person:p1", 6_501),
        ("fund:county", "person:p1", 3_500),
    ]
    assert [p.key for p in postings] == ["service_subsidy:d1|central-provincial", "service_subsidy:d1|county"]
    assert {p.inputs["total_fen"] for p in postings} == {10_001}
    assert len({p.posting_id for p in postings}) == 2


def test_a_single_fund_policy_posts_one_posting_under_the_plain_key():
    [posting] = SettlementBook(POLICIES).feed(surveyed("p1", event_id="s1", has_needs=False))
    assert (posting.key, posting.debit_account) == ("survey_fee:p1:2024", "fund:liangjiang-finance")
