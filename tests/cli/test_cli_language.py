"""`rehab`'s help and usage errors read in Chinese, typer's and click's own words included (issue 18)."""

from __future__ import annotations

import pytest

from rehab.cli_failures import ExitCode
from tests.cli.runner import rehab

ENGLISH_OF_CLICK = ("Usage:", "Show this message", "[required]", "─ Options", "─ Commands", "─ Arguments")
"""click's words as typer drew them before: the usage line, --help, and the panels' headings."""


def test_the_help_of_rehab_is_headed_and_labelled_in_chinese() -> None:
    ran = rehab("--help")
    assert ran.code == ExitCode.OK
    assert "用法：rehab [选项] 命令 [参数]…" in ran.out
    assert "选项（Options）" in ran.out and "命令（Commands）" in ran.out
    assert "显示本帮助并退出" in ran.out
    assert not [english for english in ENGLISH_OF_CLICK if english in ran.out]


def test_the_help_of_a_command_names_its_arguments_and_what_is_required_in_chinese() -> None:
    ran = rehab("users", "add", "--help")
    assert ran.code == ExitCode.OK
    assert "用法：rehab users add [选项]" in ran.out
    assert "参数（Arguments）" in ran.out and "[必填]" in ran.out and "显示本帮助并退出" in ran.out
    assert not [english for english in ENGLISH_OF_CLICK if english in ran.out]


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["coverage", "--yaer", "2025"], "没有这个选项（no such option）：--yaer；是不是 --year？"),
        (["token"], "缺少参数（argument） 'name'"),
        (["users", "add", "孙干事"], "缺少选项（option） '--agency'"),
        (["token", "孙干事", "--hours", "abc"], "'--hours' 的值无效：应为数字"),
        (["token", "孙干事", "--hours", "0"], "'--hours' 的值无效：应不小于 0.01"),
        (["token", "孙干事", "--hours"], "选项 --hours 需要一个值"),
        (["audit", "--service", "survey", "--since", "2025-13-01"], "应符合格式 %Y-%m-%d，如 2025-01-31"),
        (["tokn"], "没有这个命令（no such command）：tokn；是不是 token？"),
        (["token", "孙干事", "李干事"], "多余的参数（unexpected extra argument）：李干事"),
    ],
)
def test_a_usage_error_says_in_chinese_what_was_wrong(argv: list[str], said: str) -> None:
    ran = rehab(*argv)
    assert ran.code == ExitCode.USAGE
    assert ran.err.startswith("用法错误（usage）：") and said in ran.err, ran.err
