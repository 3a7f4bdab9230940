"""Shapingba's measures that could not be entered before (issue 13 rule 8), priced by the settlement book:
the monthly transport and living allowance with its hardship tier, the once-only diagnosis, medication
within a range, the inpatient allowance, and medical aid at 80 % with its caps. Every expected figure is
computed by hand from seed 002 (沙府办发〔2023〕100号), never read from the policy file."""

from __future__ import annotations

from datetime import date

from services.settlement.book.dues import Posting
from services.settlement.book.facts import ApprovedItem, ItemsApproved, PersonSurveyed, ServiceRecorded
from services.settlement.book.policy import load_policies
from services.settlement.book.settlement_book import SettlementBook

POLICIES = load_policies()
CENTRE = "spb-children-centre"
MENTAL = "spb-mental-health-centre"
HOSPITAL = "spb-general-hospital"


def survey(birth_month: str, categories: str, economic: str = "other", hardship: str = "") -> PersonSurveyed:
    return PersonSurveyed(
        "sv-1", "p1", 2024, "小龙坎", True, date(2024, 2, 1),
        birth_month=birth_month, categories=categories, economic_status=economic, certified=True,
        hardship=hardship,
    )  # fmt: skip


def approval(
    item: str, institution: str, mode: str = "free", amount_fen: int | None = None, *, application: str = "a1"
) -> ItemsApproved:
    approved = (ApprovedItem(item, institution, mode, amount_fen),)
    return ItemsApproved(
        f"ap-{application}", application, "p1", 2024, approved, date(2024, 2, 20), area="小龙坎"
    )


def record(
    delivery: str,
    item: str,
    institution: str,
    *,
    charge_fen: int,
    insurance_paid_fen: int = 0,
    start: date = date(2024, 3, 1),
    end: date = date(2024, 3, 31),
    application: str = "a1",
    year: int = 2024,
) -> ServiceRecorded:
    return ServiceRecorded(
        f"rec-{delivery}", delivery, application, "p1", item, institution, year, charge_fen,
        insurance_paid_fen, True, end, period_start=start, period_end=end,
    )  # fmt: skip


def settle(*facts: object) -> tuple[SettlementBook, list[tuple[str, int]]]:
    book = SettlementBook(POLICIES, jurisdiction="shapingba")
    postings: list[Posting] = []
    for fact in facts:
        postings += book.feed(fact)  # type: ignore[arg-type]
    return book, [(p.credit_account, p.amount_fen) for p in postings if p.rule == "service_subsidy"]


def waiting(book: SettlementBook) -> dict[str, tuple[str, str]]:
    return {u.subject: (u.code, u.reason) for u in book.unsettled() if u.subject.startswith("d")}


# 002 三(一)3: 「对0-14周岁沙坪坝区户籍残疾儿童在重庆市康复定点服务机构训练的给予400元/人/月交通、生活补贴；
# 经济条件困难家庭儿童给予500元/人/月交通、生活补贴」. March to December 2024 is 10 months: 4,000 yuan, or
# 5,000 yuan for a 低保 family; an allowance asks no cost and goes to the family (the person), whatever the
# record charges. It is paid for the months of training 在…训练的: each case records the child's training
# at the centre over March-December (charged nothing here, so only the allowance is paid).
ALLOWANCE = "children_transport_living_allowance"
TRAINED = (
    approval("children_rehab_training", CENTRE, application="at"),
    record("t1", "children_rehab_training", CENTRE, charge_fen=0, end=date(2024, 12, 31), application="at"),
)


def test_a_childs_ten_months_of_training_earn_400_yuan_a_month_to_the_family():
    _, paid = settle(
        survey("2016-06", "hearing"),
        *TRAINED,
        approval(ALLOWANCE, CENTRE),
        record("d1", ALLOWANCE, CENTRE, charge_fen=0, end=date(2024, 12, 31)),
    )
    assert paid == [("person:p1", 400_000)]


def test_a_hardship_family_gets_500_yuan_a_month_not_400():
    _, paid = settle(
        survey("2016-06", "hearing", economic="subsistence_allowance"),
        *TRAINED,
        approval(ALLOWANCE, CENTRE),
        record("d1", ALLOWANCE, CENTRE, charge_fen=0, end=date(2024, 12, 31)),
    )
    assert paid == [("person:p1", 500_000)]


def test_monthly_records_add_up_month_by_month_and_a_fixed_amount_bounds_them():
    # Two records, March-April then May: 3 months x 500 = 1,500 yuan, 1,000 then 500; an approval of
    # 1,200 yuan stops the second at 200 yuan.
    facts = (
        survey("2016-06", "hearing", hardship="de_facto_unsupported"),
        *TRAINED,
        record("d1", ALLOWANCE, CENTRE, charge_fen=0, end=date(2024, 4, 30)),
        record("d2", ALLOWANCE, CENTRE, charge_fen=0, start=date(2024, 5, 1), end=date(2024, 5, 31)),
    )
    assert settle(approval(ALLOWANCE, CENTRE), *facts)[1] == [("person:p1", 100_000), ("person:p1", 50_000)]
    fixed = approval(ALLOWANCE, CENTRE, "fixed_amount", 120_000)
    assert settle(fixed, *facts)[1] == [("person:p1", 100_000), ("person:p1", 20_000)]


def test_a_child_of_15_gets_no_allowance_and_the_record_says_why():
    book, paid = settle(
        survey("2008-12", "hearing"),
        approval(ALLOWANCE, CENTRE),
        record("d1", ALLOWANCE, CENTRE, charge_fen=0, end=date(2024, 12, 31)),
    )
    assert paid == []
    assert waiting(book)["d1"][0] == "not_eligible"


# 002 三(一)4: 「对沙坪坝区户籍接受康复救助的残疾儿童，按照我市疑似残疾儿童诊断补贴规定给予一次性补贴300元」.
DIAGNOSIS = "suspected_disability_diagnosis"


def test_the_diagnosis_pays_300_yuan_once_and_never_again_for_the_same_child():
    book, paid = settle(
        survey("2021-04", "intellectual"),
        approval(DIAGNOSIS, CENTRE),
        record("d1", DIAGNOSIS, CENTRE, charge_fen=45_000),
        approval(DIAGNOSIS, CENTRE, application="a2"),
        record("d2", DIAGNOSIS, CENTRE, charge_fen=45_000, application="a2"),
    )
    assert paid == [(f"service_institution:{CENTRE}", 30_000)]
    code, reason = waiting(book)["d2"]
    assert code == "paid_once"
    assert reason.startswith("「疑似残疾儿童诊断补贴」是一次性补贴，已按 2024年3月31日 签字的服务记录")


# 002 三(一)3: 「对精神残疾人开展600-1200元/年/人服药救助」: 区残联办 decides the amount within the range.
MEDICATION = "mental_medication_aid"


def test_medication_aid_pays_the_approved_800_yuan_and_refuses_an_amount_below_600():
    medication = record("d1", MEDICATION, MENTAL, charge_fen=100_000, end=date(2024, 12, 31))
    assert settle(approval(MEDICATION, MENTAL, "fixed_amount", 80_000), medication)[1] == [
        (f"service_institution:{MENTAL}", 80_000)
    ]
    book, paid = settle(approval(MEDICATION, MENTAL, "fixed_amount", 50_000), medication)
    code, reason = waiting(book)["d1"]
    assert paid == [] and code == "outside_range"
    assert reason.endswith("「精神残疾人服药救助」：审批金额 500.00 元低于标准区间下限 600.00 元")
    book, paid = settle(approval(MEDICATION, MENTAL), medication)
    assert paid == [] and "审批未给出金额" in waiting(book)["d1"][1]


# 002 三(一)3: 「对特殊困难、确实需要住院治疗精神残疾人给予最高5000元/年/人住院补贴」.
INPATIENT = "mental_inpatient_aid"


def test_the_inpatient_allowance_pays_the_self_paid_part_up_to_5000_yuan_a_year():
    # 8,000 yuan charged, 2,000 paid by insurance: 6,000 self-paid, 5,000 paid; a second stay pays nothing.
    book, paid = settle(
        survey("1980-05", "mental", economic="subsistence_allowance"),
        approval(INPATIENT, MENTAL),
        record("d1", INPATIENT, MENTAL, charge_fen=800_000, insurance_paid_fen=200_000),
        record("d2", INPATIENT, MENTAL, charge_fen=300_000, start=date(2024, 6, 1), end=date(2024, 6, 9)),
    )
    assert paid == [(f"service_institution:{MENTAL}", 500_000)]
    assert waiting(book)["d2"][0] == "nothing_to_pay"


# 002 三(四)9: 「对因病住院的困难残疾人住院发票费用自付部分，给予80%的补贴，全年最高补贴不超过1万元。对患重大
# 疾病的困难残疾人配偶及未成年子女住院发票费用自付部分，给予80%的补贴，全年最高补贴不超过0.3万元」.
def test_medical_aid_pays_80_percent_of_the_self_paid_part_up_to_10000_yuan_a_year():
    # 20,000 - 12,000 = 8,000 self-paid: 80 % = 6,400 yuan; then 30,000 - 15,000 = 15,000: 80 % = 12,000,
    # of which 10,000 - 6,400 = 3,600 yuan are left.
    aid = "inpatient_medical_aid"
    _, paid = settle(
        survey("1970-01", "physical", economic="subsistence_allowance"),
        approval(aid, HOSPITAL),
        record("d1", aid, HOSPITAL, charge_fen=2_000_000, insurance_paid_fen=1_200_000),
        record(
            "d2", aid, HOSPITAL, charge_fen=3_000_000, insurance_paid_fen=1_500_000, start=date(2024, 7, 1)
        ),
    )
    assert paid == [
        (f"service_institution:{HOSPITAL}", 640_000),
        (f"service_institution:{HOSPITAL}", 360_000),
    ]


def test_medical_aid_for_a_spouse_or_minor_child_pays_80_percent_up_to_3000_yuan_a_year():
    # 5,000 yuan self-paid: 80 % = 4,000 yuan, capped at 3,000; an approved 2,500 yuan bounds it at 2,500.
    aid = "family_inpatient_medical_aid"
    stay = record("d1", aid, HOSPITAL, charge_fen=900_000, insurance_paid_fen=400_000)
    assert settle(approval(aid, HOSPITAL), stay)[1] == [(f"service_institution:{HOSPITAL}", 300_000)]
    assert settle(approval(aid, HOSPITAL, "fixed_amount", 250_000), stay)[1] == [
        (f"service_institution:{HOSPITAL}", 250_000)
    ]
