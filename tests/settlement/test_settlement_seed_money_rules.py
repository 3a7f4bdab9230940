"""Issue 13's money rules, each expected figure computed by hand from the seed text (../shared/seeds),
never read back from the policy files: Anyang's months, the split by county, the standard bounding an
approved fixed amount, a plan governing its whole year, and the institution in charge of a period."""

from __future__ import annotations

from datetime import date

from kernel.reference import load_jurisdiction
from services.settlement.book.dues import Posting
from services.settlement.book.facts import (
    ApplicationDescribed,
    ApprovedItem,
    InstitutionChanged,
    ItemsApproved,
    ServiceRecorded,
)
from services.settlement.book.policy import Policy, PolicySet, load_policies
from services.settlement.book.settlement_book import SettlementBook
from services.settlement.documents.explain import explain, render_explanation
from services.settlement.documents.labels import AccountNames

POLICIES = load_policies()
TRAINING = "children_rehab_training"
CENTRE = "ay-children-centre"
MONTHLY_STANDARD_FEN = 150_000
"""当地每月补助标准 comes from 安政办〔2019〕23号, which is not among the seeds: a deployment input.
These tests play the deployment and give it as 1,500 yuan a month (150,000 fen)."""


def anyang(monthly_fen: int | None = MONTHLY_STANDARD_FEN) -> SettlementBook:
    """Anyang's book; the deployment gives the monthly standard (None: it has not given it yet)."""
    policy = POLICIES.get("anyang-2021")
    assert policy is not None
    data = policy.model_dump()
    data["items"][TRAINING]["standards"]["ten-months"]["subsidy"]["monthly_fen"]["fen"] = monthly_fen
    return SettlementBook(PolicySet([Policy.model_validate(data)]), jurisdiction="anyang")


def described(categories: str = "hearing") -> ApplicationDescribed:
    return ApplicationDescribed("sub-a1", "a1", "p1", categories, "other", False)


def child_approved(
    mode: str = "free", amount_fen: int | None = None, area: str = "文峰区", on: date = date(2021, 3, 1)
) -> ItemsApproved:
    items = (ApprovedItem(TRAINING, CENTRE, mode, amount_fen),)
    return ItemsApproved("ap-a1", "a1", "p1", 2021, items, on, area=area)


def trained(
    delivery: str, start: date, end: date, charge_fen: int, insurance_paid_fen: int = 0
) -> ServiceRecorded:
    return ServiceRecorded(
        f"rec-{delivery}", delivery, "a1", "p1", TRAINING, CENTRE, 2021, charge_fen, insurance_paid_fen,
        True, end, period_start=start, period_end=end,
    )  # fmt: skip


def paid(postings: list[Posting]) -> int:
    return sum(posting.amount_fen for posting in postings)


def settle(book: SettlementBook, *facts: object) -> list[Posting]:
    return [posting for fact in facts for posting in book.feed(fact)]  # type: ignore[arg-type]


# -- rule 2: Anyang pays a short training by the months trained -----------------------------------------
# 004 二: 「听力、言语、肢体、智力残疾儿童和孤独症儿童康复训练时间为10个月，不足10个月的，
# 可根据当地每月补助标准，按救助对象训练月数补助康复费用」.
def test_six_months_of_training_approved_free_are_paid_six_months_of_the_monthly_standard():
    # 2021-03-01..2021-08-31: March to August, 6 months. Self-paid 18,000 - 3,000 = 15,000 yuan.
    # 1,500 yuan x 6 months = 9,000 yuan < 15,000: 9,000 yuan = 900,000 fen.
    postings = settle(
        anyang(), described(), child_approved(),
        trained("d1", date(2021, 3, 1), date(2021, 8, 31), 1_800_000, 300_000),
    )  # fmt: skip
    assert paid(postings) == 900_000
    assert {posting.inputs["months_trained"] for posting in postings} == {6}


def test_a_fixed_amount_approval_is_paid_by_the_months_trained_and_at_most_the_approved_amount():
    # Approved 12,000 yuan. 6 months: 1,500 x 6 = 9,000 < 12,000 -> 9,000 yuan (not the 12,000 approved).
    six = settle(
        anyang(), described(), child_approved("fixed_amount", 1_200_000),
        trained("d1", date(2021, 3, 1), date(2021, 8, 31), 1_800_000, 300_000),
    )  # fmt: skip
    assert paid(six) == 900_000
    # 12 months trained count as 10: 1,500 x 10 = 15,000 > 12,000 approved; self-paid 20,000 -> 12,000 yuan.
    year = settle(
        anyang(), described(), child_approved("fixed_amount", 1_200_000),
        trained("d1", date(2021, 1, 1), date(2021, 12, 31), 2_000_000),
    )  # fmt: skip
    assert paid(year) == 1_200_000


def test_the_months_of_several_records_are_counted_once_and_share_the_months_entitlement():
    # March-May: 3 months -> 1,500 x 3 = 4,500 yuan (self-paid 6,000). June-August: 6 months in all ->
    # 9,000 - 4,500 already paid = 4,500 yuan (self-paid 6,000). A second record of August adds no month:
    # 9,000 - 9,000 = 0, nothing more. Total 9,000 yuan.
    book = anyang()
    first = settle(
        book, described(), child_approved(), trained("d1", date(2021, 3, 1), date(2021, 5, 31), 600_000)
    )
    second = settle(book, trained("d2", date(2021, 6, 1), date(2021, 8, 31), 600_000))
    again = settle(book, trained("d3", date(2021, 8, 1), date(2021, 8, 31), 200_000))
    assert (paid(first), paid(second), paid(again)) == (450_000, 450_000, 0)


def test_without_the_deployments_monthly_standard_a_short_training_waits_naming_the_document():
    book = anyang(monthly_fen=None)
    assert settle(
        book, described(), child_approved("fixed_amount", 1_200_000),
        trained("d1", date(2021, 3, 1), date(2021, 8, 31), 1_800_000),
    ) == []  # fmt: skip
    [note] = book.unsettled()
    assert "安政办〔2019〕23号" in note.reason and "6" in note.reason


# -- rule 3: the funding split follows the application's county --------------------------------------------
# 004 三(三): 「按照中央和省财政负担50%、市县财政负担50%的办法分级筹措资金，
# 其中滑县财政直管县中央、省级承担65%，滑县财政直管县承担35%」.
def test_a_huaxian_childs_subsidy_is_split_65_35_and_a_wenfeng_childs_50_50():
    # 10 months (March-December): 1,500 x 10 = 15,000 yuan entitled; self-paid 10,000.01 yuan = 1,000,001 fen.
    # 滑县: 65% = 650,000.65, 35% = 350,000.35 -> 650,000 + 350,000; the odd fen to the larger remainder.
    march_to_december = (date(2021, 3, 1), date(2021, 12, 31))
    huaxian = settle(
        anyang(), described(), child_approved(area="滑县"), trained("d1", *march_to_december, 1_000_001)
    )
    assert [(p.debit_account, p.amount_fen) for p in huaxian] == [
        ("fund:anyang-central-provincial", 650_001),
        ("fund:anyang-huaxian", 350_000),
    ]
    # 文峰区: 50% each = 500,000.5 -> 500,000 + 500,000; the odd fen: equal remainders and shares, so the
    # first source by id (central-provincial).
    wenfeng = settle(anyang(), described(), child_approved(), trained("d1", *march_to_december, 1_000_001))
    assert [(p.debit_account, p.amount_fen) for p in wenfeng] == [
        ("fund:anyang-central-provincial", 500_001),
        ("fund:anyang-city-county", 500_000),
    ]


# -- rule 4: the standard bounds an approved fixed amount ----------------------------------------------------
# 002 三(一)3: 「对新增困难白内障患者实施1200元/例手术补贴」.
def shapingba_cataract(amount_fen: int) -> list[Posting]:
    book = SettlementBook(POLICIES, jurisdiction="shapingba")
    items = (ApprovedItem("cataract_surgery", "spb-eye-hospital", "fixed_amount", amount_fen),)
    approval = ItemsApproved("ap-c1", "c1", "p2", 2024, items, date(2024, 3, 1), area="小龙坎街道")
    record = ServiceRecorded(
        "rec-c1", "c1-d", "c1", "p2", "cataract_surgery", "spb-eye-hospital", 2024, 300_000, 0, True,
        date(2024, 3, 20), period_start=date(2024, 3, 18), period_end=date(2024, 3, 20),
    )  # fmt: skip
    return settle(book, approval, record)


def test_an_approval_of_1500_yuan_for_a_1200_yuan_cataract_case_pays_1200_and_says_why():
    # Approved 1,500 yuan, charge 3,000 yuan, nothing paid by insurance: the standard 1,200 yuan/例 bounds it.
    [posting] = shapingba_cataract(150_000)
    assert posting.amount_fen == 120_000
    assert (posting.inputs["approved_amount_fen"], posting.inputs["cap_fen"]) == (150_000, 120_000)
    names = AccountNames(load_jurisdiction("liangjiang"), POLICIES)
    text = render_explanation(explain(posting, POLICIES.get("shapingba-2023"), [], names))
    assert "审批定额 1,500.00 元高于目录标准 1,200.00 元" in text
    assert "标准上限" in text and "standard_bound" not in text  # printed under its Chinese name


def test_an_approval_below_the_standard_pays_the_approved_amount():
    # Approved 1,000 yuan < 1,200 yuan/例: 1,000 yuan.
    [posting] = shapingba_cataract(100_000)
    assert posting.amount_fen == 100_000 and "standard_bound" not in posting.inputs


# -- rule 7: a plan governs its year, not only the days after its notice ----------------------------------
# 004: 《2021年安阳市残疾儿童康复救助工作实施方案》「全年救助不少于1015名」, 印发 2021年5月25日.
def test_anyangs_2021_plan_settles_training_of_2021_before_its_notice_date():
    # Approved 2021-02-01; trained February-April (3 months), signed 2021-04-30, before the 2021-05-25 notice:
    # 1,500 x 3 = 4,500 yuan < self-paid 5,000 -> 4,500 yuan under anyang-2021.
    postings = settle(
        anyang(), described(), child_approved(on=date(2021, 2, 1)),
        trained("d1", date(2021, 2, 1), date(2021, 4, 30), 500_000),
    )  # fmt: skip
    assert paid(postings) == 450_000
    assert {posting.policy_id for posting in postings} == {"anyang-2021"}
    policy = POLICIES.get("anyang-2021")
    assert policy is not None
    assert (policy.issued_on, policy.effective_from, policy.effective_until) == (
        date(2021, 5, 25),
        date(2021, 1, 1),
        date(2021, 12, 31),
    )


# -- rule 1: the institution in charge of a record is judged by its service period ------------------------
# 000 (两江): 「残疾人选择定点康复机构后当年度原则上不作变更。确需变更的，须报区残联办核定」.
def test_the_old_institutions_last_period_signed_after_the_change_is_paid_to_the_old_institution():
    # Orientation training at 区第一人民医院 in June; the change to 区第二人民医院 takes effect 2025-07-01;
    # the June record is signed 2025-07-02. Liangjiang's standard is unstated, so the free item pays the
    # self-paid part: 3,000 yuan, to the old hospital.
    book = SettlementBook(POLICIES)
    items = (ApprovedItem("orientation_mobility_training", "lj-first-hospital", "free"),)
    approval = ItemsApproved("ap-o1", "o1", "p3", 2025, items, date(2025, 3, 1), area="鸳鸯")
    change = InstitutionChanged(
        "ch-o1", "o1", "orientation_mobility_training", "lj-first-hospital", "lj-second-hospital",
        date(2025, 7, 1),
    )  # fmt: skip
    june = ServiceRecorded(
        "rec-o1", "o1-june", "o1", "p3", "orientation_mobility_training", "lj-first-hospital", 2025, 300_000,
        0, True, date(2025, 7, 2), period_start=date(2025, 6, 1), period_end=date(2025, 6, 30),
    )  # fmt: skip
    [posting] = settle(book, approval, change, june)
    assert (posting.credit_account, posting.amount_fen) == ("service_institution:lj-first-hospital", 300_000)
    assert book.unsettled() == []
