"""Coverage counting and the ledger's text rendering (no I/O)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from services.settlement.documents.reports import coverage
from services.settlement.ledger.report import AccountTotals, LedgerReport, render, yuan
from tests.settlement.settlement_builders import recorded, surveyed


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
    assert text.splitlines()[1] == "记账笔数：2"
    assert "fund:liangjiang-finance           60.00            0.00           60.00" in text
    assert "street:鸳鸯                        0.00           60.00          -60.00" in text
    assert text.endswith("借贷平衡：是\n不平衡的记账：0\n")
    assert render(report) == text
