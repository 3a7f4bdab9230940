"""Amounts of 元 as a clerk types them become fen; anything else goes to the service as typed, to be refused
at its field (the bad-input audit: 发票总额 "inf" crashed the page with an English 500)."""

from __future__ import annotations

import pytest

from console.approval.forms import fen


@pytest.mark.parametrize(
    ("typed", "amount"),
    [("1200", 120_000), ("1,200.50", 120_050), ("1200元", 120_000), (" 0.01 ", 1), ("", None)],
)
def test_an_amount_of_yuan_as_typed_is_fen(typed: str, amount: int | None) -> None:
    assert fen(typed) == amount


@pytest.mark.parametrize("typed", ["inf", "Infinity", "-inf", "NaN", "1e3", "1_000", "٣", "1.005", "-5"])
def test_what_is_no_amount_of_yuan_goes_on_as_typed(typed: str) -> None:
    assert fen(typed) == typed
