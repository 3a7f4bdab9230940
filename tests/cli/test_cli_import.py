"""`rehab import`: a street's survey sheet sent to the survey service, its report in Chinese (issue 18)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis
from fastapi.testclient import TestClient

from kernel.runtime import ServiceSettings
from rehab.cli_failures import ExitCode
from rehab.local_redis import free_port
from services.survey.app import create_app
from tests.cli.runner import rehab
from tests.survey.sheets import four_people, xlsx_bytes

CAMPAIGN = ("--street", "鸳鸯", "--year", "2024", "--surveyed-on", "2024-10-15", "--surveyor", "张丽")


@pytest.fixture
def survey(
    tmp_path: Path, redis_url: str, redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TestClient]:
    """The survey service in this process (no access control), as the command's HTTP client."""
    settings = ServiceSettings(
        service="survey", database_url=f"sqlite:///{tmp_path}/survey.db", redis_url=redis_url
    )
    client = TestClient(create_app(settings), base_url="http://survey.test")
    monkeypatch.setattr("rehab.cli_import.http_client", lambda _url, _timeout: client)
    monkeypatch.delenv("REHAB_TOKEN", raising=False)
    yield client


def sheet(tmp_path: Path, rows: list[dict[str, object]], name: str = "鸳鸯街道2024.xlsx") -> str:
    path = tmp_path / name
    path.write_bytes(xlsx_bytes(rows))
    return str(path)


def test_a_good_sheet_is_imported_and_a_second_run_imports_nothing_twice(
    survey: TestClient, tmp_path: Path
) -> None:
    path = sheet(tmp_path, four_people())
    first = rehab("import", path, *CAMPAIGN)
    again = rehab("import", path, *CAMPAIGN)
    assert first.code == ExitCode.OK, first.err
    assert "已导入 鸳鸯 2024 年的调查表（imported）：4 行，新登记 4 人，记录调查 4 份" in first.out
    assert again.code == ExitCode.OK and "此前已导入，这次没有重复导入" in again.out
    assert len(survey.get("/persons", params={"street": "鸳鸯"}).json()["items"]) == 4


def test_a_sheet_with_bad_rows_imports_nothing_and_names_each_row_and_column_in_chinese(
    survey: TestClient, tmp_path: Path
) -> None:
    rows = four_people()
    rows[1]["身份证号"] = "123"
    rows[3]["性别"] = "未知"
    ran = rehab("import", sheet(tmp_path, rows), *CAMPAIGN)
    assert ran.code == ExitCode.PROBLEM and "Traceback" not in ran.err
    assert "未导入（imported 0）" in ran.err and "2 行有 2 处错误" in ran.err
    report = [line.split(maxsplit=2) for line in ran.out.splitlines()]
    assert report[0] == ["行（row）", "列（column）", "原因"]
    assert [line[:2] for line in report[1:]] == [["3", "身份证号"], ["5", "性别"]]
    assert "18 位" in report[1][2] and "男 或 女" in report[2][2]
    assert survey.get("/persons", params={"street": "鸳鸯"}).json()["items"] == []


def test_a_street_outside_the_jurisdiction_names_the_option(survey: TestClient, tmp_path: Path) -> None:
    ran = rehab("import", sheet(tmp_path, four_people()), *CAMPAIGN[2:], "--street", "火星")
    assert ran.code == ExitCode.USAGE and ran.err.startswith("--street 无效：“火星”不是本辖区的街道")


def test_a_refused_token_says_to_use_the_street_clerks_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"status": 401, "detail": "未通过身份验证：令牌已过期"})

    client = httpx.Client(base_url="http://survey.test", transport=httpx.MockTransport(refuse))
    monkeypatch.setattr("rehab.cli_import.http_client", lambda _url, _timeout: client)
    ran = rehab("import", sheet(tmp_path, four_people()), *CAMPAIGN, "--token", "rehab1.old")
    assert ran.code == ExitCode.ACCESS
    assert "令牌已过期" in ran.err and "--user 用户名 或 --token" in ran.err


def test_a_missing_sheet_or_another_kind_of_file_is_a_usage_error(tmp_path: Path) -> None:
    missing = rehab("import", str(tmp_path / "无此表.xlsx"), *CAMPAIGN)
    assert missing.code == ExitCode.USAGE and "无此表.xlsx" in missing.err
    (tmp_path / "表.pdf").write_bytes(b"%PDF")
    other = rehab("import", str(tmp_path / "表.pdf"), *CAMPAIGN)
    assert other.code == ExitCode.USAGE and "只能导入 .xlsx 或 .csv" in other.err


def test_the_survey_service_down_says_it_does_not_answer(tmp_path: Path) -> None:
    down = f"http://127.0.0.1:{free_port()}"
    ran = rehab("import", sheet(tmp_path, four_people()), *CAMPAIGN, "--survey-url", down)
    assert ran.code == ExitCode.UNREACHABLE and "服务没有应答" in ran.err and "rehab up" in ran.err
