"""typer's and click's own words in Chinese: the help's headings, the --help option, usage errors.

typer (0.29) ships its own click without a gettext hook, and draws help with rich from module-level
strings; so the help is put in Chinese here, once, at the edges: the rich headings are set, every
command of the tree gets a context whose formatter writes 用法 and a Chinese --help, and a usage error
is read by its kind (its option, its parameter, pydantic's error behind a bad value) rather than by
its English text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from typer import rich_utils
from typer._click import Command, Context
from typer._click.exceptions import (
    BadOptionUsage,
    BadParameter,
    ClickException,
    MissingParameter,
    NoSuchOption,
)
from typer._click.formatting import HelpFormatter
from typer.core import TyperGroup

from kernel.web.problems import validation_message

HELP_OPTION = "显示本帮助并退出"
USAGE_PREFIX = "用法："
OPTIONS_METAVAR = "[选项]"
SUBCOMMAND_METAVAR = "命令 [参数]…"
RICH_HELP_STRINGS: Mapping[str, str] = {
    "ARGUMENTS_PANEL_TITLE": "参数（Arguments）",
    "OPTIONS_PANEL_TITLE": "选项（Options）",
    "COMMANDS_PANEL_TITLE": "命令（Commands）",
    "ERRORS_PANEL_TITLE": "错误",
    "ABORTED_TEXT": "已中断。",
    "RICH_HELP": "运行 [blue]'{command_path} {help_option}'[/] 查看帮助。",
    "DEFAULT_STRING": "[默认：{}]",
    "ENVVAR_STRING": "[环境变量：{}]",
    "REQUIRED_LONG_STRING": "[必填]",
    "DEPRECATED_STRING": "（已弃用）",
}
"""typer's rich help strings, read from its module each time help is drawn."""


class ChineseHelpFormatter(HelpFormatter):
    """click's formatter with the usage line headed 用法."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, USAGE_PREFIX if prefix is None else prefix)


class ChineseContext(Context):
    """A command's context formatting its help with :class:`ChineseHelpFormatter`."""

    formatter_class = ChineseHelpFormatter


def in_chinese(command: Command) -> Command:
    """The command tree with Chinese help: headings, usage line, metavars and the --help option."""
    for name, value in RICH_HELP_STRINGS.items():
        setattr(rich_utils, name, value)
    _translate(command)
    return command


def _translate(command: Command) -> None:
    command.context_class = ChineseContext
    if command.options_metavar == "[OPTIONS]":
        command.options_metavar = OPTIONS_METAVAR
    help_option = command.get_help_option(ChineseContext(command))
    if help_option is not None:  # cached by the command: the one its help and parsing use
        help_option.help = HELP_OPTION
    if isinstance(command, TyperGroup):
        if command.subcommand_metavar == "COMMAND [ARGS]...":
            command.subcommand_metavar = SUBCOMMAND_METAVAR
        for subcommand in command.commands.values():
            _translate(subcommand)


def usage_message(error: ClickException) -> str:
    """What was wrong with the command line, in Chinese; click's English when the kind is unforeseen."""
    if isinstance(error, NoSuchOption):
        guess = f"；是不是 {'、'.join(sorted(error.possibilities))}？" if error.possibilities else ""
        return f"没有这个选项（no such option）：{error.option_name}{guess}"
    if isinstance(error, MissingParameter):
        kind = "参数（argument）" if _param_type(error) == "argument" else "选项（option）"
        return f"缺少{kind} {_hint(error)}"
    if isinstance(error, BadParameter):
        return f"{_hint(error)} 的值无效：{_bad_value_reason(error)}"
    if isinstance(error, BadOptionUsage):
        if "does not take a value" in error.message:
            return f"选项 {error.option_name} 不接受值"
        return f"选项 {error.option_name} 需要一个值"
    return _general_usage_message(error.format_message())


def _param_type(error: MissingParameter) -> str | None:
    return error.param_type or (error.param.param_type_name if error.param is not None else None)


def _hint(error: BadParameter) -> str:
    if isinstance(error.param_hint, str):
        return error.param_hint
    if error.param_hint is not None:
        return " / ".join(repr(hint) for hint in error.param_hint)
    return error.param.get_error_hint() if error.param is not None else ""


def _bad_value_reason(error: BadParameter) -> str:
    """Why a value was refused: pydantic's error behind it in Chinese, or the check's own words."""
    cause = error.__cause__
    errors = getattr(cause, "errors", None)
    if callable(errors) and (found := errors()):
        first: dict[str, Any] = found[0]
        context = first.get("ctx") or {}
        if formats := re.search(r"does not match the formats? (.+?)\.?$", str(context.get("error", ""))):
            return f"应符合格式 {formats.group(1).replace(chr(39), '')}，如 2025-01-31"
        return validation_message(str(first.get("type", "")), context, str(first.get("msg", "")))
    return error.message


_GENERAL = (
    (
        re.compile(r"^No such command '(.+?)'\.(?: Did you mean (.+)\?)?$"),
        "没有这个命令（no such command）：{0}",
    ),
    (
        re.compile(r"^Got unexpected extra argument(?:\(s\)|s)? \((.*)\)$"),
        "多余的参数（unexpected extra argument）：{0}",
    ),
    (re.compile(r"^Missing command\.$"), "缺少命令（missing command）"),
)
"""click's usage errors that carry nothing but their text: read by the text."""


def _general_usage_message(message: str) -> str:
    for pattern, template in _GENERAL:
        if match := pattern.match(message):
            text = template.format(*match.groups())
            if match.lastindex and match.lastindex > 1 and match.group(2):
                text += f"；是不是 {match.group(2).replace(chr(39), '')}？"
            return text
    return message
