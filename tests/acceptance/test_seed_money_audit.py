"""The money audit's findings against the seed texts, settled by the book on the shipped packs: every expected
figure is computed by hand from the seed clause quoted beside it, never read from a policy file. Amounts the
seeds leave to a deployment are given in a copy of the pack's inputs.toml, the figure chosen by the test."""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from datetime import date
from itertools import count
from pathlib import Path
from uuid import uuid4

import pytest
from rehab_contracts.events import ApplicationSubmitted

from kernel.reference import load_jurisdiction
from kernel.reference.jurisdiction import JURISDICTIONS_DIR
from services.settlement.book.facts import (
    ApplicationDescribed,
    ApprovedItem,
    Fact,
    ItemsApproved,
    PersonSurveyed,
    ServiceRecorded,
)
from services.settlement.book.policy import PolicySet, load_policies
from services.settlement.book.settlement_book import SettlementBook
from services.settlement.documents.explain import explain, render_explanation
from services.settlement.documents.labels import AccountNames
from services.settlement.fact_types import fact_of
from tests.settlement.settlement_builders import envelope_of, payload_of

SHIPPED = load_policies()
_ids = count(1)


def _event() -> str:
    return f"audit-{next(_ids)}"


def book_of(jurisdiction: str, policies: PolicySet = SHIPPED) -> SettlementBook:
    return SettlementBook(policies, jurisdiction=jurisdiction)


def fed(book: SettlementBook, *facts: Fact) -> dict[str, int]:
    """The balances the facts credit, by account (fen)."""
    credited: dict[str, int] = {}
    for fact in facts:
        for posting in book.feed(fact):
            credited[posting.credit_account] = credited.get(posting.credit_account, 0) + posting.amount_fen
            credited[posting.debit_account] = credited.get(posting.debit_account, 0) - posting.amount_fen
    return {account: fen for account, fen in credited.items() if fen}


def unsettled_codes(book: SettlementBook) -> dict[str, str]:
    return {unsettled.subject: unsettled.code for unsettled in book.unsettled()}


def described(
    application: str, person: str, categories: str, economic: str, ticks: str = ""
) -> ApplicationDescribed:
    return ApplicationDescribed(_event(), application, person, categories, economic, True, ticks)


def approved(
    application: str,
    person: str,
    year: int,
    items: Iterable[tuple[str, str | None, str, int | None]],
    on: date,
    area: str | None = None,
) -> ItemsApproved:
    approved_items = tuple(ApprovedItem(*item) for item in items)
    return ItemsApproved(_event(), application, person, year, approved_items, on, area=area)


def recorded(
    delivery: str,
    application: str,
    person: str,
    item: str,
    institution: str,
    charge_fen: int,
    insurance_fen: int,
    period: tuple[date, date],
    signed_on: date | None = None,
    year: int | None = None,
) -> ServiceRecorded:
    start, end = period
    return ServiceRecorded(
        _event(), delivery, application, person, item, institution, year or start.year, charge_fen,
        insurance_fen, True, signed_on or end, period_start=start, period_end=end,
    )  # fmt: skip


def pack_with_inputs(tmp_path: Path, jurisdiction: str, inputs: str) -> PolicySet:
    """The shipped packs, with ``inputs`` ([[inputs]] tables) added to one pack's inputs.toml."""
    root = tmp_path / "jurisdictions"
    shutil.copytree(JURISDICTIONS_DIR, root)
    path = root / jurisdiction / "inputs.toml"
    given = path.read_text(encoding="utf-8").replace("\ninputs = []\n", "\n")  # a pack that gives none
    path.write_text(given + "\n" + inputs, encoding="utf-8")
    return load_policies(root)


# -- 1. Liangjiang: 「□1. 白内障复明手术（□左眼 □右眼 □低保人员营养费）」 ---------------------------------
# Seed 000 附件2 lists the surgery with the eyes and, beside them, 低保人员营养费: a tick of the same
# item, not another tier. 五(三): 参保残疾人自付部分 … 由区残联办根据《两江新区残疾人基本康复服务目录》
# 标准与项目实施机构进行相关费用结算 — the catalogue is 另行发布 (not a seed), so until a deployment gives
# its standard the surgery pays the self-paid part to the hospital: 8,000 - 3,000 insurance = 5,000 yuan
# = 500,000 fen, to everyone eligible alike. The 营养费's amount is the catalogue's too: unsettled
# (standard_unstated) until inputs.toml gives it; it is 营养费 for the person (低保人员), so it is paid to
# the person, not to the hospital; the tick is once on the form, so once per form.
CQMU = "cqmu-second"
NOVEMBER_1 = (date(2024, 11, 1), date(2024, 11, 1))
SELF_PAID_SURGERY_FEN = 800000 - 300000
NUTRITION_INPUT = """
[[inputs]]
file = "policies/liangjiang-2024.toml"
path = "items.cataract_surgery.supplements.nutrition.subsidy.amount_fen"
fen = 30000
source = "acceptance test: 300 yuan, a figure chosen for the test"
"""


def cataract_patient(economic: str, ticks: str) -> tuple[Fact, ...]:
    application, person = f"a-{economic}-{bool(ticks)}", f"p-{economic}-{bool(ticks)}"
    return (
        described(application, person, "vision", economic, ticks),
        approved(application, person, 2024, [("cataract_surgery", CQMU, "free", None)], date(2024, 10, 20)),
        recorded(
            f"d-{application}", application, person, "cataract_surgery", CQMU, 800000, 300000, NOVEMBER_1
        ),
    )


@pytest.mark.parametrize(
    ("economic", "ticks"),
    [
        ("other", ""),
        ("subsistence_allowance", ""),
        ("subsistence_allowance", "cataract_surgery.nutrition_allowance"),
    ],
)
def test_the_cataract_surgery_pays_the_self_paid_part_to_the_hospital_for_everyone(
    economic: str, ticks: str
) -> None:
    book = book_of("liangjiang")
    credited = fed(book, *cataract_patient(economic, ticks))
    assert credited[f"service_institution:{CQMU}"] == SELF_PAID_SURGERY_FEN
    assert "tier_undecided" not in unsettled_codes(book).values()


def test_the_nutrition_allowance_waits_for_its_amount_and_is_not_paid_without_the_tick() -> None:
    book = book_of("liangjiang")
    fed(book, *cataract_patient("subsistence_allowance", "cataract_surgery.nutrition_allowance"))
    fed(book, *cataract_patient("subsistence_allowance", ""))
    codes = unsettled_codes(book)
    assert codes == {"supplement:nutrition:a-subsistence_allowance-True": "standard_unstated"}


def test_a_given_nutrition_allowance_is_paid_to_the_subsistence_allowance_person_who_ticked_it(
    tmp_path: Path,
) -> None:
    book = book_of("liangjiang", pack_with_inputs(tmp_path, "liangjiang", NUTRITION_INPUT))
    credited = fed(book, *cataract_patient("subsistence_allowance", "cataract_surgery.nutrition_allowance"))
    assert credited["person:p-subsistence_allowance-True"] == 30000  # the input's 300 yuan, once per form
    assert credited[f"service_institution:{CQMU}"] == SELF_PAID_SURGERY_FEN
    assert book.unsettled() == []


def test_the_nutrition_allowances_explanation_shows_its_fixed_amount_not_the_surgerys_self_paid_part(
    tmp_path: Path,
) -> None:
    policies = pack_with_inputs(tmp_path, "liangjiang", NUTRITION_INPUT)
    book = book_of("liangjiang", policies)
    postings = [
        posting
        for fact in cataract_patient("subsistence_allowance", "cataract_surgery.nutrition_allowance")
        for posting in book.feed(fact)
    ]
    [nutrition] = [posting for posting in postings if posting.credit_account.startswith("person:")]
    names = AccountNames(load_jurisdiction("liangjiang"), policies)
    text = render_explanation(explain(nutrition, policies.get(nutrition.policy_id), [], names))
    assert "低保人员营养费 = 定额 300.00 元 × 1 份申请 = 300.00 元" in text
    assert "自付部分 =" not in text  # the surgery's arithmetic (8,000 - 3,000) is not this posting's


def test_the_nutrition_allowance_is_paid_whichever_arrives_last_form_or_record(tmp_path: Path) -> None:
    book = book_of("liangjiang", pack_with_inputs(tmp_path, "liangjiang", NUTRITION_INPUT))
    form, approval, record = cataract_patient("subsistence_allowance", "cataract_surgery.nutrition_allowance")
    credited = fed(book, approval, record, form)
    assert credited["person:p-subsistence_allowance-True"] == 30000


def test_the_form_tick_reaches_settlement_from_the_submitted_application() -> None:
    application, person = uuid4(), uuid4()
    requested = {
        "item": "cataract_surgery",
        "institution_id": CQMU,
        "eyes": ["left"],
        "nutrition_allowance": True,
    }
    submitted = payload_of(
        ApplicationSubmitted, application_id=application, person_id=person, application_year=2024,
        street="康美",
        disability_categories=["vision"], economic_status="subsistence_allowance", certified=True,
        requested_items=[requested],
    )  # fmt: skip
    fact = fact_of(envelope_of(submitted, date(2024, 10, 10), f"application-{application}"))
    assert isinstance(fact, ApplicationDescribed)
    assert fact.ticked("cataract_surgery", "nutrition_allowance")
    assert fact.eyes("cataract_surgery") == 1


# -- 2. Liangjiang: 「实行限额补助的，由残疾人垫付相关费用，凭发票和相关服务证明到所在街道申请报销费用」
# Seed 000 五(三): under a 限额 (cap) the person pays first and is reimbursed on the invoice, so the money
# goes to the person whatever institution the approval names. 自费购买辅助器具补贴 is the 限额 item of
# 附件2 (□贫困残疾人 □非贫困残疾人). An invoice of 800 yuan with a 定额 of 500 yuan approved: 500 yuan =
# 50,000 fen to the person; with a non-poor limit of 600 yuan given by the deployment and 免费 approved:
# min(800, 600) = 600 yuan = 60,000 fen to the person.
CENTRE = "lj-rehab-centre"
DEVICE = "self_purchased_device_subsidy"
NON_POOR_LIMIT_INPUT = """
[[inputs]]
file = "policies/liangjiang-2024.toml"
path = "items.self_purchased_device_subsidy.standards.non-poor.subsidy.cap_fen"
fen = 60000
source = "acceptance test: 600 yuan, a figure chosen for the test"
"""


def device_purchase(mode: str, amount_fen: int | None) -> tuple[Fact, ...]:
    return (
        described("a-device", "p-device", "physical", "other"),
        approved("a-device", "p-device", 2024, [(DEVICE, CENTRE, mode, amount_fen)], date(2024, 10, 20)),
        recorded("d-device", "a-device", "p-device", DEVICE, CENTRE, 80000, 0, NOVEMBER_1),
    )


def test_a_capped_device_purchase_is_reimbursed_to_the_person_though_the_approval_names_an_institution() -> (
    None
):
    credited = fed(book_of("liangjiang"), *device_purchase("fixed_amount", 50000))
    assert credited == {"person:p-device": 50000, "fund:liangjiang-finance": -50000}


def test_the_catalogues_limit_once_given_is_reimbursed_to_the_person_too(tmp_path: Path) -> None:
    book = book_of("liangjiang", pack_with_inputs(tmp_path, "liangjiang", NON_POOR_LIMIT_INPUT))
    credited = fed(book, *device_purchase("free", None))
    assert credited == {"person:p-device": 60000, "fund:liangjiang-finance": -60000}


# -- 3. Shapingba: 「对0-14周岁…残疾儿童在重庆市康复定点服务机构训练的给予400元/人/月交通、生活补贴」
# Seed 002 三(一)3: the allowance is for months of training at a designated institution, so the months paid
# are the allowance record's months that the child's approved, recorded training covers. Months are counted as
# calendar months: a month counts when both an allowance period and a training period touch it.
# A boy born 2019-06 (4 周岁 in March 2024), hearing, family not in hardship: 400 yuan a month.
# Allowance recorded March-December 2024; training March-May: 3 months x 400 = 1,200 yuan = 120,000 fen.
# A second training record June-August: 6 months x 400 = 2,400 yuan = 240,000 fen in all, whatever the order.
# No training recorded: nothing, the allowance waits (nothing_to_pay).
SPB_CENTRE = "spb-children-centre"
TRAINING, ALLOWANCE = "children_rehab_training", "children_transport_living_allowance"
MARCH_TO_DECEMBER = (date(2024, 3, 1), date(2024, 12, 31))


def shapingba_child() -> tuple[Fact, ...]:
    survey = PersonSurveyed(
        _event(), "c1", 2024, "小龙坎", True, date(2024, 2, 1), birth_month="2019-06", categories="hearing",
        economic_status="other", certified=False,
    )  # fmt: skip
    items = [(TRAINING, SPB_CENTRE, "free", None), (ALLOWANCE, SPB_CENTRE, "free", None)]
    return (
        survey,
        described("a-c1", "c1", "hearing", "other"),
        approved("a-c1", "c1", 2024, items, date(2024, 2, 20)),
    )


def training(delivery: str, start: date, end: date) -> ServiceRecorded:
    return recorded(delivery, "a-c1", "c1", TRAINING, SPB_CENTRE, 500000, 0, (start, end))


ALLOWANCE_RECORD = recorded("al1", "a-c1", "c1", ALLOWANCE, SPB_CENTRE, 0, 0, MARCH_TO_DECEMBER)
MARCH_TO_MAY = training("t1", date(2024, 3, 1), date(2024, 5, 31))
JUNE_TO_AUGUST = training("t2", date(2024, 6, 1), date(2024, 8, 31))


def allowance_paid(*facts: Fact) -> tuple[int, dict[str, str]]:
    book = book_of("shapingba")
    credited = fed(book, *shapingba_child(), *facts)
    return credited.get("person:c1", 0), unsettled_codes(book)


def test_the_allowance_is_paid_for_the_months_the_recorded_training_covers() -> None:
    assert allowance_paid(ALLOWANCE_RECORD, MARCH_TO_MAY)[0] == 120000
    assert allowance_paid(MARCH_TO_MAY, ALLOWANCE_RECORD)[0] == 120000


def test_training_recorded_later_tops_the_allowance_up_to_its_months() -> None:
    assert allowance_paid(ALLOWANCE_RECORD, MARCH_TO_MAY, JUNE_TO_AUGUST)[0] == 240000
    assert allowance_paid(JUNE_TO_AUGUST, ALLOWANCE_RECORD, MARCH_TO_MAY)[0] == 240000


def test_an_allowance_without_recorded_training_pays_nothing_and_says_why() -> None:
    paid, codes = allowance_paid(ALLOWANCE_RECORD)
    assert paid == 0
    assert codes["al1"] == "nothing_to_pay"


# -- 4. The policy in force when the service was delivered --------------------------------------------
# Seed 004 (安残联〔2021〕8号) is the 2021 plan (「全年救助不少于1015名」, governing 2021): a training of the
# 2021 programme delivered 2021-12-01..2022-01-31 and signed on 2022-01-31 is the 2021 plan's.
# 「训练时间为10个月，不足10个月的，可根据当地每月补助标准，按救助对象训练月数补助康复费用」: 2 months x
# 1,500 yuan (the 当地每月补助标准, a deployment input, given here) = 3,000 yuan, the charge being 3,000;
# 「按照中央和省财政负担50%、市县财政负担50%」: 1,500 yuan = 150,000 fen from each.
# Seed 002 「自公布之日起实施」 (2023-12-27): a service whose period began on 2023-12-26 was delivered
# before the plan, so it is not paid though signed and approved in 2024 (no_policy, naming the day); one
# that began on 2023-12-27 is paid 「一次性补贴300元」 = 30,000 fen.
ANYANG_MONTHLY_INPUT = """
[[inputs]]
file = "policies/anyang-2021.toml"
path = "items.children_rehab_training.standards.ten-months.subsidy.monthly_fen"
fen = 150000
source = "acceptance test: 1,500 yuan a month, a figure chosen for the test"
"""
ANYANG_CENTRE = "ay-children-centre"


def test_a_training_of_the_2021_plan_signed_in_2022_is_paid_by_the_2021_plan(tmp_path: Path) -> None:
    book = book_of("anyang", pack_with_inputs(tmp_path, "anyang", ANYANG_MONTHLY_INPUT))
    items = [("children_rehab_training", ANYANG_CENTRE, "free", None)]
    credited = fed(
        book,
        described("a-ay", "p-ay", "hearing", "other"),
        approved("a-ay", "p-ay", 2021, items, date(2021, 11, 20), area="文峰区"),
        recorded(
            "d-ay", "a-ay", "p-ay", "children_rehab_training", ANYANG_CENTRE, 300000, 0,
            (date(2021, 12, 1), date(2022, 1, 31)), year=2021,
        ),
    )  # fmt: skip
    assert credited == {
        f"service_institution:{ANYANG_CENTRE}": 300000,
        "fund:anyang-central-provincial": -150000,
        "fund:anyang-city-county": -150000,
    }


@pytest.mark.parametrize(("first_day", "paid_fen"), [(date(2023, 12, 26), 0), (date(2023, 12, 27), 30000)])
def test_a_service_begun_before_shapingbas_plan_took_effect_is_not_paid(
    first_day: date, paid_fen: int
) -> None:
    book = book_of("shapingba")
    diagnosis = "suspected_disability_diagnosis"
    credited = fed(
        book,
        described("a-dx", "p-dx", "hearing", "other"),
        approved("a-dx", "p-dx", 2024, [(diagnosis, SPB_CENTRE, "free", None)], date(2024, 1, 2)),
        recorded(
            "d-dx", "a-dx", "p-dx", diagnosis, SPB_CENTRE, 50000, 0, (first_day, first_day),
            signed_on=date(2024, 1, 5), year=2024,
        ),
    )  # fmt: skip
    assert credited.get(f"service_institution:{SPB_CENTRE}", 0) == paid_fen
    if not paid_fen:
        [waiting] = book.unsettled()
        assert (waiting.code, waiting.reason) == (
            "no_policy",
            "服务周期首日（2023年12月26日）没有施行中的结算政策",
        )


# -- 5. Shapingba: 「对新增困难白内障患者实施1200元/例手术补贴」 ------------------------------------------
# What a 例 is: the same paragraph of seed 002 states its other amounts per person (600-1200元/年/人,
# 5000元/年/人, 2万元/人/年, 400元/人/月); here it says 元/例 手术, per case of surgery, not per patient,
# and a cataract operation is on one eye (附件2 of seed 000 asks □左眼 □右眼). So a 例 is one eye
# operated: each service record of the surgery is one case, up to the eyes the form asks for. Both eyes =
# 2 x 1,200 = 2,400 yuan = 240,000 fen whether on one form or two; a second record of a one-eye form is no
# new case (1,200). One record for both eyes is paid as one case: the delivery record has no eyes.
EYE_HOSPITAL = "spb-eye-hospital"
CATARACT = "cataract_surgery"


def cataract_forms(*forms: tuple[str, tuple[str, ...], int]) -> int:
    """What the hospital is paid for the forms (application, eyes ticked, operations recorded)."""
    book = book_of("shapingba")
    facts: list[Fact] = []
    for application, eyes, operations in forms:
        ticks = ",".join(f"{CATARACT}.eye.{eye}" for eye in eyes)
        facts += [
            described(application, "p-eye", "vision", "subsistence_allowance", ticks),
            approved(application, "p-eye", 2024, [(CATARACT, EYE_HOSPITAL, "free", None)], date(2024, 3, 1)),
        ]
        for operation in range(operations):
            day = date(2024, 5 + operation, 10)
            facts.append(
                recorded(
                    f"{application}-{operation}",
                    application,
                    "p-eye",
                    CATARACT,
                    EYE_HOSPITAL,
                    300000,
                    0,
                    (day, day),
                )
            )
    return fed(book, *facts).get(f"service_institution:{EYE_HOSPITAL}", 0)


def test_two_eyes_pay_two_cases_on_one_form_or_on_two() -> None:
    assert cataract_forms(("one-form", ("left", "right"), 2)) == 240000
    assert cataract_forms(("left-form", ("left",), 1), ("right-form", ("right",), 1)) == 240000


def test_a_case_is_an_eye_operated_and_recorded_and_no_more_than_the_form_asks_for() -> None:
    assert cataract_forms(("one-form", ("left", "right"), 1)) == 120000
    assert cataract_forms(("one-eye", ("left",), 2)) == 120000
