"""附件3 prints only what a clerk may sign: no hidden or control character in its texts, a 填表日期 within
reach of its year and of today, a community of the street (an unknown one is a 422, as a street is)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from kernel.domain.clock import today
from kernel.domain.rejections import CommandRejected
from kernel.reference.communities import Communities
from rehab.cli_failures import ExitCode
from services.settlement.deployment import deployment_jurisdiction
from services.settlement.documents.annual_summary import Signatures, refuse_unknown_community
from tests.cli.runner import rehab
from tests.problem_json import field_error_of
from tests.settlement.test_settlement_documents import client, database_url, engine, register

__all__ = ["client", "database_url"]  # fixtures of the documents' tests, used here

SUMMARY = "/reports/annual-summary"


@pytest.mark.parametrize(
    ("name", "text", "shown"),
    [
        ("preparer", "a\u202eb", "U+202E"),
        ("reviewer", "王\n主任", "U+000A"),
        ("preparer", "张\u200b丽", "U+200B"),
        ("community", "金渝\x01社区", "U+0001"),
        ("street", "鸳\u2066鸯", "U+2066"),
    ],
)
def test_a_hidden_or_control_character_in_a_text_of_the_form_is_refused_naming_the_field(
    client: TestClient, name: str, text: str, shown: str
) -> None:
    params = {"year": "2024", "street": "鸳鸯", name: text}
    error = field_error_of(client.get(SUMMARY, params=params), 422)
    assert (error["field"], error["code"]) == (name, "request.control_character")
    assert shown in error["message"] and "控制字符或不可见字符" in error["message"]


@pytest.mark.parametrize(
    "filled_on", ["9999-12-31", "2023-12-31", (today() + timedelta(days=32)).isoformat()]
)
def test_a_filled_on_date_before_the_year_or_beyond_a_month_from_today_is_refused(
    client: TestClient, filled_on: str
) -> None:
    params = {"year": "2024", "street": "鸳鸯", "filled_on": filled_on}
    error = field_error_of(client.get(SUMMARY, params=params), 422)
    assert (error["field"], error["code"]) == ("filled_on", "settlement.filled_on.out_of_range")
    assert error["message"].startswith("填表日期应在 2024年1月1日 至 ")


def test_a_filled_on_date_from_the_first_day_of_the_year_to_a_month_from_today_is_printed(
    client: TestClient,
) -> None:
    for day in (date(2024, 1, 1), today() + timedelta(days=31)):
        params = {"year": "2024", "street": "鸳鸯", "filled_on": day.isoformat(), "preparer": "张丽"}
        assert client.get(SUMMARY, params=params).status_code == 200


def test_a_community_nobody_of_the_street_was_surveyed_in_is_a_422_like_an_unknown_street(
    client: TestClient,
) -> None:
    register(client, name="张华", community="金渝社区", id_number="500112198001011234", has_needs=True)
    error = field_error_of(
        client.get(SUMMARY, params={"year": 2024, "street": "鸳鸯", "community": "不存在"}), 422
    )
    assert (error["field"], error["code"]) == ("community", "settlement.community.unknown")
    assert "不存在" in error["message"] and "金渝社区" in error["message"]
    known = client.get(SUMMARY, params={"year": 2024, "street": "鸳鸯", "community": "金渝社区"})
    assert known.status_code == 200


def test_a_listed_community_nobody_was_surveyed_in_is_an_empty_form_not_a_refusal() -> None:
    listed = deployment_jurisdiction().model_copy(
        update={"communities": Communities(areas={"鸳鸯": ("金渝社区", "星光社区")})}
    )
    refuse_unknown_community([], "鸳鸯", "星光社区", listed)  # nobody recorded there: no refusal
    with pytest.raises(CommandRejected, match="不存在 不是鸳鸯的社区，可选：星光社区、金渝社区"):
        refuse_unknown_community([], "鸳鸯", "不存在", listed)


def test_a_community_with_persons_registered_in_another_year_has_its_form_this_year(
    client: TestClient,
) -> None:
    register(
        client, name="往年", community="星光社区", id_number="500112198001051238", has_needs=True, year=2023
    )
    answer = client.get(SUMMARY, params={"year": 2024, "street": "鸳鸯", "community": "星光社区"})
    assert answer.status_code == 200


def test_the_cli_refuses_the_same_texts_and_dates_naming_the_option(
    client: TestClient, tmp_path: Path
) -> None:
    register(client, name="张华", community="金渝社区", id_number="500112198001011234", has_needs=True)
    url = str(engine(client).url)
    common = ["annual-summary", "--year", "2024", "--street", "鸳鸯", "--database-url", url]
    out = tmp_path / "附件3.xlsx"
    for extra, option in (
        (["--preparer", "a\u202eb"], "--preparer"),
        (["--filled-on", "9999-12-31"], "--filled-on"),
        (["--community", "不存在"], "--community"),
    ):
        ran = rehab(*common, "--out", str(out), *extra)
        assert ran.code == ExitCode.USAGE, ran.err
        assert f"'{option}' 的值无效：" in ran.err
        assert not out.exists()


def test_signatures_are_checked_without_a_service() -> None:
    with pytest.raises(CommandRejected, match="U\\+000A"):
        Signatures(reviewer="王\n主任").check(2024, date(2024, 12, 7))
    Signatures("张丽", "王主任", date(2025, 1, 7)).check(2024, date(2024, 12, 7))
