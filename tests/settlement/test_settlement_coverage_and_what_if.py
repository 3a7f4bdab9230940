"""Coverage against the policy target, monthly progress, and the replay under another policy file."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient
from rehab_contracts import EventEnvelope
from sqlalchemy import Engine, select

from kernel.reference import load_jurisdiction
from kernel.runtime import ServiceRuntime, ServiceSettings
from rehab.cli import main
from services.settlement.app import create_app
from services.settlement.book.facts import Fact
from services.settlement.book.policy import load_policies, policy_file
from services.settlement.documents.reports import coverage, policy_of_year, progress, render_coverage
from services.settlement.ledger.report import ledger_report, render
from services.settlement.ledger.tables import postings_table
from services.settlement.ledger.what_if import read_policy_file, replay_under, with_policy
from services.settlement.ledger_scopes import last_surveyed_in
from tests.settlement.settlement_builders import FUND, Journey, policy_in, recorded, surveyed

POLICIES = load_policies()
LIANGJIANG = policy_in(POLICIES, "liangjiang-2024")
STREETS = load_jurisdiction("liangjiang").streets


# -- coverage against the target (no I/O) ---------------------------------------------------------
def test_the_policy_of_a_year_is_the_one_in_force_at_its_end_or_during_it():
    assert policy_of_year(POLICIES, "liangjiang", 2024) is LIANGJIANG
    assert policy_of_year(POLICIES, "liangjiang", 2030) is LIANGJIANG
    assert policy_of_year(POLICIES, "liangjiang", 2023) is None
    zhuhai = policy_of_year(POLICIES, "zhuhai", 2021)
    assert zhuhai is None
    assert policy_of_year(POLICIES, "zhuhai", 2017) is POLICIES.get("zhuhai-2017")


def test_liangjiang_coverage_is_met_only_when_every_person_with_needs_is_served():
    report = coverage(
        [surveyed("p1", street="鸳鸯"), surveyed("p2", street="人和"), recorded("d1", person="p1")],
        2024,
        STREETS,
        LIANGJIANG,
    )
    rows = {row.street: (row.target_percent, row.target_met) for row in report.streets}
    assert rows["鸳鸯"] == (Decimal(100), True)
    assert rows["人和"] == (Decimal(100), False)
    assert rows["康美"] == (Decimal(100), None)
    assert (report.overall.target_percent, report.overall.target_met) == (Decimal(100), False)
    assert (report.policy_id, report.policy_version) == ("liangjiang-2024", LIANGJIANG.version)


def test_streets_follow_the_jurisdictions_order_and_unknown_streets_come_last_by_name():
    report = coverage([surveyed("p1", street="鸳鸯"), surveyed("p2", street="外区")], 2024, STREETS)
    assert [row.street for row in report.streets] == [*STREETS, "外区"]
    assert report.streets[-1].surveyed == 1


def test_a_zhuhai_year_measures_each_district_against_that_years_target():
    zhuhai = POLICIES.get("zhuhai-2017")
    facts: list[Fact] = [surveyed(f"p{n}", year=2018, street="香洲") for n in range(5)]
    facts += [recorded(f"d{n}", person=f"p{n}", year=2018) for n in range(4)]
    report = coverage(facts, 2018, (), zhuhai)
    [district] = report.streets
    assert (district.percent, district.target_percent, district.target_met) == (Decimal("80.00"), 80, True)


def test_without_a_policy_there_is_no_target_and_nothing_is_met():
    report = coverage([surveyed("p1")], 2024)
    assert (report.overall.target_percent, report.overall.target_met, report.policy_id) == (None, None, None)


def test_the_coverage_table_prints_the_streets_in_order_with_chinese_names_and_the_target():
    report = coverage([surveyed("p1", street="人和"), recorded("d1", person="p1")], 2024, STREETS, LIANGJIANG)
    text = render_coverage(report)
    lines = text.splitlines()
    assert lines[0].startswith("2024 年康复服务覆盖率")
    assert lines[1] == f"政策 liangjiang-2024 第 {LIANGJIANG.version} 版"
    assert lines[3].split() == ["街道", "调查人数", "有需求", "已服务", "覆盖率", "目标", "达标"]
    assert [line.split()[0] for line in lines[5:13]] == [f"{street}街道" for street in STREETS]
    assert lines[6].split() == ["人和街道", "1", "1", "1", "100.00%", "100%", "是"]
    assert lines[-1].split() == ["合计", "1", "1", "1", "100.00%", "100%", "是"]
    assert render_coverage(report) == text


# -- monthly progress (no I/O) -----------------------------------------------------------------------
def test_monthly_progress_is_cumulative_by_the_survey_and_signature_dates():
    months = progress(
        [
            surveyed("p1", on=date(2024, 3, 5)),
            surveyed("p2", on=date(2024, 3, 20), has_needs=False),
            surveyed("p3", on=date(2024, 6, 1)),
            recorded("d1", person="p1", on=date(2024, 7, 9)),
            recorded("d3", person="p3", on=date(2025, 1, 10)),
        ],
        2024,
    )
    table = {m.month: (m.surveyed, m.with_needs, m.served) for m in months}
    assert [m.month for m in months] == list(range(1, 13))
    assert table[2] == (0, 0, 0)
    assert table[3] == (2, 1, 0)
    assert table[6] == (3, 2, 0)
    assert table[7] == (3, 2, 1)
    assert table[12] == (3, 2, 2)


def test_a_later_survey_of_the_month_changes_a_persons_needs_from_that_month_on():
    months = progress(
        [surveyed("p1", on=date(2024, 2, 1), has_needs=False), surveyed("p1", on=date(2024, 5, 1))], 2024
    )
    assert [(m.surveyed, m.with_needs) for m in months[:5]] == [(0, 0), (1, 0), (1, 0), (1, 0), (1, 1)]


def test_a_street_counts_the_persons_whose_last_survey_of_the_year_is_there():
    facts: list[Fact] = [
        surveyed("moved", street="鸳鸯", on=date(2024, 3, 1)),
        surveyed("moved", street="人和", on=date(2024, 9, 1)),
        surveyed("stayed", street="鸳鸯"),
        surveyed("last-year", street="鸳鸯", year=2023, on=date(2023, 5, 1)),
        surveyed("last-year", street="人和", on=date(2024, 4, 1)),
    ]
    assert last_surveyed_in(iter(facts), 2024, "鸳鸯") == {"stayed"}
    assert last_surveyed_in(iter(facts), 2024, "人和") == {"moved", "last-year"}


def test_december_progress_equals_the_years_coverage():
    facts: list[Fact] = [surveyed("p1"), surveyed("p2", has_needs=False), recorded("d1", person="p1")]
    december = progress(facts, 2024)[-1]
    overall = coverage(facts, 2024).overall
    assert (december.surveyed, december.with_needs, december.served) == (
        overall.surveyed,
        overall.with_needs,
        overall.served,
    )


# -- over the service ------------------------------------------------------------------------------
@pytest.fixture
def client(tmp_path: Path, redis_url: str, redis_client: redis.Redis) -> Iterator[TestClient]:
    settings = ServiceSettings(
        service="settlement", database_url=f"sqlite:///{tmp_path}/settlement.db", redis_url=redis_url
    )
    with TestClient(create_app(settings)) as client:
        yield client


def engine(client: TestClient) -> Engine:
    runtime: ServiceRuntime = client.app.state.runtime  # type: ignore[attr-defined]
    return runtime.store.engine


def consume(client: TestClient, events: list[tuple[EventEnvelope, str]]) -> None:
    consumer = client.app.state.runtime.consumer  # type: ignore[attr-defined]
    for envelope, stream in events:
        consumer.apply(envelope, stream)


def test_the_progress_endpoint_gives_twelve_cumulative_months(client):
    consume(client, Journey().events())
    consume(client, Journey(street="人和").events()[:2])
    body = client.get("/reports/progress", params={"year": 2024}).json()
    months = {row["month"]: (row["surveyed"], row["with_needs"], row["served"]) for row in body["months"]}
    assert body["year"] == 2024
    assert (months[9], months[10], months[11], months[12]) == ((0, 0, 0), (2, 2, 0), (2, 2, 0), (2, 2, 1))
    assert client.get("/reports/progress").status_code == 422


def test_rehab_coverage_prints_the_table_from_the_archive(client, capsys):
    consume(client, Journey().events())
    assert main(["coverage", "--year", "2024", "--database-url", str(engine(client).url)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[5].split() == ["鸳鸯街道", "1", "1", "1", "100.00%", "100%", "是"]
    assert lines[-1].split() == ["合计", "1", "1", "1", "100.00%", "100%", "是"]


# -- replay --policy ------------------------------------------------------------------------------
def survey_fee_of_40_yuan(tmp_path: Path) -> Path:
    text = policy_file("liangjiang-2024").read_text(encoding="utf-8")
    assert text.count("survey_fee_fen = 3000\n") == 1
    modified = tmp_path / "liangjiang-2024-survey-40.toml"
    modified.write_text(text.replace("survey_fee_fen = 3000\n", "survey_fee_fen = 4000\n"), encoding="utf-8")
    return modified


def test_another_policy_replaces_the_one_with_its_id_and_keeps_the_others(tmp_path):
    other = read_policy_file(survey_fee_of_40_yuan(tmp_path))
    replaced = with_policy(POLICIES, other)
    assert replaced.in_force("liangjiang", date(2024, 10, 1)) is other
    assert [policy.id for policy in replaced] == [policy.id for policy in POLICIES]


def test_a_40_yuan_survey_fee_pays_each_street_10_yuan_more_per_person_surveyed_from_the_fund(
    client, tmp_path
):
    consume(client, Journey().events())
    consume(client, Journey().events()[:2])
    consume(client, Journey(street="人和").events())
    what_if = replay_under(engine(client), read_policy_file(survey_fee_of_40_yuan(tmp_path)))
    assert [(row.account, row.difference_fen) for row in what_if.payees] == [
        ("street:人和", 1000),
        ("street:鸳鸯", 2000),
    ]
    assert [(row.account, row.difference_fen) for row in what_if.funding_sources] == [(FUND, 3000)]


def test_rehab_replay_policy_prints_the_sorted_difference_and_leaves_the_live_ledger_untouched(
    client, tmp_path, capsys
):
    consume(client, Journey().events())
    consume(client, Journey(street="人和").events())
    live = render(ledger_report(engine(client)))
    with engine(client).connect() as connection:
        before = connection.execute(select(postings_table).order_by(postings_table.c.key)).all()
    arguments = [
        "replay",
        "--policy",
        str(survey_fee_of_40_yuan(tmp_path)),
        "--database-url",
        str(engine(client).url),
    ]

    assert main(arguments) == 0
    printed = capsys.readouterr().out
    lines = printed.splitlines()
    assert lines[0].startswith(f"按政策 liangjiang-2024 第 {LIANGJIANG.version} 版")
    assert lines[1] == "重放事件数：10"
    assert lines[2] == "记账总额：实时 580.00 元，重放 600.00 元"
    payees = [line.split() for line in lines[5:11]]
    assert payees == [
        ["收款方（实收）", "实时", "重放", "差额"],
        ["-" * len(lines[6])],
        ["street:人和", "60.00", "70.00", "10.00"],
        ["street:鸳鸯", "60.00", "70.00", "10.00"],
        ["-" * len(lines[6])],
        ["合计", "120.00", "140.00", "20.00"],
    ]
    funds = [line.split() for line in lines[12:17]]
    assert funds[2] == [FUND, "580.00", "600.00", "20.00"]
    assert funds[-1] == ["合计", "580.00", "600.00", "20.00"]
    levels = [line.split() for line in lines[18:]]
    assert levels[0] == ["资金级次（实付）", "实时", "重放", "差额"]
    assert levels[2] == ["district", "580.00", "600.00", "20.00"]
    main(arguments)
    assert capsys.readouterr().out == printed
    assert render(ledger_report(engine(client))) == live
    with engine(client).connect() as connection:
        assert connection.execute(select(postings_table).order_by(postings_table.c.key)).all() == before


def half_paid_by_the_city(tmp_path: Path) -> Path:
    """Liangjiang 2024 as if the city 重庆市财政 paid half of every amount (a what-if, not a seed)."""
    text = policy_file("liangjiang-2024").read_text(encoding="utf-8")
    split = "shares = { district-finance = 100 }\n"
    assert text.count(split) == 1
    city = '[funding.sources.city]\nname = "重庆市财政"\nlevel = "city"\naccount = "fund:chongqing-city"\n\n'
    modified = tmp_path / "liangjiang-2024-city-half.toml"
    text = text.replace("[funding.splits.all]\n", city + "[funding.splits.all]\n")
    text = text.replace(split, "shares = { district-finance = 50, city = 50 }\n")
    modified.write_text(text, encoding="utf-8")
    return modified


def test_a_policy_where_the_city_pays_half_moves_half_of_every_amount_from_the_district_level_to_the_city(
    client, tmp_path, capsys
):
    consume(client, Journey().events())
    consume(client, Journey(street="人和").events())  # 2 x (30 + 30 + 30 + 200) = 580 yuan
    what_if = replay_under(engine(client), read_policy_file(half_paid_by_the_city(tmp_path)))
    assert what_if.payees == ()
    assert [(row.account, row.live_fen, row.replayed_fen) for row in what_if.funding_sources] == [
        ("fund:chongqing-city", 0, 29000),
        (FUND, 58000, 29000),
    ]
    assert [(row.account, row.difference_fen) for row in what_if.funding_levels] == [
        ("city", 29000),
        ("district", -29000),
    ]
    url = str(engine(client).url)
    assert main(["replay", "--policy", str(half_paid_by_the_city(tmp_path)), "--database-url", url]) == 0
    printed = capsys.readouterr().out.splitlines()
    level_rows = printed[printed.index(next(line for line in printed if line.startswith("资金级次"))) :]
    assert [line.split() for line in level_rows[2:4]] == [
        ["city", "0.00", "290.00", "290.00"],
        ["district", "580.00", "290.00", "-290.00"],
    ]


def test_an_unchanged_policy_shows_no_difference_and_a_broken_file_exits_2(client, tmp_path, capsys):
    consume(client, Journey().events())
    url = str(engine(client).url)
    assert main(["replay", "--policy", str(policy_file("liangjiang-2024")), "--database-url", url]) == 0
    lines = capsys.readouterr().out.splitlines()
    # The money audit read "合计 实时 0.00 重放 0.00" as a ledger that paid nothing: the whole is said.
    [totals] = [line for line in lines if line.startswith("记账总额")]
    live, replayed = totals.removeprefix("记账总额：实时 ").removesuffix(" 元").split(" 元，重放 ")
    assert live == replayed != "0.00"
    assert [line for line in lines if line.endswith("：没有差额")] == [
        "收款方（实收）：没有差额",
        "资金来源（实付）：没有差额",
        "资金级次（实付）：没有差额",
    ]
    assert not any(line.split()[:1] == ["合计"] for line in lines)
    broken = tmp_path / "broken.toml"
    broken.write_text('id = "liangjiang-2024"\n', encoding="utf-8")
    assert main(["replay", "--policy", str(broken), "--database-url", url]) == 2
    assert "无法使用" in capsys.readouterr().err
    assert main(["replay", "--policy", str(broken), "--as-of", "2024-12-31", "--database-url", url]) == 2
