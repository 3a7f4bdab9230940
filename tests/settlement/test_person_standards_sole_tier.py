"""An item with a single tier is paid on 区残联办's approval unless the facts recorded about the person
contradict a condition the seed states (issue 13 rules 5 and 8, the part left undone): then the record waits
as ``not_eligible``, whatever mode was approved; a fact never recorded (a survey from before they were kept,
no survey at all) blocks nothing. Every expected figure is computed by hand from seed 002
(沙府办发〔2023〕100号), never read from the policy file."""

from __future__ import annotations

from datetime import date

import pytest

from services.settlement.book.dues import Posting
from services.settlement.book.facts import (
    ApplicationDescribed,
    ApprovedItem,
    Fact,
    ItemsApproved,
    PersonSurveyed,
    ServiceRecorded,
)
from services.settlement.book.policy import load_policies
from services.settlement.book.settlement_book import SettlementBook

POLICIES = load_policies()
EYE = "spb-eye-hospital"
CENTRE = "spb-children-centre"
MENTAL = "spb-mental-health-centre"
HOSPITAL = "spb-general-hospital"
CATARACT = "cataract_surgery"
MEDICAL_AID = "inpatient_medical_aid"
MEDICATION = "mental_medication_aid"
DIAGNOSIS = "suspected_disability_diagnosis"
INSTITUTION = {CATARACT: EYE, MEDICAL_AID: HOSPITAL, MEDICATION: MENTAL, DIAGNOSIS: CENTRE}


def surveyed(
    categories: str = "vision",
    economic: str | None = "other",
    *,
    birth_month: str | None = "1958-03",
    residence_permit: bool = False,
) -> PersonSurveyed:
    return PersonSurveyed(
        "sv-1", "p1", 2024, "小龙坎", True, date(2024, 2, 1), birth_month=birth_month, categories=categories,
        economic_status=economic, certified=True, residence_permit=residence_permit,
    )  # fmt: skip


BEFORE_FACTS_WERE_KEPT = PersonSurveyed("sv-1", "p1", 2024, "小龙坎", True, date(2024, 2, 1))
"""A survey logged before it recorded anything about the person."""


def approved(item: str, mode: str = "free", amount_fen: int | None = None) -> ItemsApproved:
    items = (ApprovedItem(item, INSTITUTION[item], mode, amount_fen),)
    return ItemsApproved("ap-1", "a1", "p1", 2024, items, date(2024, 2, 20), area="小龙坎")


def recorded(item: str, charge_fen: int, insurance_paid_fen: int = 0) -> ServiceRecorded:
    return ServiceRecorded(
        "rec-d1", "d1", "a1", "p1", item, INSTITUTION[item], 2024, charge_fen, insurance_paid_fen, True,
        date(2024, 5, 20), period_start=date(2024, 5, 6), period_end=date(2024, 5, 20),
    )  # fmt: skip


def settle(*facts: Fact) -> tuple[list[tuple[str, int]], tuple[str, str] | None]:
    """What the record was paid, and why it waits (if it does)."""
    book = SettlementBook(POLICIES, jurisdiction="shapingba")
    postings: list[Posting] = []
    for fact in facts:
        postings += book.feed(fact)
    waiting = next(((u.code, u.reason) for u in book.unsettled() if u.subject == "d1"), None)
    return [(p.credit_account, p.amount_fen) for p in postings if p.rule == "service_subsidy"], waiting


# 002 三(一)3 「对新增困难白内障患者实施1200元/例手术补贴」: the office approves 1,200 yuan (as the demo
# does); a surgery charged 6,000 yuan, 4,200 paid by insurance, pays 1,200 yuan to a 困难 patient only.
CATARACT_APPROVAL = approved(CATARACT, "fixed_amount", 120_000)
SURGERY = recorded(CATARACT, 600_000, 420_000)


def test_a_cataract_of_a_family_the_survey_recorded_as_not_in_hardship_waits_as_not_eligible() -> None:
    paid, waiting = settle(surveyed(economic="other"), CATARACT_APPROVAL, SURGERY)
    assert paid == []
    assert waiting == (
        "not_eligible",
        "《沙坪坝区“惠残2023工程”工作方案》中「白内障复明手术补贴」的补助条件："
        "按所记录的家庭经济状况，不符合「新增困难白内障患者」的条件",
    )


def test_the_forms_economic_status_counts_over_the_surveys_for_a_single_tier_too() -> None:
    # The survey said 其他, the form 附件2 ticks 低保家庭: 困难, 1,200 yuan.
    form = ApplicationDescribed("f-1", "a1", "p1", "vision", "subsistence_allowance", True)
    paid, waiting = settle(surveyed(economic="other"), form, CATARACT_APPROVAL, SURGERY)
    assert paid == [(f"service_institution:{EYE}", 120_000)] and waiting is None


@pytest.mark.parametrize(
    "facts",
    [
        # 低收入家庭 is 困难 as the pack reads the seed: paid.
        (surveyed(economic="low_income"),),
        # A survey from before the economic status was kept, or none at all: the approval decides, as before.
        (BEFORE_FACTS_WERE_KEPT,),
        (surveyed(economic=None),),
        (),
    ],
)
def test_a_cataract_is_paid_1200_yuan_when_the_recorded_facts_meet_the_tier_or_say_nothing(
    facts: tuple[Fact, ...],
) -> None:
    paid, waiting = settle(*facts, CATARACT_APPROVAL, SURGERY)
    assert paid == [(f"service_institution:{EYE}", 120_000)] and waiting is None


# 002 三(四)9 「对因病住院的困难残疾人住院发票费用自付部分，给予80%的补贴，全年最高补贴不超过1万元」, and 二
# 惠残对象 「户籍地为沙坪坝区且持有《中华人民共和国残疾人证》……的残疾人」: 5,000 yuan self-paid, 80 % = 4,000
# yuan, for a 困难 certified person only.
STAY = recorded(MEDICAL_AID, 500_000)


def test_medical_aid_waits_for_a_person_recorded_as_not_in_hardship_and_pays_a_poor_one_4000_yuan() -> None:
    paid, waiting = settle(surveyed("physical", economic="other"), approved(MEDICAL_AID), STAY)
    assert paid == [] and waiting is not None
    assert waiting[0] == "not_eligible" and "家庭经济状况" in waiting[1]
    paid, waiting = settle(
        surveyed("physical", economic="subsistence_allowance"), approved(MEDICAL_AID), STAY
    )
    assert paid == [(f"service_institution:{HOSPITAL}", 400_000)] and waiting is None


def test_medical_aid_waits_when_the_form_says_the_applicant_holds_no_certificate() -> None:
    form = ApplicationDescribed("f-1", "a1", "p1", "physical", "subsistence_allowance", False)
    paid, waiting = settle(surveyed("physical"), form, approved(MEDICAL_AID), STAY)
    assert paid == [] and waiting is not None
    assert waiting[0] == "not_eligible" and "持证情况" in waiting[1]


# 002 三(一)3 「对精神残疾人开展600-1200元/年/人服药救助」: 800 yuan approved, for a 精神残疾 only.
def test_medication_aid_waits_for_a_person_recorded_with_another_category_only() -> None:
    medication = approved(MEDICATION, "fixed_amount", 80_000)
    paid, waiting = settle(surveyed("physical"), medication, recorded(MEDICATION, 100_000))
    assert paid == [] and waiting is not None
    assert waiting[0] == "not_eligible" and "残疾类别" in waiting[1]
    # No category recorded: the approval decides, 800 yuan.
    paid, _ = settle(surveyed(""), medication, recorded(MEDICATION, 100_000))
    assert paid == [(f"service_institution:{MENTAL}", 80_000)]


# 002 三(一)4 「对沙坪坝区户籍接受康复救助的残疾儿童……给予一次性补贴300元」: a child with a 居住证 (another
# province's 户籍) is not one; a child of 沙坪坝区户籍 is paid 300 yuan of a 450-yuan diagnosis.
def test_the_diagnosis_subsidy_waits_for_a_child_recorded_with_a_residence_permit() -> None:
    diagnosis = (approved(DIAGNOSIS), recorded(DIAGNOSIS, 45_000))
    permit = surveyed("intellectual", birth_month="2021-04", residence_permit=True)
    paid, waiting = settle(permit, *diagnosis)
    assert paid == [] and waiting is not None
    assert waiting[0] == "not_eligible" and "户籍" in waiting[1]
    paid, _ = settle(surveyed("intellectual", birth_month="2021-04"), *diagnosis)
    assert paid == [(f"service_institution:{CENTRE}", 30_000)]
