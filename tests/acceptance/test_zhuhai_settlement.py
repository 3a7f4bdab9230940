"""Zhuhai's plan 珠残联[2017]37号 (seed 001) over its four years: coverage per district against the yearly
targets, every figure computed by hand from the seed text, never read from the pack.

The seed states no money figure (its standards are 附件1, not among the seeds), so what it makes checkable
is its targets. Its pack names no designated institution either (附件2 is not among the seeds), so no
Zhuhai person can be assessed, approved (no 服务卡) or served through the services. The survey and
settlement services run as real processes on the Zhuhai pack: the street offices register and survey the
persons over HTTP; the signed 康复服务记录 are published on the delivery stream as the delivery service
would publish them.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest
import redis
from rehab_contracts.events import ServiceDelivered
from rehab_contracts.streams import DELIVERY_STREAM

from kernel.messaging.signing import KeyRing
from rehab.local_redis import LocalRedis, free_port
from rehab.processes import ServiceProcesses
from tests.e2e.people import certified_adult
from tests.settlement.settlement_builders import envelope_of, payload_of
from tests.streams import add

pytestmark = pytest.mark.e2e

DEVICES = "assistive_device_fitting"
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


@dataclass
class Zhuhai:
    redis: LocalRedis
    services: ServiceProcesses
    client: httpx.Client

    def post(self, service: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = self.client.post(self.services.url(service) + path, json=body)
        assert answer.status_code == 201, answer.text
        return dict(answer.json())

    def get(self, service: str, path: str, **params: Any) -> Any:
        answer = self.client.get(self.services.url(service) + path, params=params)
        assert answer.status_code == 200, answer.text
        return answer.json()


@pytest.fixture(scope="module")
def zhuhai(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Zhuhai]:
    """Survey and settlement on the Zhuhai pack, with the four years below surveyed and served."""
    var_dir = Path(tmp_path_factory.mktemp("zhuhai"))
    local_redis = LocalRedis(var_dir / "redis", free_port()).start()
    services = ServiceProcesses(
        var_dir,
        local_redis.url,
        ports={"survey": free_port(), "settlement": free_port()},
        services=("survey", "settlement"),
        env={"REHAB_REFERENCE": "zhuhai"},
    )
    try:
        services.start()
        with httpx.Client(timeout=10.0) as client:
            running = Zhuhai(local_redis, services, client)
            script_the_years(running)
            yield running
    finally:
        services.stop()
        local_redis.stop()


def script_the_years(zhuhai: Zhuhai) -> None:
    signer = KeyRing.from_directory(zhuhai.services.signing_keys, "delivery")
    delivery_stream = redis.Redis.from_url(zhuhai.redis.url)
    records = 0
    sequence = iter(range(100, 1000))
    for year, district, with_needs, served, surveyed_on in [*PEOPLE, (2017, "斗门区", 0, 0, AFTER)]:
        for index in range(max(with_needs, 1)):
            person = register(zhuhai, next(sequence), district, surveyed_on.replace(day=1))
            survey(zhuhai, person, surveyed_on, has_needs=with_needs > 0)
            if index < served:
                add(delivery_stream, DELIVERY_STREAM, signer.sign(service_record(person, year)).to_wire())
                records += 1
    delivery_stream.close()
    deadline = time.monotonic() + 60
    while not caught_up(zhuhai, records):
        assert time.monotonic() < deadline, "settlement did not receive every event in a minute"
        time.sleep(0.05)


def caught_up(zhuhai: Zhuhai, records: int) -> bool:
    """Settlement received what the survey service published (none left to publish) and every record."""
    survey = zhuhai.get("survey", "/health")["events"]
    received = zhuhai.get("settlement", "/health")["events"]["received"]
    return bool(survey["unpublished"] == 0 and received >= survey["published"] + records)


def register(zhuhai: Zhuhai, sequence: int, district: str, on: date) -> str:
    person = certified_adult(sequence, street=district, category="physical", digit=4)
    place = f"广东省珠海市{district}"
    person |= {"address": f"{place}{sequence}号", "household_registration": place, "residence": place}
    return str(zhuhai.post("survey", "/persons", {**person, "registered_on": on.isoformat()})["person_id"])


def survey(zhuhai: Zhuhai, person: str, on: date, *, has_needs: bool) -> None:
    body = {
        "survey_year": on.year,
        "surveyed_on": on.isoformat(),
        "has_needs": has_needs,
        "needed_items": [DEVICES] if has_needs else [],
        "home_visit_required": False,
        "surveyor": "社区康复协调员 李芳",
    }
    zhuhai.post("survey", f"/persons/{person}/surveys", body)


def service_record(person: str, year: int) -> Any:
    """A signed 康复服务记录 of a device fitting in September, as the delivery service publishes it."""
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
    return envelope_of(delivered, date(year, 10, 8), f"delivery-{delivery}")


def coverage_of(zhuhai: Zhuhai, year: int) -> dict[str | None, tuple[Any, ...]]:
    report = zhuhai.get("settlement", "/reports/coverage", year=year)
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
    zhuhai: Zhuhai,
) -> None:
    # 001 二(二): 「到2017年底，各区有康复需求的残疾儿童和持证残疾人接受基本康复服务比例达到60%以上」; the
    # plan was 印发 2017年6月19日, yet it sets the target for the end of 2017: 香洲区's persons surveyed in
    # March count. 香洲区 (2 + 1) of (2 + 3) = 60.00%: 「60%以上」 includes 60, met. 金湾区 2 of 5 = 40.00%,
    # not met. 斗门区 2 of 2 = 100.00%: the target is a floor, the report says 100, not 60. No city-wide
    # target for 2017 (the 总体目标 is 2020's): the whole city, 7 of 12 = 58.33%, has none.
    assert coverage_of(zhuhai, 2017) == {
        "香洲区": (5, 3, "60.00", "60", True),
        "金湾区": (5, 2, "40.00", "60", False),
        "斗门区": (2, 2, "100.00", "60", True),
        None: (12, 7, "58.33", None, None),
    }


def test_2018_and_2019_raise_each_districts_target_to_80_then_85_percent(zhuhai: Zhuhai) -> None:
    # 001 二(二): 「2018年底、2019年底、2020年底，各区……比例分别达到80%以上、85%以上、90%以上」.
    # 香洲区 4 of 5 = 80.00% both years: met in 2018 (80), not in 2019 (85).
    assert coverage_of(zhuhai, 2018)["香洲区"] == (5, 4, "80.00", "80", True)
    assert coverage_of(zhuhai, 2019)["香洲区"] == (5, 4, "80.00", "85", False)


def test_2020_holds_each_district_to_90_percent_and_the_city_to_80(zhuhai: Zhuhai) -> None:
    # 001 二(二) 2020年底 各区 「90%以上」; 二(一) 总体目标 「到2020年底，全市……比例达80%以上」.
    # 香洲区 9 of 10 = 90.00%, met; 金湾区 8 of 10 = 80.00%, not met; the city 17 of 20 = 85.00% >= 80, met.
    assert coverage_of(zhuhai, 2020) == {
        "香洲区": (10, 9, "90.00", "90", True),
        "金湾区": (10, 8, "80.00", "90", False),
        None: (20, 17, "85.00", "80", True),
    }


def test_after_2020_the_plan_sets_no_target_but_coverage_is_still_counted(zhuhai: Zhuhai) -> None:
    # 001: 实施方案（2017—2020）, 「2020年，将依据……开展市级总结评估工作」: nothing for 2021.
    assert coverage_of(zhuhai, 2021) == {
        "香洲区": (2, 1, "50.00", None, None),
        None: (2, 1, "50.00", None, None),
    }
