"""`rehab`'s help at 80 columns says every word: a run of Chinese, which has no space to wrap at, is folded
onto the next line rather than cut short with an ellipsis (rehab/cli.py, _FoldingTable, _help_of_option)."""

from __future__ import annotations

import re

import pytest

from rehab.cli_failures import ExitCode
from tests.cli.runner import rehab


def _joined(help_text: str) -> str:
    """The help's words with the panels' borders, spaces and line breaks taken out."""
    return re.sub(r"[\s│╭╮╰╯─]", "", help_text)


@pytest.mark.parametrize("argv", [["--help"], ["demo", "--help"], ["up", "--help"], ["forget", "--help"]])
def test_no_help_is_cut_short_at_80_columns(argv: list[str]) -> None:
    ran = rehab(*argv, env={"COLUMNS": "80", "TERMINAL_WIDTH": None})
    assert ran.code == ExitCode.OK
    assert not re.search(r"…\s*│", ran.out), ran.out  # rich's ellipsis ends a cut cell


def test_the_help_of_demo_keeps_each_options_words_at_80_columns() -> None:
    ran = rehab("demo", "--help", env={"COLUMNS": "80", "TERMINAL_WIDTH": None})
    joined = _joined(ran.out)
    assert "调查和服务年度（2000-2100）；默认该辖区政策管辖的一年（两江2025、安阳2021）" in joined
    assert "共享的Redis（默认$REHAB_REDIS_URL，否则redis://127.0.0.1:6379/0）" in joined


def test_the_list_of_commands_gives_forgets_whole_first_sentence_at_80_columns() -> None:
    joined = _joined(rehab("--help", env={"COLUMNS": "80", "TERMINAL_WIDTH": None}).out)
    assert "forget销毁一个人的个人信息密钥：其个人信息在各处显示为（已删除），金额不变。import" in joined
