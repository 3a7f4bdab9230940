"""社区 on the street's person form: a select of the street's communities where the pack lists them
(communities.toml), free text where it lists none (every shipped pack: no seed names a community), which
the registry checks reads as a name (tests/survey/test_person_registration.py)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from console.street.forms import community_choices
from kernel.reference.communities import Communities
from tests.console.bare import console_client, sign_in
from tests.console.test_chinese_dates_on_street_forms import PERSON, PERSON_ID, Agencies

LISTED = Communities(unlisted="其余街道未列出", areas={"鸳鸯": ("金渝社区", "星光社区")})


def options(html: str) -> list[str]:
    select = re.search(r'<select id="f-community".*?</select>', html, re.S)
    assert select is not None, "社区 is not a select"
    return re.findall(r'<option value="([^"]+)"', select.group(0))


def with_communities(client: Any, communities: Communities) -> None:
    state = client.app.state
    state.jurisdiction = state.jurisdiction.model_copy(update={"communities": communities})
    state.console.agencies = Agencies()


def test_where_the_pack_lists_the_streets_communities_the_form_offers_a_select(
    tmp_path: Path,
) -> None:
    with console_client(tmp_path) as client:
        with_communities(client, LISTED)
        sign_in(client)

        assert options(client.get("/street/persons/new").text) == ["星光社区", "金渝社区"]
        # the correction form starts from the person's own community, selected
        correcting = client.get(f"/street/persons/{PERSON_ID}/correct").text
        assert 'value="金渝社区" selected' in correcting


def test_where_the_pack_lists_none_the_community_is_typed_with_a_hint(tmp_path: Path) -> None:
    with console_client(tmp_path) as client:
        with_communities(client, Communities(unlisted="未列出"))
        sign_in(client)
        page = client.get("/street/persons/new").text

        assert '<input id="f-community" name="community" type="text"' in page
        assert "社区或村的中文名称" in page


def test_a_district_clerk_gets_every_streets_communities_only_when_all_are_listed() -> None:
    listed = {"鸳鸯": frozenset({"金渝社区"}), "人和": frozenset({"人和社区"})}

    assert community_choices(listed, ["鸳鸯", "人和"], None) == {"鸳鸯": ["金渝社区"], "人和": ["人和社区"]}
    assert community_choices(listed, ["鸳鸯", "人和", "礼嘉"], None) is None
    assert community_choices(listed, ["鸳鸯"], "鸳鸯", current="旧社区") == {"鸳鸯": ["旧社区", "金渝社区"]}
    assert PERSON["community"] == "金渝社区"
