"""The policy file, coverage counting and the ledger's text rendering (no I/O beyond reading the policy)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError
from rehab_contracts.vocabulary import SUPPORT_SERVICE_ITEMS, CatalogueItem

from services.settlement.policy import POLICY_DIR, Policy, PolicySet, load_policies, load_policy
from services.settlement.replay import AccountTotals, LedgerReport, render, yuan
from services.settlement.reports import coverage
from tests.settlement.settlement_builders import recorded, surveyed

LIANGJIANG = load_policy(POLICY_DIR / "liangjiang-2024.toml")


# -- policy -----------------------------------------------------------------------------------------
def test_the_liangjiang_2024_policy_states_the_seeds_fees_in_fen():
    assert (LIANGJIANG.id, LIANGJIANG.version) == ("liangjiang-2024", 1)
    assert LIANGJIANG.effective_from == date(2024, 9, 29)
    assert LIANGJIANG.funding_account == "fund:liangjiang-finance"
    fees = LIANGJIANG.fees
    assert (fees.survey_fee_fen, fees.management_fee_fen, fees.assessment_fee_fen) == (3000, 3000, 3000)
    assert fees.support_service_fen == 20000


def test_the_policy_lists_every_catalogue_item_and_no_other():
    assert set(LIANGJIANG.items) == {item.value for item in CatalogueItem}


def test_the_policy_marks_exactly_the_support_service_items_as_support_services():
    support = {code for code, standard in LIANGJIANG.items.items() if standard.kind == "support_service"}
    assert support == {item.value for item in SUPPORT_SERVICE_ITEMS}


def test_no_liangjiang_item_states_a_standard_because_the_seed_states_none():
    assert all(standard.standard_fen is None for standard in LIANGJIANG.items.values())


def test_the_policy_in_force_is_the_latest_that_took_effect_on_or_before_the_date():
    later = LIANGJIANG.model_copy(update={"id": "liangjiang-2026", "effective_from": date(2026, 1, 1)})
    policies = PolicySet([later, LIANGJIANG])
    assert policies.in_force(date(2024, 9, 28)) is None
    assert policies.in_force(date(2024, 9, 29)) is LIANGJIANG
    assert policies.in_force(date(2025, 12, 31)) is LIANGJIANG
    assert policies.in_force(date(2026, 1, 1)) is later


def test_two_policies_with_the_same_id_are_refused():
    with pytest.raises(ValueError, match="unique"):
        PolicySet([LIANGJIANG, LIANGJIANG.model_copy(update={"effective_from": date(2026, 1, 1)})])


def test_a_policy_with_a_zero_fee_is_refused():
    data = LIANGJIANG.model_dump()
    data["fees"]["survey_fee_fen"] = 0
    with pytest.raises(ValidationError):
        Policy.model_validate(data)


def test_a_policy_file_must_be_named_after_its_id(tmp_path: Path):
    misnamed = tmp_path / "liangjiang-2025.toml"
    misnamed.write_bytes((POLICY_DIR / "liangjiang-2024.toml").read_bytes())
    with pytest.raises(ValueError, match="named after its id"):
        load_policy(misnamed)


def test_the_policy_directory_loads_as_a_set():
    assert [policy.id for policy in load_policies()] == ["liangjiang-2024"]


# -- coverage ---------------------------------------------------------------------------------------
def test_coverage_counts_persons_with_needs_served_per_street_and_overall():
    report = coverage(
        [
            surveyed("p1", street="鸳鸯"),
            surveyed("p2", street="鸳鸯"),
            surveyed("p3", street="鸳鸯", has_needs=False),
            surveyed("p4", street="人和"),
            recorded("d1", person="p1"),
            recorded("d2", person="p1"),
            recorded("d3", person="p3"),
        ],
        2024,
    )
    rows = {row.street: (row.surveyed, row.with_needs, row.served, row.percent) for row in report.streets}
    assert rows == {"人和": (1, 1, 0, Decimal("0.00")), "鸳鸯": (3, 2, 1, Decimal("50.00"))}
    overall = report.overall
    assert (overall.street, overall.surveyed, overall.with_needs, overall.served) == (None, 4, 3, 1)
    assert overall.percent == Decimal("33.33")


def test_a_person_surveyed_twice_counts_once_under_the_last_survey():
    report = coverage([surveyed("p1", street="鸳鸯", has_needs=False), surveyed("p1", street="人和")], 2024)
    assert [(row.street, row.surveyed, row.with_needs) for row in report.streets] == [("人和", 1, 1)]


def test_coverage_counts_only_the_year_asked_for():
    report = coverage([surveyed("p1", year=2025), recorded("d1", person="p1", year=2025)], 2024)
    assert report.overall.surveyed == 0
    assert report.overall.percent is None


def test_full_coverage_is_one_hundred_percent():
    report = coverage([surveyed("p1"), recorded("d1", person="p1")], 2024)
    assert report.overall.percent == Decimal("100.00")


# -- rendering --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("fen", "text"),
    [(0, "0.00"), (5, "0.05"), (3000, "30.00"), (-3000, "-30.00"), (123456789, "1,234,567.89")],
)
def test_fen_render_as_yuan_with_two_decimals(fen, text):
    assert yuan(fen) == text


def test_the_ledger_renders_sorted_accounts_and_the_balance_check():
    report = LedgerReport(
        accounts=(
            AccountTotals("fund:liangjiang-finance", 6000, 0),
            AccountTotals("street:鸳鸯", 0, 6000),
        ),
        total_debit_fen=6000,
        total_credit_fen=6000,
        posting_count=2,
        unbalanced_postings=0,
    )
    text = render(report)
    assert text.splitlines()[1] == "postings: 2"
    assert "fund:liangjiang-finance           60.00            0.00           60.00" in text
    assert "street:鸳鸯                        0.00           60.00          -60.00" in text
    assert text.endswith("balanced: yes\nunbalanced postings: 0\n")
    assert render(report) == text
