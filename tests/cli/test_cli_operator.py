"""What a district operator meets with `rehab` (issue 18): help in Chinese for every command, help piped
into `head`, a store looked for in the wrong folder, a malformed scope, the demo's closing hint."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import typer

from rehab.cli import app
from rehab.cli_failures import ExitCode
from tests.cli.runner import rehab

CHINESE = re.compile(r"[\u4e00-\u9fff]")


def commands(group: Any = None, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every command of `rehab`, sub-commands included, with the words that call it."""
    group = group or typer.main.get_command(app)
    for name, command in getattr(group, "commands", {}).items():
        yield (*path, name), command
        yield from commands(command, (*path, name))


def test_every_command_and_every_option_and_argument_is_helped_in_chinese() -> None:
    english = [
        " ".join(words) + (f" {param.name}" if param is not None else "")
        for words, command in commands()
        for param in [None, *command.params]
        if not CHINESE.search((command.help if param is None else getattr(param, "help", None)) or "")
    ]
    assert english == []


@pytest.mark.parametrize("words", [("import",), ("up",), ("dlq", "retry"), ("verify",)])
def test_a_commands_help_is_drawn_with_chinese_headings(words: tuple[str, ...]) -> None:
    ran = rehab(*words, "--help")
    assert ran.code == ExitCode.OK and f"用法：rehab {' '.join(words)} [选项]" in ran.out
    assert "选项（Options）" in ran.out and "Usage:" not in ran.out


def test_help_piped_into_a_reader_that_has_gone_ends_quietly_with_141() -> None:
    command = [sys.executable, "-m", "rehab.cli", "users", "add", "--help"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as helped:  # `| head -0`
        assert helped.stdout is not None and helped.stderr is not None
        # Closed before the help is written: the whole help fits a pipe's buffer, so a reader closing
        # after the first line might find it already written and the command done.
        helped.stdout.close()
        stderr = helped.stderr.read().decode()
        code = helped.wait(timeout=60)
    assert stderr == "" and code == ExitCode.BROKEN_PIPE


def test_verify_in_a_folder_without_the_stores_names_the_missing_one_and_creates_nothing(
    tmp_path: Path, redis_url: str
) -> None:
    ran = rehab("verify", "--var-dir", str(tmp_path / "var"), "--redis-url", redis_url)
    assert ran.code == ExitCode.USAGE
    assert (
        f"找不到 survey 的数据库（no store for survey）：{tmp_path / 'var' / 'survey.db'} 不存在" in ran.err
    )
    assert "--var-dir" in ran.err and not (tmp_path / "var").exists()


def test_a_malformed_scope_says_in_chinese_how_scopes_are_written(tmp_path: Path) -> None:
    ran = rehab("users", "add", "孙干事", "--agency", "survey", "--role", "staff",
                "--scope", "everywhere", "--access-dir", str(tmp_path))  # fmt: skip
    assert ran.code == ExitCode.USAGE
    assert ran.err.startswith("范围（scope）'everywhere' 写法不对：应为 district（全区）、street:<街道>")
    assert "expected" not in ran.err


@pytest.mark.parametrize("words", [("token", "孙干事"), ("users", "list"), ("users", "disable", "孙干事")])
def test_users_and_tokens_from_a_folder_without_the_deployment_name_the_missing_folder(
    tmp_path: Path, words: tuple[str, ...]
) -> None:
    ran = rehab(*words, "--access-dir", str(tmp_path / "acess"))
    assert ran.code == ExitCode.USAGE
    assert f"用户文件夹 {tmp_path / 'acess'} 不存在" in ran.err and "--access-dir" in ran.err


def test_keys_are_not_rotated_into_a_folder_without_the_agencys_keys(tmp_path: Path) -> None:
    ran = rehab("keys", "rotate", "--agency", "survey", "--dir", str(tmp_path / "kyes"))
    assert ran.code == ExitCode.USAGE and "没有 survey 的密钥，无从轮换" in ran.err
    assert "rehab keys generate --agency survey" in ran.err and not (tmp_path / "kyes").exists()


def test_revoking_a_key_the_agency_does_not_have_says_so_in_chinese(tmp_path: Path) -> None:
    assert rehab("keys", "generate", "--agency", "survey", "--dir", str(tmp_path)).code == ExitCode.OK
    ran = rehab("keys", "revoke", "--agency", "survey", "--key-id", "survey-old", "--dir", str(tmp_path))
    assert ran.code == ExitCode.PROBLEM and "survey 在" in ran.err and "没有密钥 survey-old" in ran.err


def test_a_value_not_among_the_choices_lists_them_in_a_chinese_usage_error(tmp_path: Path) -> None:
    ran = rehab("users", "add", "孙干事", "--agency", "survey", "--role", "boss", "--scope", "district",
                "--access-dir", str(tmp_path))  # fmt: skip
    assert ran.code == ExitCode.USAGE
    assert "'--role' 的值无效：'boss' 不是可选值之一：staff、handler" in ran.err


def test_a_user_name_with_a_control_character_is_refused(tmp_path: Path) -> None:
    ran = rehab("users", "add", "孙\n干事", "--agency", "survey", "--role", "staff", "--scope", "district",
                "--access-dir", str(tmp_path))  # fmt: skip
    assert ran.code == ExitCode.USAGE and "用户名“孙\\n干事”含控制字符" in ran.err


def test_a_stored_value_with_a_newline_stays_on_its_row_of_a_table(tmp_path: Path) -> None:
    from kernel.access.auth import Agency, Role, Scope
    from rehab.users import User, UserDirectory

    UserDirectory(tmp_path).add(
        User("孙\n干事 伪造", Agency("survey"), frozenset({Role("staff")}), Scope.parse("district"))
    )
    ran = rehab("users", "list", "--access-dir", str(tmp_path))
    assert ran.code == ExitCode.OK and len(ran.out.splitlines()) == 2
    assert ran.out.splitlines()[1].startswith("孙\\n干事 伪造")


class _Started:
    """Stands in for the demo's own deployment: its services' addresses, nothing started."""

    def __init__(self, *_args: object, ports: Any, **_options: object) -> None:
        self.ports = ports

    def __enter__(self) -> SimpleNamespace:
        return SimpleNamespace(url=lambda service: f"http://127.0.0.1:{self.ports.services[service]}")

    def __exit__(self, *_exc: object) -> None:
        pass


def test_after_the_demo_with_its_own_services_it_says_how_to_see_the_result_on_the_same_ports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    driven: list[str] = []

    def run_demo(url: Any, **_sample: object) -> SimpleNamespace:
        driven.append(url("survey"))
        return SimpleNamespace(ledger_balanced=True)

    monkeypatch.setattr("rehab.cli_run.Deployment", _Started)
    monkeypatch.setattr("rehab.demo.run_demo", run_demo)
    monkeypatch.setattr("rehab.demo.print_summary", lambda _summary: None)
    ran = rehab(
        "demo", "--start-services", "--base-port", "9700", "--var-dir", str(tmp_path), "--year", "2025"
    )
    assert ran.code == ExitCode.OK, ran.err
    assert driven == ["http://127.0.0.1:9701"]
    assert f"运行 rehab up --var-dir {tmp_path} --base-port 9700" in ran.out
    assert f"rehab coverage --year 2025 --var-dir {tmp_path}" in ran.out
