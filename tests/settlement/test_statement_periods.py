"""A statement's period is a year or a month of 2000-2100, as every year the services take: 9999-12 is a
422 naming ``period`` (was a 500: the month after it has no date)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from services.settlement.documents.statements import BadPeriod, Period
from tests.problem_json import field_error_of
from tests.settlement.test_settlement_documents import client, database_url

__all__ = ["client", "database_url"]  # fixtures of the documents' tests, used here


@pytest.mark.parametrize("text", ["9999-12", "9999", "1999-12", "2101-01"])
def test_a_period_beyond_the_years_is_refused_naming_the_range(text: str) -> None:
    with pytest.raises(BadPeriod, match=f"期间的年份应在 2000 至 2100 之间，这里是 '{text}'"):
        Period.parse(text)


def test_the_last_month_of_the_range_ends_on_its_last_day() -> None:
    assert str(Period.parse("2100-12").end) == "2100-12-31"


def test_the_statement_api_answers_a_period_beyond_the_years_with_a_422(client: TestClient) -> None:
    answer = client.get("/statements/street:鸳鸯", params={"period": "9999-12"})
    error = field_error_of(answer, 422)
    assert error["field"] == "period" and "2000 至 2100" in error["message"]
