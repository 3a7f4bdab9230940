"""The demo clerks `rehab up` prints belong to the pack the deployment runs on."""

from __future__ import annotations

import pytest

from console.demo import demo_logins_of
from kernel.reference import load_jurisdiction
from kernel.reference.pack import pack_names
from rehab.scopes import jurisdiction_scope


@pytest.mark.parametrize("pack", pack_names())
def test_every_demo_clerks_scope_is_an_area_or_institution_of_the_pack(pack: str) -> None:
    jurisdiction = load_jurisdiction(pack)

    for login in demo_logins_of(jurisdiction):
        assert jurisdiction_scope(str(login.scope), jurisdiction) == login.scope, login.name


def test_liangjiangs_demo_clerks_work_in_yuanyang_and_renhe_streets() -> None:
    logins = {login.name: login for login in demo_logins_of(load_jurisdiction("liangjiang"))}

    assert str(logins["鸳鸯街道调查员"].scope) == "street:鸳鸯"
    assert str(logins["人和街道调查员"].scope) == "street:人和"
    assert str(logins["鸳鸯社区负责人"].scope) == "community:鸳鸯/鸳鸯第一社区"
    assert str(logins["康复机构治疗师"].scope) == "institution:lj-rehab-centre"


def test_a_county_level_pack_names_its_clerks_by_county() -> None:
    names = {login.name for login in demo_logins_of(load_jurisdiction("anyang"))}

    assert {"文峰区调查员", "北关区调查员", "文峰区负责人"} <= names
    assert not any("街道" in name for name in names)


def test_a_pack_without_institutions_has_no_assessor_or_therapist_login() -> None:
    agencies = {login.agency for login in demo_logins_of(load_jurisdiction("zhuhai"))}

    assert "assessment" not in agencies
    assert "delivery" not in agencies
