"""Standards that depend on the person (issue 13 rule 5): Shapingba's tiers priced from what the year's
survey recorded (birth month, category and sub-type, hardship, 居住证). Every expected figure is computed by
hand from seed 002 (沙府办发〔2023〕100号), never read from the policy file."""

from __future__ import annotations

from datetime import date

import pytest

from services.settlement.book.dues import Posting
from services.settlement.book.facts import (
    ApplicationDescribed,
    ApprovedItem,
    ItemsApproved,
    PersonSurveyed,
    ServiceRecorded,
)
from services.settlement.book.policy import load_policies
from services.settlement.book.pricing import age_on
from services.settlement.book.settlement_book import SettlementBook

POLICIES = load_policies()
CENTRE = "spb-children-centre"
TRAINING = "children_rehab_training"


def survey(
    birth_month: str,
    categories: str,
    *,
    economic: str = "other",
    subtypes: str = "",
    hardship: str = "",
    residence_permit: bool = False,
) -> PersonSurveyed:
    return PersonSurveyed(
        "sv-1", "p1", 2024, "小龙坎", True, date(2024, 2, 1),
        birth_month=birth_month, categories=categories, economic_status=economic, certified=True,
        subtypes=subtypes, hardship=hardship, residence_permit=residence_permit,
    )  # fmt: skip


def approval(item: str = TRAINING, mode: str = "free", amount_fen: int | None = None) -> ItemsApproved:
    approved = (ApprovedItem(item, CENTRE, mode, amount_fen),)
    return ItemsApproved("ap-1", "a1", "p1", 2024, approved, date(2024, 2, 20), area="小龙坎")


def record(
    delivery: str = "d1",
    *,
    item: str = TRAINING,
    charge_fen: int = 2_500_000,
    insurance_paid_fen: int = 0,
    start: date = date(2024, 3, 1),
    end: date = date(2024, 12, 31),
) -> ServiceRecorded:
    return ServiceRecorded(
        f"rec-{delivery}", delivery, "a1", "p1", item, CENTRE, 2024, charge_fen, insurance_paid_fen, True,
        end, period_start=start, period_end=end,
    )  # fmt: skip


def book_of(*facts: object) -> tuple[SettlementBook, list[Posting]]:
    book = SettlementBook(POLICIES, jurisdiction="shapingba")
    postings: list[Posting] = []
    for fact in facts:
        postings += book.feed(fact)  # type: ignore[arg-type]
    return book, postings


def subsidies(postings: list[Posting]) -> list[tuple[str, int]]:
    return [(p.credit_account, p.amount_fen) for p in postings if p.rule == "service_subsidy"]


def waiting(book: SettlementBook) -> dict[str, tuple[str, str]]:
    """The service records that wait, and why (Shapingba states no survey fee: that waits too, unasked)."""
    return {u.subject: (u.code, u.reason) for u in book.unsettled() if u.subject.startswith("d")}


# 002 三(一)3: 「对0-6周岁沙坪坝区户籍的儿童及居住在沙坪坝区的0-6周岁外省市户籍且持有居住证的
# 听力、言语、肢体、智力及孤独症儿童给予2万元/人/年专项训练补助；低视力儿童给予1万元/人/年专项训练
# 补助；盲童给予5000元/人/年专项训练补助。对7-14周岁沙坪坝区户籍、持《中华人民共和国残疾人证》、
# 家庭经济条件困难（……散居残疾孤儿，事实无人抚养残疾儿童、纳入特困人员供养范围的残疾儿童，
# 乡村振兴部门认定的防止返贫监测对象家庭）的……儿童……给予2万元/人/年专项训练补助；低视力儿童给予
# 5000元/人/年专项训练补助；盲童给予3000元/人/年专项训练补助」. A training charged 25,000 yuan, nothing
# paid by insurance, pays the year's standard where it is lower than the self-paid 25,000 yuan.
@pytest.mark.parametrize(
    ("surveyed", "paid_fen"),
    [
        # born 2019-05: 4 周岁 on 2024-03-01, hearing: 20,000 yuan.
        (survey("2019-05", "hearing"), 2_000_000),
        # 孤独症 recorded as a sub-type of a mental disability, 5 周岁, 居住证: 20,000 yuan.
        (survey("2018-07", "mental", subtypes="autism", residence_permit=True), 2_000_000),
        # 低视力 0-6: 10,000 yuan; 盲 0-6: 5,000 yuan.
        (survey("2020-01", "vision", subtypes="low_vision"), 1_000_000),
        (survey("2020-01", "vision", subtypes="blind"), 500_000),
        # born 2015-02: 9 周岁; 防止返贫监测对象家庭 is 困难: 20,000 yuan; 低视力 5,000; 盲 3,000.
        (survey("2015-02", "physical", hardship="poverty_relapse_monitoring"), 2_000_000),
        (survey("2015-02", "vision", subtypes="low_vision", hardship="scattered_orphan"), 500_000),
        (survey("2015-02", "vision", subtypes="blind", hardship="extreme_poverty_support"), 300_000),
        # 低保家庭 is 困难 too: 20,000 yuan.
        (survey("2012-11", "intellectual", economic="subsistence_allowance"), 2_000_000),
    ],
)
def test_a_childs_training_is_paid_the_standard_of_the_age_category_and_hardship_the_survey_recorded(
    surveyed: PersonSurveyed, paid_fen: int
) -> None:
    book, postings = book_of(surveyed, approval(), record())
    assert subsidies(postings) == [(f"service_institution:{CENTRE}", paid_fen)]
    assert waiting(book) == {}


@pytest.mark.parametrize(
    ("surveyed", "code", "why"),
    [
        # 9 周岁 without hardship: 7-14 is for 困难 families only.
        (survey("2015-02", "physical"), "not_eligible", "没有一档标准适用"),
        # 7-14 asks 沙坪坝区户籍: a 居住证 does not admit.
        (
            survey("2015-02", "physical", hardship="scattered_orphan", residence_permit=True),
            "not_eligible",
            "没有一档标准适用",
        ),
        # 15 周岁 on 2024-03-01 (born 2009-01): no tier at all.
        (survey("2009-01", "hearing", hardship="scattered_orphan"), "not_eligible", "没有一档标准适用"),
        # born 2017-03, training from 2024-03-01: 7 周岁 if the birthday came on the 1st, else 6.
        (survey("2017-03", "hearing"), "tier_undecided", "无法确定是否已满该周岁"),
    ],
)
def test_a_childs_training_waits_naming_why_when_the_recorded_facts_admit_no_single_tier(
    surveyed: PersonSurveyed, code: str, why: str
) -> None:
    book, postings = book_of(surveyed, approval(), record())
    assert subsidies(postings) == []
    [(found, reason)] = waiting(book).values()
    assert found == code and why in reason


def test_a_record_that_arrives_before_the_survey_waits_for_it_then_pays_the_same_as_in_order():
    surveyed = survey("2019-05", "hearing")
    book, before = book_of(approval(), record())
    assert subsidies(before) == []
    [(code, reason)] = waiting(book).values()
    assert code == "tier_undecided" and "需求调查" in reason
    late = subsidies(book.feed(surveyed))
    _, in_order = book_of(surveyed, approval(), record())
    assert late == subsidies(in_order) == [(f"service_institution:{CENTRE}", 2_000_000)]
    assert waiting(book) == {}


def test_the_forms_categories_and_economic_status_count_over_the_surveys():
    # The form ticks 低保 where the survey said 其他: 9 周岁, 困难 by the form, 20,000 yuan.
    form = ApplicationDescribed("f-1", "a1", "p1", "physical", "subsistence_allowance", True)
    _, postings = book_of(survey("2015-02", "physical"), form, approval(), record())
    assert subsidies(postings) == [(f"service_institution:{CENTRE}", 2_000_000)]


@pytest.mark.parametrize(
    ("birth_month", "day", "age"),
    [
        ("2019-05", date(2024, 3, 1), (4, False)),
        ("2019-05", date(2024, 6, 1), (5, False)),
        ("2019-05", date(2024, 5, 31), (5, True)),
        ("2024-02", date(2024, 2, 10), (0, False)),
        ("2024-05", date(2024, 2, 10), (None, False)),
        (None, date(2024, 2, 10), (None, False)),
    ],
)
def test_the_age_in_full_years_follows_from_the_birth_month_and_is_uncertain_only_in_that_month(
    birth_month: str | None, day: date, age: tuple[int | None, bool]
) -> None:
    assert age_on(birth_month, day) == age
