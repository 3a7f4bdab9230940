"""Children's assistance places 救助名额 are reference data: Anyang's 2021 table, none in Liangjiang."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from kernel.reference import Jurisdiction, deployment_reference, load_jurisdiction

ANYANG_2021 = {
    "文峰区": 140,
    "北关区": 90,
    "殷都区": 139,
    "龙安区": 68,
    "林州市": 100,
    "安阳县": 90,
    "汤阴县": 90,
    "内黄县": 98,
    "滑县": 200,
}


def test_anyang_has_the_nine_county_places_of_2021_totalling_1015() -> None:
    anyang = load_jurisdiction("anyang")
    assert {quota.area: quota.places for quota in anyang.quotas if quota.year == 2021} == ANYANG_2021
    assert sum(quota.places for quota in anyang.quotas) == 1015


def test_a_childrens_item_in_a_county_and_year_counts_against_that_countys_places() -> None:
    anyang = load_jurisdiction("anyang")
    quota = anyang.quota_for("滑县", 2021, ["children_rehab_training"])
    assert quota is not None and quota.places == 200
    assert anyang.quota_for("滑县", 2022, ["children_rehab_training"]) is None
    assert anyang.quota_for("滑县", 2021, ["assistive_device_fitting"]) is None


def test_liangjiang_states_no_quota() -> None:
    liangjiang = load_jurisdiction("liangjiang")
    assert liangjiang.quotas == ()
    assert liangjiang.quota_for("鸳鸯", 2024, ["children_rehab_training"]) is None


def test_a_quota_may_group_streets_into_a_county() -> None:
    area = Jurisdiction.model_validate(
        {
            "jurisdiction": "x",
            "name": "某区",
            "streets": ["甲", "乙", "丙"],
            "quotas": [{"year": 2024, "area": "东片", "streets": ["甲", "乙"], "places": 3}],
        }
    )
    quota = area.quota_for("乙", 2024, ["children_rehab_training"])
    assert quota is not None and quota.area == "东片"
    assert area.quota_for("丙", 2024, ["children_rehab_training"]) is None


@pytest.mark.parametrize(
    "quotas",
    [
        [{"year": 2024, "area": "解放碑", "places": 3}],
        [
            {"year": 2024, "area": "甲", "places": 3},
            {"year": 2024, "area": "东片", "streets": ["甲"], "places": 1},
        ],
        [{"year": 2024, "area": "甲", "places": -1}],
    ],
)
def test_a_quota_on_an_unknown_street_twice_on_a_street_or_negative_is_refused(quotas: list[dict]) -> None:
    with pytest.raises(ValidationError):
        Jurisdiction.model_validate(
            {"jurisdiction": "x", "name": "某区", "streets": ["甲", "乙"], "quotas": quotas}
        )


def test_the_deployment_reference_comes_from_rehab_reference(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("REHAB_REFERENCE", raising=False)
    assert deployment_reference() == "liangjiang"
    monkeypatch.setenv("REHAB_REFERENCE", "anyang")
    assert load_jurisdiction(deployment_reference()).name == "河南省安阳市"
