"""Zhuhai's plan 珠残联[2017]37号 (seed 001) over its four years: coverage per district against the yearly
targets, every figure computed by hand from the seed text, never read from the pack.

The seed states no money figure (its standards are 附件1, not among the seeds), so what it makes checkable
is its targets. Its pack names no designated institution either (附件2 is not among the seeds), so the
producer services cannot carry a Zhuhai person past assessment; as in the Anyang year, the settlement
service consumes the real contract envelopes the survey and delivery services publish.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
import redis
from fastapi.testclient import TestClient
from rehab_contracts import EventEnvelope
from rehab_contracts.events import NeedSurveyed, ServiceDelivered
from rehab_contracts.streams import DELIVERY_STREAM, SURVEY_STREAM

from kernel.runtime import ServiceSettings
from services.settlement.app import create_app
from tests.acceptance.anyang_children import consume
from tests.pii_scan import scan_redis
from tests.settlement.settlement_builders import envelope_of, payload_of

DEVICES = "assistive_device_fitting"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[TestClient]:
    """One settlement service on the Zhuhai pack, fed the four years below."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("REHAB_REFERENCE", "zhuhai")
        folder = Path(tmp_path_factory.mktemp("zhuhai"))
        settings = ServiceSettings(
            service="settlement", database_url=f"sqlite:///{folder}/settlement.db", redis_url=redis_url
        )
        with redis.Redis.from_url(redis_url) as fresh:  # as the redis_client fixture does, once per module
            scan_redis(fresh)
            fresh.flushdb()
        with TestClient(create_app(settings)) as test_client:
            for year, district, with_needs, served, surveyed_on in PEOPLE:
                for person in range(with_needs):
                    consume(test_client, person_events(year, district, person < served, surveyed_on))
            consume(test_client, person_events(2017, "斗门区", False, date(2017, 8, 10), has_needs=False))
            yield test_client


def person_events(
    year: int, district: str, served: bool, surveyed_on: date, *, has_needs: bool = True
) -> list[tuple[EventEnvelope, str]]:
    """One person surveyed in ``district`` in ``year``; if ``served``, a signed record of a device fitting."""
    person, stream = uuid4(), f"person-{uuid4()}"
    surveyed = payload_of(
        NeedSurveyed,
        person_id=person,
        survey_year=year,
        street=district,
        community=f"{district}第一社区",
        surveyed_on=surveyed_on,
        has_needs=has_needs,
        needed_items=[DEVICES] if has_needs else [],
        supersedes_event_id=None,
    )
    events = [(envelope_of(surveyed, surveyed_on, stream, 2), SURVEY_STREAM)]
    if served:
        delivery = uuid4()
        delivered = payload_of(
            ServiceDelivered,
            delivery_id=delivery,
            application_id=uuid4(),
            person_id=person,
            service_year=year,
            institution_id="zh-device-centre",
            item=DEVICES,
            period_start=date(year, 9, 1),
            period_end=date(year, 9, 30),
            signed_on=date(year, 10, 8),
            charge_fen=100_000,
            insurance_paid_fen=0,
        )
        events.append((envelope_of(delivered, date(year, 10, 8), f"delivery-{delivery}"), DELIVERY_STREAM))
    return events


BEFORE_THE_NOTICE, AFTER = date(2017, 3, 10), date(2017, 8, 10)
PEOPLE = [
    # (year, district, persons with needs, of whom served, surveyed on)
    (2017, "香洲区", 2, 2, BEFORE_THE_NOTICE),
    (2017, "香洲区", 3, 1, AFTER),
    (2017, "金湾区", 5, 2, AFTER),
    (2017, "斗门区", 2, 2, AFTER),
    (2018, "香洲区", 5, 4, date(2018, 4, 2)),
    (2019, "香洲区", 5, 4, date(2019, 4, 2)),
    (2020, "香洲区", 10, 9, date(2020, 4, 2)),
    (2020, "金湾区", 10, 8, date(2020, 4, 2)),
    (2021, "香洲区", 2, 1, date(2021, 4, 2)),
]


def coverage_of(client: TestClient, year: int) -> dict[str | None, tuple[Any, ...]]:
    report = client.get("/reports/coverage", params={"year": year}).json()
    rows = [*report["streets"], report["overall"]]
    return {
        row["street"]: (
            row["with_needs"],
            row["served"],
            row["coverage_percent"],
            row["target_percent"],
            row["target_met"],
        )
        for row in rows
        if row["surveyed"]
    }


def test_2017_each_district_is_held_to_60_percent_for_the_whole_year_though_the_plan_came_in_june(
    client: TestClient,
) -> None:
    # 001 二(二): 「到2017年底，各区有康复需求的残疾儿童和持证残疾人接受基本康复服务比例达到60%以上」; the
    # plan was 印发 2017年6月19日, yet it sets the target for the end of 2017: 香洲区's persons surveyed in
    # March count. 香洲区 (2 + 1) of (2 + 3) = 60.00%: 「60%以上」 includes 60, met. 金湾区 2 of 5 = 40.00%,
    # not met. 斗门区 2 of 2 = 100.00%: the target is a floor, the report says 100, not 60. No city-wide
    # target for 2017 (the 总体目标 is 2020's): the whole city, 7 of 12 = 58.33%, has none.
    assert coverage_of(client, 2017) == {
        "香洲区": (5, 3, "60.00", "60", True),
        "金湾区": (5, 2, "40.00", "60", False),
        "斗门区": (2, 2, "100.00", "60", True),
        None: (12, 7, "58.33", None, None),
    }


def test_2018_and_2019_raise_each_districts_target_to_80_then_85_percent(client: TestClient) -> None:
    # 001 二(二): 「2018年底、2019年底、2020年底，各区……比例分别达到80%以上、85%以上、90%以上」.
    # 香洲区 4 of 5 = 80.00% both years: met in 2018 (80), not in 2019 (85).
    assert coverage_of(client, 2018)["香洲区"] == (5, 4, "80.00", "80", True)
    assert coverage_of(client, 2019)["香洲区"] == (5, 4, "80.00", "85", False)


def test_2020_holds_each_district_to_90_percent_and_the_city_to_80(client: TestClient) -> None:
    # 001 二(二) 2020年底 各区 「90%以上」; 二(一) 总体目标 「到2020年底，全市……比例达80%以上」.
    # 香洲区 9 of 10 = 90.00%, met; 金湾区 8 of 10 = 80.00%, not met; the city 17 of 20 = 85.00% >= 80, met.
    assert coverage_of(client, 2020) == {
        "香洲区": (10, 9, "90.00", "90", True),
        "金湾区": (10, 8, "80.00", "90", False),
        None: (20, 17, "85.00", "80", True),
    }


def test_after_2020_the_plan_sets_no_target_but_coverage_is_still_counted(client: TestClient) -> None:
    # 001: 实施方案（2017—2020）, 「2020年，将依据……开展市级总结评估工作」: nothing for 2021.
    assert coverage_of(client, 2021) == {
        "香洲区": (2, 1, "50.00", None, None),
        None: (2, 1, "50.00", None, None),
    }
