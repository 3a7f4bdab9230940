"""The reporting chain's two reports (community → street → district → city → province): the monthly
progress report and the year-end summary, as JSON and xlsx, on a small scripted year whose sums are
worked out by hand below."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
import redis
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from rehab_contracts.events import NeedSurveyed, PersonRegistered, ServiceDelivered
from rehab_contracts.streams import DELIVERY_STREAM, SURVEY_STREAM

from kernel.access.access import Forbidden
from kernel.access.auth import Agency, Principal, Role, Scope
from kernel.domain.rejections import CommandRejected
from kernel.reference import load_jurisdiction
from kernel.runtime import ServiceSettings
from services.settlement.app import create_app
from services.settlement.documents.chain import chain_of
from services.settlement.documents_api import _chain_unit
from tests.settlement.settlement_builders import REHAB_CENTRE, envelope_of, payload_of

YEAR = 2025
PERSONS = (
    # street, community, surveyed on, has needs, signed for a service on
    ("鸳鸯", "第一社区", date(2025, 3, 10), True, date(2025, 4, 20)),
    ("鸳鸯", "第一社区", date(2025, 3, 12), False, None),
    ("鸳鸯", "第二社区", date(2025, 5, 2), True, None),
    ("人和", "新村社区", date(2025, 4, 1), True, date(2025, 6, 30)),
    ("人和", "北城社区", date(2025, 7, 1), True, None),
)


@pytest.fixture
def client(tmp_path: Path, redis_url: str, redis_client: redis.Redis) -> Iterator[TestClient]:
    settings = ServiceSettings(
        service="settlement", database_url=f"sqlite:///{tmp_path}/settlement.db", redis_url=redis_url
    )
    with TestClient(create_app(settings)) as client:
        consumer = client.app.state.runtime.consumer  # type: ignore[attr-defined]
        for street, community, surveyed_on, needs, signed_on in PERSONS:
            person = uuid4()
            survey = payload_of(
                NeedSurveyed,
                person_id=person,
                survey_year=YEAR,
                street=street,
                community=community,
                surveyed_on=surveyed_on,
                has_needs=needs,
                needed_items=["support_service_mental"] if needs else [],
                supersedes_event_id=None,
            )
            registered = payload_of(PersonRegistered, person_id=person, street=street, community=community)
            consumer.apply(envelope_of(registered, surveyed_on, f"person-{person}"), SURVEY_STREAM)
            consumer.apply(envelope_of(survey, surveyed_on, f"person-{person}", version=2), SURVEY_STREAM)
            if signed_on is not None:
                delivery = uuid4()
                record = payload_of(
                    ServiceDelivered,
                    delivery_id=delivery,
                    service_year=YEAR,
                    person_id=person,
                    institution_id=REHAB_CENTRE,
                    item="support_service_mental",
                    period_start=signed_on,
                    period_end=signed_on,
                    signed_on=signed_on,
                )
                consumer.apply(envelope_of(record, signed_on, f"delivery-{delivery}"), DELIVERY_STREAM)
        yield client


def rows(body: dict[str, Any]) -> list[tuple[int, str, int, int, int]]:
    return [(r["depth"], r["name"], r["surveyed"], r["with_needs"], r["served"]) for r in body["rows"]]


def test_aprils_progress_counts_each_person_surveyed_and_served_by_the_end_of_april(client):
    body = client.get("/reports/chain", params={"kind": "progress", "year": YEAR, "month": 4}).json()
    assert body["title"] == "2025年4月残疾人精准康复服务工作进展情况月报"
    assert body["as_of"] == "2025-04-30"
    shown = rows(body)
    assert shown[:5] == [
        (0, "重庆两江新区", 3, 2, 1),  # = 鸳鸯 + 人和 + six streets of nobody
        (1, "鸳鸯街道", 2, 1, 1),  # 第二社区's person is surveyed in May
        (2, "第一社区", 2, 1, 1),
        (1, "人和街道", 1, 1, 0),  # served in June
        (2, "新村社区", 1, 1, 0),
    ]
    assert [row[1:] for row in shown[5:]] == [
        (f"{street}街道", 0, 0, 0) for street in ("天宫殿", "翠云", "大竹林", "礼嘉", "金山", "康美")
    ]


def test_the_year_end_summary_sums_each_level_from_the_one_below_up_to_the_province(client):
    body = client.get("/reports/chain", params={"kind": "year_end", "year": YEAR, "level": "province"}).json()
    assert body["title"] == "2025年度残疾人精准康复服务工作年终汇总表"
    assert rows(body)[:10] == [
        (0, "重庆市", 5, 4, 2),
        (1, "重庆市", 5, 4, 2),
        (2, "重庆两江新区", 5, 4, 2),  # 鸳鸯 (3, 2, 1) + 人和 (2, 2, 1)
        (3, "鸳鸯街道", 3, 2, 1),  # 第一社区 (2, 1, 1) + 第二社区 (1, 1, 0)
        (4, "第一社区", 2, 1, 1),
        (4, "第二社区", 1, 1, 0),
        (3, "人和街道", 2, 2, 1),  # 北城社区 (1, 1, 0) + 新村社区 (1, 1, 1)
        (4, "北城社区", 1, 1, 0),
        (4, "新村社区", 1, 1, 1),
        (3, "天宫殿街道", 0, 0, 0),
    ]
    assert [(r["level_name"], r["coverage_percent"], r["target_met"]) for r in body["rows"][2:5]] == [
        ("区（县）", "50.0", False),  # Liangjiang's target is 100 %
        ("街道", "50.0", False),
        ("社区", "100.0", True),
    ]
    table = body["rows"]
    for index, row in enumerate(table):
        below = [r for r in _children(table, index)]
        if below:
            assert row["surveyed"] == sum(r["surveyed"] for r in below)
            assert row["served"] == sum(r["served"] for r in below)


def _children(table: list[dict[str, Any]], index: int) -> list[dict[str, Any]]:
    depth, found = table[index]["depth"], []
    for row in table[index + 1 :]:
        if row["depth"] <= depth:
            break
        if row["depth"] == depth + 1:
            found.append(row)
    return found


def test_a_streets_progress_workbook_writes_numbers_as_numbers_and_coverage_as_a_percentage(client):
    answer = client.get(
        "/reports/progress.xlsx", params={"year": YEAR, "month": 12, "street": "鸳鸯", "level": "street"}
    )
    assert answer.status_code == 200
    assert (
        "%E6%9C%88%E6%8A%A5-2025-12-%E9%B8%B3%E9%B8%AF%E8%A1%97%E9%81%93.xlsx"
        in answer.headers["content-disposition"]
    )
    sheet = load_workbook(io.BytesIO(answer.content)).active
    assert sheet["A1"].value == "2025年12月残疾人精准康复服务工作进展情况月报"
    assert [cell.value for cell in sheet[4]] == [
        "层级",
        "单位",
        "调查人数",
        "有康复需求人数",
        "已接受服务人数",
        "覆盖率",
        "目标",
        "是否达标",
    ]
    assert [cell.value for cell in sheet[5]] == ["街道", "鸳鸯街道", 3, 2, 1, 0.5, 1.0, "未达标"]
    assert [cell.value for cell in sheet[6]][:6] == ["社区", "第一社区", 2, 1, 1, 1.0]
    assert [cell.value for cell in sheet[7]][:6] == ["社区", "第二社区", 1, 1, 0, 0.0]
    assert sheet["F5"].number_format == "0.0%" and sheet.page_setup.orientation == "landscape"


def test_the_year_end_workbook_of_the_district_lists_every_street_and_community(client):
    answer = client.get("/reports/year-end.xlsx", params={"year": YEAR})
    sheet = load_workbook(io.BytesIO(answer.content)).active
    names = [sheet.cell(row, 2).value for row in range(5, 5 + 14)]
    assert names[:7] == [
        "重庆两江新区",
        "鸳鸯街道",
        "第一社区",
        "第二社区",
        "人和街道",
        "北城社区",
        "新村社区",
    ]
    assert [sheet.cell(5, column).value for column in range(3, 6)] == [5, 4, 2]


def test_a_unit_not_named_or_unknown_is_refused_in_chinese(client):
    street = client.get("/reports/progress.xlsx", params={"year": YEAR, "month": 3, "level": "street"})
    assert street.status_code == 422 and "须写明街道" in street.json()["detail"]
    unknown = client.get(
        "/reports/chain", params={"kind": "progress", "year": YEAR, "level": "street", "street": "外区"}
    )
    assert unknown.status_code == 404 and unknown.json()["code"] == "settlement.report_unit.unknown"


def test_a_streets_clerk_reports_for_the_street_and_its_communities_and_no_level_above():
    clerk = Principal(
        "鸳鸯街道结算员", Agency("settlement"), frozenset({Role.STAFF}), Scope.parse("street:鸳鸯")
    )
    assert _chain_unit(clerk, None, None, None)[0] == "street"
    assert _chain_unit(clerk, "community", None, "第一社区")[1].street == "鸳鸯"
    with pytest.raises(Forbidden, match="只能由区级"):
        _chain_unit(clerk, "district", None, None)
    with pytest.raises(Forbidden):
        _chain_unit(clerk, "street", "人和", None)
    with pytest.raises(CommandRejected):
        _chain_unit(clerk, "community", None, None)
    institution = Principal(
        "机构", Agency("settlement"), frozenset({Role.STAFF}), Scope.parse("institution:lj-rehab-centre")
    )
    with pytest.raises(Forbidden):
        _chain_unit(institution, None, None, None)


def test_a_streets_persons_are_the_ones_its_coverage_row_counts_by_community(client):
    persons = client.get("/reports/coverage/persons", params={"year": YEAR, "street": "鸳鸯"}).json()
    shown = [(p["community"], p["has_needs"], p["served"]) for p in persons]
    assert [community for community, _needs, _served in shown] == ["第一社区", "第一社区", "第二社区"]
    assert sorted(shown) == [("第一社区", False, False), ("第一社区", True, True), ("第二社区", True, False)]
    coverage = client.get("/reports/coverage", params={"year": YEAR}).json()
    yuanyang = next(row for row in coverage["streets"] if row["street"] == "鸳鸯")
    assert (yuanyang["surveyed"], yuanyang["with_needs"], yuanyang["served"]) == (3, 2, 1)


def test_the_year_end_summary_carries_the_years_money_of_the_unit_and_the_progress_report_none(client):
    district = client.get("/reports/chain", params={"kind": "year_end", "year": YEAR}).json()
    whole = client.get("/reports/spending", params={"year": YEAR}).json()
    assert district["spending"] == whole
    assert [(row["rule"], row["fen"]) for row in whole["by_rule"]] == [("survey_fee", 5 * 3000)]
    street = client.get(
        "/reports/chain", params={"kind": "year_end", "year": YEAR, "level": "street", "street": "鸳鸯"}
    ).json()
    assert street["spending"]["total_fen"] == 3 * 3000  # the street's own account: its three surveys
    progress = client.get("/reports/chain", params={"kind": "progress", "year": YEAR, "month": 12}).json()
    assert progress["spending"] is None

    workbook = load_workbook(io.BytesIO(client.get("/reports/year-end.xlsx", params={"year": YEAR}).content))
    money = workbook["经费支出"]
    assert money["A1"].value == "2025年度经费支出（重庆两江新区，单位：元）"
    assert [[cell.value for cell in row] for row in money.iter_rows(min_row=3, max_row=5)] == [
        ["经费类别", "金额（元）"],
        ["需求调查工作经费", 150],
        ["合计", 150],
    ]
    assert money["B4"].number_format == "#,##0.00"
    assert [money.cell(row, 1).value for row in (7, 8, 9)] == ["资金来源（政府层级）", "区级财政", "合计"]


@pytest.mark.parametrize(
    ("pack", "city", "province"),
    [("anyang", "安阳市", "河南省"), ("zhuhai", "珠海市", "广东省"), ("liangjiang", "重庆市", "重庆市")],
)
def test_the_city_and_province_above_the_district_are_those_the_pack_reports_to(pack, city, province):
    jurisdiction = load_jurisdiction(pack)
    area = jurisdiction.streets[0]

    top = chain_of({"someone": (area, "", True, False)}, jurisdiction, jurisdiction.streets)

    assert (top.level, top.name) == ("province", province)
    assert [(unit.level, unit.name) for unit in top.parts] == [("city", city)]
    assert top.parts[0].parts[0].name == jurisdiction.name
