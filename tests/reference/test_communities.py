"""Each area's communities 社区 in its pack's communities.toml (issue 14, defect 10): checked at start-up;
where listed, survey refuses any other community in a registration, a correction and a sheet's row; where
the source lists none, the pack says why and nothing is checked."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient

from kernel.reference import load_jurisdiction
from kernel.reference.jurisdiction import JURISDICTIONS_DIR
from kernel.reference.pack import PackError, load_pack, pack_names
from kernel.runtime import ServiceSettings
from services.survey.app import create_app
from tests.problem_json import field_error_of, problem_of
from tests.survey.people import make_id, person_body
from tests.survey.sheets import base_row, csv_bytes

LISTED = '[areas]\n"鸳鸯" = ["金渝社区", "金鹏社区"]\n'
"""A test's list for 鸳鸯 only (the shipped packs list none: no seed names a community)."""
SOURCE_OF = {
    "anyang": "安残联〔2021〕8号",
    "liangjiang": "渝两江管发〔2024〕18号",
    "shapingba": "沙府办发〔2023〕100号",
    "zhuhai": "珠残联[2017]37号",
}


def pack_with(tmp_path: Path, communities: str, name: str = "liangjiang") -> Path:
    pack = Path(shutil.copytree(JURISDICTIONS_DIR / name, tmp_path / name))
    (pack / "communities.toml").write_text(communities, encoding="utf-8")
    return pack


# -- the packs --------------------------------------------------------------------------------------
def test_every_shipped_pack_says_which_document_lists_no_community_so_none_is_checked() -> None:
    assert sorted(SOURCE_OF) == pack_names()
    for name, source in SOURCE_OF.items():
        communities = load_jurisdiction(name).communities
        assert communities.listed == {}, name
        assert communities.unlisted is not None and source in communities.unlisted, name
        assert "不作核对" in communities.unlisted


def test_a_listed_areas_communities_reach_the_jurisdiction_and_the_others_stay_unchecked(
    tmp_path: Path,
) -> None:
    pack = pack_with(tmp_path, 'unlisted = "其余街道的社区名录尚未提供"\n' + LISTED)
    assert load_pack(pack).jurisdiction.communities.listed == {"鸳鸯": frozenset({"金渝社区", "金鹏社区"})}


def test_a_pack_without_communities_toml_is_refused_naming_the_file(tmp_path: Path) -> None:
    pack = pack_with(tmp_path, "")
    (pack / "communities.toml").unlink()
    with pytest.raises(PackError, match=re.escape("liangjiang/communities.toml: 文件不存在")):
        load_pack(pack)


def test_an_area_neither_listed_nor_explained_is_refused_naming_it(tmp_path: Path) -> None:
    with pytest.raises(PackError, match=r"communities\.toml: areas\.人和: 未列出该区域的社区"):
        load_pack(pack_with(tmp_path, LISTED))


def test_communities_of_an_area_the_pack_does_not_have_are_refused(tmp_path: Path) -> None:
    pack = pack_with(tmp_path, 'unlisted = "尚未提供"\n[areas]\n"解放碑" = ["较场口社区"]\n')
    with pytest.raises(
        PackError, match=r"communities\.toml: areas\.解放碑: 不是 .*jurisdiction\.toml 的区域"
    ):
        load_pack(pack)


@pytest.mark.parametrize(
    ("areas", "fault"),
    [
        ('"鸳鸯" = []', "社区名录为空"),
        ('"鸳鸯" = ["金渝社区", "金渝社区"]', "列了两次"),
        ('"鸳鸯" = ["康美\\u0001社区"]', "控制字符"),
        ('"鸳鸯" = [" 金渝社区"]', "首尾有空白"),
    ],
)
def test_a_malformed_list_is_refused_naming_the_file_and_area(tmp_path: Path, areas: str, fault: str) -> None:
    with pytest.raises(PackError, match=rf"communities\.toml: areas\.鸳鸯.*{fault}"):
        load_pack(pack_with(tmp_path, f'unlisted = "尚未提供"\n[areas]\n{areas}\n'))


# -- survey -----------------------------------------------------------------------------------------
@pytest.fixture
def client(tmp_path: Path, redis_url: str, redis_client: redis.Redis) -> Iterator[TestClient]:
    settings = ServiceSettings(
        service="survey", database_url=f"sqlite:///{tmp_path}/survey.db", redis_url=redis_url
    )
    jurisdiction = load_jurisdiction(str(pack_with(tmp_path, 'unlisted = "其余街道尚未提供"\n' + LISTED)))
    with TestClient(create_app(settings, jurisdiction=jurisdiction)) as test_client:
        yield test_client


def test_survey_refuses_a_community_not_listed_for_the_street_naming_the_field_in_chinese(
    client: TestClient,
) -> None:
    response = client.post("/persons", json=person_body(community="康美社区"))
    error = field_error_of(response, 422)
    assert (error["field"], error["code"]) == ("community", "survey.community.unknown")
    assert error["message"] == "“康美社区”不是“鸳鸯”的社区（按本辖区的社区名录）；可选：金渝社区、金鹏社区"
    assert client.get("/persons").json()["total"] == 0


def test_a_listed_community_is_registered_and_a_street_without_a_list_takes_any(client: TestClient) -> None:
    assert client.post("/persons", json=person_body(community="金鹏社区")).status_code == 201
    other_id = make_id(date(1958, 4, 12), "251")
    other = person_body(
        street="人和", community="任意社区", id_number=other_id, certificate_number=other_id + "12"
    )
    assert client.post("/persons", json=other).status_code == 201


def test_a_correction_moving_a_person_to_an_unlisted_community_is_refused(client: TestClient) -> None:
    person_id = client.post("/persons", json=person_body()).json()["person_id"]
    response = client.post(
        f"/persons/{person_id}/corrections", json={"reason": "搬家", "community": "金山社区"}
    )
    assert field_error_of(response, 422)["field"] == "community"
    moved = client.post(f"/persons/{person_id}/corrections", json={"reason": "搬家", "community": "金鹏社区"})
    assert moved.status_code == 201, moved.text


def test_an_imported_row_with_an_unlisted_community_is_reported_with_its_row_and_column(
    client: TestClient,
) -> None:
    sheet = csv_bytes([base_row(社区="金山社区")])
    response = client.post(
        "/imports/surveys",
        data={"street": "鸳鸯", "survey_year": "2024", "surveyed_on": "2024-10-15", "surveyor": "张丽"},
        files={"file": ("鸳鸯街道2024.csv", sheet, "text/csv")},
    )
    errors = problem_of(response, 422)["errors"]
    assert [(e["row"], e["column"], e["code"]) for e in errors] == [(2, "社区", "survey.community.unknown")]
    assert "金山社区" in errors[0]["message"]
    assert client.get("/persons").json()["total"] == 0
