"""Every reason the book gives for a fact it does not settle is documented for programs and named in
Chinese on the console's dashboard of what is waiting."""

from __future__ import annotations

import re
from pathlib import Path

from console.dashboards.waiting import REASONS
from services.settlement.api import UnsettledOut
from services.settlement.book import dues

BOOK = Path(dues.__file__).parent


def codes_the_book_gives() -> set[str]:
    written = "\n".join(path.read_text(encoding="utf-8") for path in BOOK.glob("*.py"))
    return set(re.findall(r'Reason\(\s*"([a-z_]+)"', written)) | {dues.AT_ANOTHER_INSTITUTION}


def test_the_book_gives_the_reasons_this_test_reads() -> None:
    assert {"awaiting_approval", "tier_undecided", "not_eligible", "paid_once"} <= codes_the_book_gives()


def test_every_reason_is_listed_in_the_unsettled_routes_documentation() -> None:
    documented = UnsettledOut.model_fields["code"].description or ""

    assert sorted(code for code in codes_the_book_gives() if code not in documented) == []


def test_every_reason_has_a_chinese_name_on_the_console() -> None:
    assert sorted(codes_the_book_gives() - set(REASONS)) == []
