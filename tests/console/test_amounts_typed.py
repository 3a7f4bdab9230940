"""Amounts of 元 as a clerk types them become fen (full-width digits from a Chinese IME too); anything
else goes to the service as typed, to be refused at its field, where the console says what an amount of
元 is (the bad-input audit: 发票总额 "inf" crashed the page with an English 500; "-5" and "12.345" read
应为整数)."""

from __future__ import annotations

import pytest

from console.agencies import Problem
from console.approval.forms import NOT_AN_AMOUNT, at_item_fields, fen


@pytest.mark.parametrize(
    ("typed", "amount"),
    [
        ("1200", 120_000),
        ("1,200.50", 120_050),
        ("1200元", 120_000),
        (" 0.01 ", 1),
        ("", None),
        ("１２００", 120_000),  # full-width, as a Chinese IME types it
        ("１，２００．５０元", 120_050),
        ("　１２００　", 120_000),  # ideographic spaces
    ],
)
def test_an_amount_of_yuan_as_typed_is_fen(typed: str, amount: int | None) -> None:
    assert fen(typed) == amount


@pytest.mark.parametrize(("typed", "amount"), [("-5", -500), ("－5", -500), ("-0.5", -50)])
def test_a_negative_amount_goes_on_in_fen_for_the_service_to_refuse_in_its_own_words(
    typed: str, amount: int
) -> None:
    assert fen(typed) == amount


@pytest.mark.parametrize("typed", ["inf", "Infinity", "-inf", "NaN", "1e3", "1_000", "٣", "1.005", "12.345"])
def test_what_is_no_amount_of_yuan_goes_on_as_typed(typed: str) -> None:
    assert fen(typed) == typed


def test_a_refused_amount_sent_as_typed_reads_what_an_amount_of_yuan_is_at_its_item() -> None:
    body = {
        "approved_items": [
            {"item": "prosthesis", "subsidy_mode": "fixed_amount", "amount_fen": "12.345"},
            {"item": "wheelchair", "subsidy_mode": "fixed_amount", "amount_fen": 120_000},
        ]
    }
    problem = Problem(
        422,
        "request.invalid",
        "请求有误",
        (("approved_items.0.amount_fen", "应为整数"), ("approved_items.1.amount_fen", "超过目录标准")),
    )
    assert at_item_fields(problem, body).errors == (
        ("amount.prosthesis", NOT_AN_AMOUNT),
        ("amount.wheelchair", "超过目录标准"),
    )
