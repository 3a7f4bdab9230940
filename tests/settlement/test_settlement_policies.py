"""The four policy files: what they state, what they leave unstated, validation and the policy in force."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError
from rehab_contracts.vocabulary import SUPPORT_SERVICE_ITEMS, CatalogueItem

from services.settlement.book.policy import (
    Cap,
    CoverageTarget,
    DeploymentInput,
    FenFigure,
    FixedAmount,
    Free,
    Indicator,
    Monthly,
    Percentage,
    Policy,
    PolicySet,
    Range,
    load_policies,
    load_policy,
    policy_file,
)

POLICIES = load_policies()
LIANGJIANG = load_policy(policy_file("liangjiang-2024"))
SHAPINGBA = load_policy(policy_file("shapingba-2023"))
ANYANG = load_policy(policy_file("anyang-2021"))
ZHUHAI = load_policy(policy_file("zhuhai-2017"))


def tier(policy: Policy, item: str, code: str):
    return policy.items[item].standards[code].subsidy


def cap_of(subsidy: object) -> FenFigure | DeploymentInput:
    assert isinstance(subsidy, Cap), subsidy
    return subsidy.cap_fen


def monthly_of(subsidy: object) -> FenFigure | DeploymentInput:
    assert isinstance(subsidy, Monthly), subsidy
    return subsidy.monthly_fen


def target(policy: Policy, indicator: Indicator, year: int, scope: str = "jurisdiction") -> CoverageTarget:
    found = policy.coverage_target(indicator, year, scope)
    assert found is not None, (policy.id, indicator, year, scope)
    return found


# -- the four files ----------------------------------------------------------------------------------
def test_the_policy_directory_holds_the_four_policies_of_the_seeds():
    assert sorted(policy.id for policy in POLICIES) == [
        "anyang-2021",
        "liangjiang-2024",
        "shapingba-2023",
        "zhuhai-2017",
    ]


def test_the_liangjiang_2024_policy_states_the_seeds_fees_in_fen():
    assert (LIANGJIANG.id, LIANGJIANG.version) == ("liangjiang-2024", 2)
    assert LIANGJIANG.jurisdiction == "liangjiang"
    assert (LIANGJIANG.effective_from, LIANGJIANG.effective_until) == (date(2024, 9, 29), None)
    assert LIANGJIANG.funding_account == "fund:liangjiang-finance"
    fees = LIANGJIANG.fees
    assert (fees.survey_fee_fen, fees.management_fee_fen, fees.assessment_fee_fen) == (3000, 3000, 3000)
    assert fees.support_service_fen == 20000
    assert LIANGJIANG.insurance_first is True


def test_the_liangjiang_policy_lists_every_catalogue_item_but_shapingbas_own_measures_and_no_other():
    shapingbas_own = {
        "children_transport_living_allowance",
        "suspected_disability_diagnosis",
        "mental_medication_aid",
        "mental_inpatient_aid",
        "inpatient_medical_aid",
        "family_inpatient_medical_aid",
    }
    assert set(LIANGJIANG.items) == {item.value for item in CatalogueItem} - shapingbas_own
    assert shapingbas_own < set(SHAPINGBA.items)


def test_the_liangjiang_policy_marks_exactly_the_support_service_items_as_support_services():
    support = {code for code, item in LIANGJIANG.items.items() if item.kind == "support_service"}
    assert support == {item.value for item in SUPPORT_SERVICE_ITEMS}
    assert tier(LIANGJIANG, "support_service_mental", "service") == FixedAmount(
        mode="fixed_amount", amount_fen=20000, per="person_year"
    )


def test_no_liangjiang_catalogue_standard_is_stated_because_the_catalogue_is_published_separately():
    amounts = [
        getattr(standard.subsidy, name)
        for item in LIANGJIANG.items.values()
        if item.kind != "support_service"
        for standard in item.standards.values()
        for name in ("standard_fen", "cap_fen", "amount_fen")
        if hasattr(standard.subsidy, name)
    ]
    # 「《两江新区残疾人基本康复服务目录》，另行发布」: each standard is a deployment input, none given.
    assert amounts and all(isinstance(amount, DeploymentInput) and amount.fen is None for amount in amounts)


def test_shapingba_states_the_childrens_training_standards_by_age_category_and_hardship():
    caps = {
        code: cap_of(standard.subsidy)
        for code, standard in SHAPINGBA.items["children_rehab_training"].standards.items()
    }
    assert caps == {
        "age-0-6": 2_000_000,
        "age-0-6-low-vision": 1_000_000,
        "age-0-6-blind": 500_000,
        "age-7-14-hardship": 2_000_000,
        "age-7-14-hardship-low-vision": 500_000,
        "age-7-14-hardship-blind": 300_000,
    }
    hardship = SHAPINGBA.items["children_rehab_training"].standards["age-7-14-hardship"].eligibility
    assert hardship.age is not None
    assert (hardship.age.min_years, hardship.age.max_years) == (7, 14)
    assert "hardship" in hardship.economic_status and hardship.certificate == "required"


def test_shapingba_states_allowances_cataract_diagnosis_medication_and_medical_aid():
    allowance = SHAPINGBA.items["children_transport_living_allowance"].standards
    assert [monthly_of(s.subsidy) for s in allowance.values()] == [40000, 50000]
    assert tier(SHAPINGBA, "cataract_surgery", "hardship") == FixedAmount(
        mode="fixed_amount", amount_fen=120000, per="case"
    )
    assert tier(SHAPINGBA, "suspected_disability_diagnosis", "once") == FixedAmount(
        mode="fixed_amount", amount_fen=30000, per="once"
    )
    assert tier(SHAPINGBA, "mental_medication_aid", "medication") == Range(
        mode="range", min_fen=60000, max_fen=120000, per="person_year"
    )
    assert tier(SHAPINGBA, "mental_inpatient_aid", "inpatient") == Cap(
        mode="cap", cap_fen=500000, per="person_year"
    )
    assert tier(SHAPINGBA, "inpatient_medical_aid", "person") == Percentage(
        mode="percentage", percent=Decimal(80), cap_fen=1_000_000, per="person_year"
    )
    assert tier(SHAPINGBA, "family_inpatient_medical_aid", "family") == Percentage(
        mode="percentage", percent=Decimal(80), cap_fen=300_000, per="person_year"
    )


def test_anyang_states_ten_months_the_funding_split_and_the_county_quotas_but_not_the_monthly_standard():
    training = tier(ANYANG, "children_rehab_training", "ten-months")
    assert isinstance(training, Monthly) and training.max_months == 10 and training.against_cost
    # 当地每月补助标准 is set by 安政办〔2019〕23号, not among the seeds: the deployment gives it.
    assert isinstance(training.monthly_fen, DeploymentInput) and training.monthly_fen.fen is None
    assert "安政办〔2019〕23号" in training.monthly_fen.deployment_input
    assert ANYANG.funding.split_for("文峰区").shares == {"central-provincial": 50, "city-county": 50}
    assert ANYANG.funding.split_for("滑县").shares == {"central-provincial": 65, "huaxian": 35}
    [quotas] = ANYANG.quotas
    assert (quotas.year, quotas.total, quotas.minimum, quotas.by_area["滑县"]) == (2021, 1015, True, 200)


def test_zhuhai_states_the_yearly_coverage_targets_per_district_and_the_2020_city_target():
    per_district = {
        year: target(ZHUHAI, "basic_rehab_service", year, "each_district").percent
        for year in (2017, 2018, 2019, 2020)
    }
    assert per_district == {2017: 60, 2018: 80, 2019: 85, 2020: 90}
    assert target(ZHUHAI, "basic_rehab_service", 2020).percent == 80
    assert ZHUHAI.coverage_target("basic_rehab_service", 2018) is None


def test_coverage_targets_of_liangjiang_and_shapingba_apply_to_every_year_in_force():
    assert target(LIANGJIANG, "basic_rehab_service", 2025).percent == 100
    assert target(SHAPINGBA, "basic_rehab_service", 2024).percent == 90
    assert target(SHAPINGBA, "assistive_device_fitting", 2024).percent == 85
    assert target(SHAPINGBA, "family_doctor_signing", 2024).percent == 86


def test_every_policy_says_which_figures_its_seed_leaves_unstated():
    gaps = {policy.id: dict(policy.unstated_figures()) for policy in POLICIES}
    monthly = "anyang-2021.items.children_rehab_training.standards.ten-months.subsidy.monthly_fen"
    assert monthly in gaps["anyang-2021"]
    assert "zhuhai-2017.items.catalogue.standards.all.subsidy.standard_fen" in gaps["zhuhai-2017"]
    assert "shapingba-2023.fees.survey_fee_fen" in gaps["shapingba-2023"]
    assert "liangjiang-2024.fees.survey_fee_fen" not in gaps["liangjiang-2024"]
    assert all(reason.strip() for policy_gaps in gaps.values() for reason in policy_gaps.values())


# -- validation --------------------------------------------------------------------------------------
def _data(policy: Policy = LIANGJIANG) -> dict:
    return policy.model_dump()


def test_a_figure_cannot_be_left_out_it_must_be_a_number_or_say_why_it_is_unstated():
    data = _data()
    del data["fees"]["survey_fee_fen"]
    with pytest.raises(ValidationError, match="survey_fee_fen"):
        Policy.model_validate(data)
    data["fees"]["survey_fee_fen"] = {"unstated": ""}
    with pytest.raises(ValidationError):
        Policy.model_validate(data)


def test_a_zero_fee_is_refused():
    data = _data()
    data["fees"]["survey_fee_fen"] = 0
    with pytest.raises(ValidationError):
        Policy.model_validate(data)


def test_funding_shares_must_add_up_to_one_hundred():
    data = _data(ANYANG)
    data["funding"]["splits"]["huaxian"]["shares"]["huaxian"] = 30
    with pytest.raises(ValidationError, match="add up to 100"):
        Policy.model_validate(data)


def test_a_split_must_name_known_sources_and_one_split_is_the_default():
    data = _data(ANYANG)
    data["funding"]["splits"]["huaxian"]["shares"] = {"central-provincial": 65, "province": 35}
    with pytest.raises(ValidationError, match="unknown sources"):
        Policy.model_validate(data)
    data = _data(ANYANG)
    data["funding"]["splits"]["default"]["areas"] = ("文峰区",)
    with pytest.raises(ValidationError, match="default"):
        Policy.model_validate(data)


def test_quotas_must_add_up_to_their_stated_total():
    data = _data(ANYANG)
    data["quotas"][0]["by_area"]["滑县"] = 199
    with pytest.raises(ValidationError, match="1014"):
        Policy.model_validate(data)


def test_an_effective_period_must_not_end_before_it_starts():
    data = _data(ZHUHAI)
    data["effective_until"] = date(2016, 12, 31)
    with pytest.raises(ValidationError, match="before"):
        Policy.model_validate(data)


def test_a_subsidy_mode_is_one_of_the_known_modes():
    data = _data()
    data["items"]["low_vision_training"]["standards"]["training"]["subsidy"] = {"mode": "lottery"}
    with pytest.raises(ValidationError):
        Policy.model_validate(data)
    assert isinstance(tier(LIANGJIANG, "low_vision_training", "training"), Free)


def test_a_policy_file_must_be_named_after_its_id(tmp_path: Path):
    misnamed = tmp_path / "liangjiang-2025.toml"
    misnamed.write_bytes(policy_file("liangjiang-2024").read_bytes())
    with pytest.raises(ValueError, match="named after its id"):
        load_policy(misnamed)


def test_two_policies_with_the_same_id_are_refused():
    with pytest.raises(ValueError, match="unique"):
        PolicySet([LIANGJIANG, LIANGJIANG.model_copy(update={"effective_from": date(2026, 1, 1)})])


def test_two_policies_of_one_jurisdiction_starting_the_same_day_are_refused():
    with pytest.raises(ValueError, match="same date"):
        PolicySet([LIANGJIANG, LIANGJIANG.model_copy(update={"id": "liangjiang-2024b"})])


# -- the policy in force -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("jurisdiction", "day", "expected"),
    [
        ("liangjiang", date(2024, 9, 28), None),
        ("liangjiang", date(2024, 9, 29), "liangjiang-2024"),
        ("liangjiang", date(2031, 1, 1), "liangjiang-2024"),
        ("shapingba", date(2023, 12, 26), None),
        ("shapingba", date(2023, 12, 27), "shapingba-2023"),
        # 004: issued 2021-05-25, the plan governs 2021 (全年救助不少于1015名): in force before its notice.
        ("anyang", date(2020, 12, 31), None),
        ("anyang", date(2021, 1, 1), "anyang-2021"),
        ("anyang", date(2021, 5, 24), "anyang-2021"),
        ("anyang", date(2021, 12, 31), "anyang-2021"),
        ("anyang", date(2022, 1, 1), None),
        ("zhuhai", date(2017, 6, 19), "zhuhai-2017"),
        ("zhuhai", date(2020, 12, 31), "zhuhai-2017"),
        ("zhuhai", date(2021, 1, 1), None),
        ("tongnan", date(2024, 1, 1), None),
    ],
)
def test_the_policy_in_force_depends_on_the_jurisdiction_and_the_business_date(jurisdiction, day, expected):
    policy = POLICIES.in_force(jurisdiction, day)
    assert (policy.id if policy else None) == expected


def test_a_later_policy_supersedes_an_earlier_one_from_its_first_day():
    later = LIANGJIANG.model_copy(update={"id": "liangjiang-2026", "effective_from": date(2026, 1, 1)})
    policies = PolicySet([later, LIANGJIANG])
    assert policies.in_force("liangjiang", date(2025, 12, 31)) is LIANGJIANG
    assert policies.in_force("liangjiang", date(2026, 1, 1)) is later


def test_selection_is_a_pure_function_of_its_arguments():
    day = date(2024, 10, 1)
    assert [POLICIES.in_force("liangjiang", day) for _ in range(3)] == [LIANGJIANG] * 3
