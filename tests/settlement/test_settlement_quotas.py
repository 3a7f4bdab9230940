"""Quota use per county: Anyang 2021's 任务数 against the children 区残联办 approved there."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from uuid import uuid4

import pytest
import redis
from fastapi.testclient import TestClient
from rehab_contracts.events import ApplicationApproved
from rehab_contracts.streams import APPROVAL_STREAM

from kernel.runtime import ServiceSettings
from rehab.cli import main
from services.settlement.app import create_app
from services.settlement.book.policy import load_policies
from services.settlement.documents.quotas import NoQuotas, quota_use, quotas_of_year, render_quota_use
from tests.problem_json import field_error_of
from tests.settlement.settlement_builders import approved, envelope_of, item, payload_of

POLICIES = load_policies()
CHILDREN = item("children_rehab_training", "ay-rehab-centre")


def child(person: str, area: str, *, year: int = 2021, application: str | None = None, items=(CHILDREN,)):
    approval = approved(
        *items,
        application=application or f"app-{person}-{area}",
        person=person,
        year=year,
        on=date(year, 5, 1),
    )
    return replace(approval, area=area)


def anyang_2021():
    return quotas_of_year(POLICIES, "anyang", 2021)


def test_each_county_shows_its_quota_and_the_children_approved_there_counted_once():
    policy, quotas = anyang_2021()
    approvals = [
        child("c1", "滑县"),
        child("c2", "滑县"),
        child("c3", "滑县"),
        child("c3", "滑县", application="second-application-of-c3"),  # the same child again
        child("c4", "文峰区"),
        child("c5", "文峰区", items=(item("cataract_surgery", "ay-eye"),)),  # not a children's item
        child("c6", "滑县", year=2022),  # another year
        child("c7", "外地区"),  # an area without a quota
    ]
    use = quota_use(approvals, policy, quotas)
    rows = {area.area: (area.quota, area.approved, area.percent, area.met) for area in use.areas}
    assert rows["滑县"] == (200, 3, Decimal("1.50"), False)
    assert rows["文峰区"] == (140, 1, Decimal("0.71"), False)
    assert rows["北关区"] == (90, 0, Decimal("0.00"), False)
    assert rows["外地区"] == (None, 1, None, None)
    assert [area.area for area in use.areas][:2] == ["文峰区", "北关区"]  # the policy's order
    assert use.areas[-1].area == "外地区"
    assert (use.total.quota, use.total.approved) == (1015, 5)
    assert use.minimum and use.programme == "残疾儿童康复救助"


def test_a_corrected_approval_that_drops_the_childrens_item_takes_the_child_out():
    policy, quotas = anyang_2021()
    first = child("c1", "滑县", application="a1")
    dropped = child("c1", "滑县", application="a1", items=(item("cataract_surgery", "ay-eye"),))
    assert quota_use([first], policy, quotas).total.approved == 1
    assert quota_use([first, dropped], policy, quotas).total.approved == 0


def test_a_county_that_reaches_its_quota_is_marked_done():
    policy, quotas = anyang_2021()
    use = quota_use([child(f"c{n}", "龙安区") for n in range(68)], policy, quotas)
    [longan] = [area for area in use.areas if area.area == "龙安区"]
    assert (longan.approved, longan.percent, longan.met) == (68, Decimal("100.00"), True)
    table = render_quota_use(use)
    assert "2021 年残疾儿童康复救助任务完成情况（最低任务数）" in table
    assert [line.split() for line in table.splitlines() if line.startswith("龙安区")] == [
        ["龙安区", "68", "68", "100.00%", "是"]
    ]


def test_a_year_without_quotas_says_so():
    with pytest.raises(NoQuotas, match="liangjiang 没有哪项政策规定 2024 年的任务数"):
        quotas_of_year(POLICIES, "liangjiang", 2024)


# -- through the service ------------------------------------------------------------------------------
@pytest.fixture
def client(tmp_path: Path, redis_url: str, redis_client: redis.Redis) -> Iterator[TestClient]:
    settings = ServiceSettings(
        service="settlement", database_url=f"sqlite:///{tmp_path}/settlement.db", redis_url=redis_url
    )
    with TestClient(create_app(settings)) as client:
        yield client


def approve_child(client: TestClient, county: str) -> None:
    application = uuid4()
    payload = payload_of(
        ApplicationApproved,
        application_id=application,
        person_id=uuid4(),
        street=county,
        application_year=2021,
        approved_on="2021-05-01",
        rejected_items=[],
        approved_items=[
            {
                "item": "children_rehab_training",
                "institution_id": "ay-rehab-centre",
                "subsidy_mode": "free",
                "amount_fen": None,
            }
        ],
    )
    envelope = envelope_of(payload, date(2021, 5, 1), f"application-{application}")
    client.app.state.runtime.consumer.apply(envelope, APPROVAL_STREAM)  # type: ignore[attr-defined]


def test_the_quota_use_query_and_rehab_quota_use_count_the_archived_approvals(client, capsys):
    for county in ("滑县", "滑县", "内黄县"):
        approve_child(client, county)
    body = client.get("/reports/quota-use", params={"year": 2021, "jurisdiction": "anyang"}).json()
    areas = {row["area"]: (row["quota"], row["approved"], row["percent"]) for row in body["areas"]}
    assert areas["滑县"] == (200, 2, "1.00")
    assert areas["内黄县"] == (98, 1, "1.02")
    assert (body["total"]["quota"], body["total"]["approved"], body["policy_id"]) == (1015, 3, "anyang-2021")

    url = str(client.app.state.runtime.store.engine.url)
    assert main(["quota-use", "--year", "2021", "--jurisdiction", "anyang", "--database-url", url]) == 0
    lines = capsys.readouterr().out.splitlines()
    huaxian = [line.split() for line in lines if line.startswith("滑县")]
    assert huaxian == [["滑县", "200", "2", "1.00%", "否"]]
    assert lines[-1].split() == ["合计", "1015", "3", "0.30%", "否"]


def test_a_year_without_quotas_is_a_404_naming_the_year_and_exit_code_1(client, capsys):
    response = client.get("/reports/quota-use", params={"year": 2024})
    error = field_error_of(response, 404)
    assert (error["field"], error["code"]) == ("year", "settlement.year.no_quotas")
    assert "liangjiang" in error["message"] and "2024" in error["message"]
    url = str(client.app.state.runtime.store.engine.url)
    assert main(["quota-use", "--year", "2024", "--database-url", url]) == 1
    assert "liangjiang 没有哪项政策规定 2024 年的任务数" in capsys.readouterr().err
