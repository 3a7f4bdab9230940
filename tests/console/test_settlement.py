"""Settlement's pages by scope: a street's clerk reads its own postings and no totals, an auditor reads the
whole ledger; a posting that does not exist is the service's Chinese refusal."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.console.conftest import assert_accessible

pytestmark = pytest.mark.e2e


def test_a_streets_clerk_reads_its_own_account_and_an_auditor_the_whole_ledger(pages: Any) -> None:
    street = pages("鸳鸯街道结算员")
    street.goto("/settlement")
    assert street.get_by_role("heading", level=1).inner_text() == "鸳鸯街道 · 结算"
    assert street.locator("section[aria-labelledby=accounts]").count() == 0  # the totals are the district's
    for row in street.locator("section[aria-labelledby=postings] tbody tr").all():
        assert "鸳鸯街道" in row.inner_text()
    assert_accessible(street)
    auditor = pages("审计员")
    auditor.goto("/settlement")
    assert auditor.locator("section[aria-labelledby=accounts]").is_visible()
    response = auditor.goto(f"/settlement/postings/{uuid.uuid4()}")
    assert response is not None and response.status == 404
    assert "没有编号为" in auditor.content()
    assert_accessible(auditor)
