"""Each foreseen failure of `rehab` answers a Chinese line and the exit code of docs/cli.md (issue 18)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import pytest

from rehab.cli_failures import CommandFailed, ExitCode
from rehab.journey import StepFailed
from rehab.users import UserDirectory
from tests.cli.runner import rehab


@pytest.fixture(autouse=True)
def no_deployment_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("REHAB_VAR_DIR", "REHAB_DATABASE_URL", "REHAB_ACCESS_DIR", "REHAB_TOKEN"):
        monkeypatch.delenv(variable, raising=False)


def test_retrying_a_dead_letter_by_a_malformed_id_says_what_an_id_looks_like(redis_url: str) -> None:
    ran = rehab("dlq", "retry", "nonexistent", "--service", "settlement", "--redis-url", redis_url)
    assert ran.code == ExitCode.USAGE
    assert "不是死信编号（Invalid stream ID）" in ran.err and "Traceback" not in ran.err


def test_coverage_from_another_folder_names_the_missing_store_and_creates_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    ran = rehab("coverage", "--year", "2025")
    assert ran.code == ExitCode.USAGE
    assert f"{tmp_path / 'var' / 'settlement.db'} 不存在" in ran.err
    assert list(tmp_path.iterdir()) == []


def test_a_mistyped_var_dir_is_named_and_not_created(tmp_path: Path) -> None:
    mistyped = tmp_path / "vra"
    ran = rehab("replay", "--var-dir", str(mistyped))
    assert ran.code == ExitCode.USAGE
    assert "找不到 settlement 的数据库" in ran.err
    assert not mistyped.exists()


def test_the_annual_summary_into_a_missing_folder_names_the_folder(tmp_path: Path) -> None:
    (tmp_path / "settlement.db").touch()
    out = tmp_path / "报表" / "附件3.xlsx"
    ran = rehab(
        "annual-summary", "--year", "2025", "--street", "鸳鸯", "--out", str(out), "--var-dir", str(tmp_path)
    )
    assert ran.code == ExitCode.USAGE
    assert f"文件夹不存在：{tmp_path / '报表'}" in ran.err


@pytest.mark.parametrize(
    "scope",
    [
        "street:鸳阳",
        "community:鸳阳/第一社区",
        "community:鸳鸯/",
        "institution:lj-no-such-hospital",
        "city:重庆",
    ],
)
def test_a_user_is_not_added_with_a_scope_outside_the_jurisdiction(tmp_path: Path, scope: str) -> None:
    access = tmp_path / "access"
    ran = rehab("users", "add", "孙干事", "--agency", "survey", "--role", "staff", "--scope", scope,
                "--access-dir", str(access))  # fmt: skip
    assert ran.code == ExitCode.USAGE
    assert UserDirectory(access).users() == []


def test_an_existing_user_is_replaced_only_with_replace(tmp_path: Path) -> None:
    access = str(tmp_path / "access")
    clerk = ["users", "add", "孙干事", "--agency", "survey", "--role", "staff", "--access-dir", access]
    assert rehab(*clerk, "--scope", "street:鸳鸯").code == ExitCode.OK

    refused = rehab(*clerk, "--scope", "street:礼嘉")
    assert refused.code == ExitCode.PROBLEM and "--replace" in refused.err
    assert str(UserDirectory(Path(access)).user("孙干事").scope) == "street:鸳鸯"

    assert rehab(*clerk, "--scope", "street:礼嘉", "--replace").code == ExitCode.OK
    assert str(UserDirectory(Path(access)).user("孙干事").scope) == "street:礼嘉"


def test_an_institution_scope_of_the_jurisdiction_is_accepted(tmp_path: Path) -> None:
    ran = rehab("users", "add", "康复中心干事", "--agency", "delivery", "--role", "staff",
                "--scope", "institution:lj-rehab-centre", "--access-dir", str(tmp_path))  # fmt: skip
    assert ran.code == ExitCode.OK


class _Refused:
    """Stands in for the deployment: records how `rehab up` would start it, then stops."""

    started: ClassVar[list[bool]] = []

    def __init__(self, _var_dir: Path, _redis_url: str, *, with_access: bool, **_options: object) -> None:
        self.started.append(with_access)

    def __enter__(self) -> None:
        raise CommandFailed("stop here", ExitCode.PROBLEM)

    def __exit__(self, *_exc: object) -> None:
        pass


def test_rehab_up_turns_access_control_on_unless_told_otherwise_with_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("rehab.cli_run.Deployment", _Refused)
    _Refused.started = []
    assert "警告" not in rehab("up", "--var-dir", str(tmp_path)).err
    demo = rehab("up", "--demo", "--var-dir", str(tmp_path))
    no_access = rehab("up", "--no-access", "--var-dir", str(tmp_path))
    assert _Refused.started == [True, False, False]
    assert "完整的身份证号" in demo.err and "完整的身份证号" in no_access.err


def test_the_demo_against_access_control_says_so_and_does_not_suggest_fresh(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refused(*_args: object, **_options: object) -> None:
        raise StepFailed('survey POST /persons answered 401: {"code": "access.unauthenticated"}', 401)

    monkeypatch.setattr("rehab.demo.run_demo", refused)
    ran = rehab("demo", "--persons", "1", "--var-dir", str(tmp_path))
    assert ran.code == ExitCode.ACCESS
    assert "访问控制" in ran.err and "--fresh" not in ran.err


def test_a_demo_step_refused_for_a_known_person_suggests_fresh(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refused(*_args: object, **_options: object) -> None:
        raise StepFailed('survey POST /persons answered 409: {"code": "survey.person.duplicate"}', 409)

    monkeypatch.setattr("rehab.demo.run_demo", refused)
    ran = rehab("demo", "--persons", "1", "--var-dir", str(tmp_path))
    assert ran.code == ExitCode.PROBLEM and "--fresh" in ran.err


def test_an_unknown_option_is_a_usage_error_in_chinese() -> None:
    ran = rehab("coverage", "--yaer", "2025")
    assert ran.code == ExitCode.USAGE and "用法错误" in ran.err


def test_explaining_what_is_not_a_posting_id_says_so_in_chinese() -> None:
    ran = rehab("explain", "第一笔")
    assert ran.code == ExitCode.USAGE and "不是记账编号（posting id）" in ran.err


def test_an_unforeseen_error_is_one_line_and_exit_70_and_debug_shows_the_traceback(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr("rehab.dlq.dead_letters", broken)
    quiet = rehab("dlq", "list", "--redis-url", redis_url)
    assert quiet.code == ExitCode.BUG
    assert "意外错误（RuntimeError: a bug）" in quiet.err and "Traceback" not in quiet.err
    assert "Traceback" in rehab("--debug", "dlq", "list", "--redis-url", redis_url).err


def test_the_help_of_rehab_up_is_chinese_and_offers_no_access_explicitly() -> None:
    ran = rehab("up", "--help")
    assert ran.code == ExitCode.OK
    assert "访问控制" in ran.out and "--no-access" in ran.out and "--demo" in ran.out
