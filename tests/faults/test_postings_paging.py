"""The fault suite's own helpers read every posting, however long the soak ran (issue 14, defect 11)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.faults import support

POSTINGS = 1234
"""More than one page of 500: a soak of ~83 rounds of six persons has posted that many survey fees."""


def ledger(url: str, params: dict[str, Any], timeout: float) -> httpx.Response:
    """GET /ledger/postings of a settlement holding POSTINGS survey fees, one page at a time."""
    limit, offset = int(params.get("limit", 100)), int(params.get("offset", 0))
    keys = [f"survey_fee:person-{n}" for n in range(POSTINGS)][offset : offset + min(limit, 500)]
    page = {"total": POSTINGS, "limit": limit, "offset": offset, "items": [{"key": key} for key in keys]}
    return httpx.Response(200, json=page, request=httpx.Request("GET", url))


def test_each_persons_fee_is_found_once_when_the_ledger_holds_more_than_one_page(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(httpx, "get", ledger)
    persons = ["person-0", "person-777", f"person-{POSTINGS - 1}"]

    support.settled_once_each(None, persons, settlement="http://settlement.test")  # type: ignore[arg-type]


def test_a_person_whose_fee_is_on_no_page_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(httpx, "get", ledger)

    with pytest.raises(AssertionError, match="person-absent"):
        support.settled_once_each(None, ["person-absent"], settlement="http://settlement.test")  # type: ignore[arg-type]
