"""`rehab`: run the agency services, the demo, settlement's documents and the operator's tools.

One typer app; each area adds its commands with ``register(app)`` (one module per area, so areas grow
apart). :func:`main` runs it and ends every foreseen failure as one Chinese line and an exit code of
docs/cli.md, never a traceback (``rehab --debug …`` shows one).
"""

import contextlib
import errno
import importlib
import logging
import os
import sys
import traceback
from typing import Annotated, Any

import typer
from rich.columns import Columns
from rich.table import Table
from rich.text import Text
from typer import rich_utils
from typer._click.exceptions import ClickException, NoArgsIsHelpError  # typer ships its own click

from kernel.masking import install_log_masking
from rehab.cli_failures import ExitCode, failure_of, first_line, show_failure
from rehab.cli_language import in_chinese, usage_message

HELP = (
    "残疾人精准康复服务（precision rehabilitation services for disabled persons）的命令行："
    "启动各机构服务、演示、结算文书和运维工具。退出码见 docs/cli.md。"
)
COMMAND_MODULES = (
    "rehab.cli_run",
    "rehab.cli_operations",
    "rehab.cli_settlement",
    "rehab.cli_security",
    "rehab.cli_access",
    "rehab.cli_privacy",
    "rehab.cli_import",
)

app = typer.Typer(
    name="rehab", help=HELP, no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False
)


class _Options:
    debug = False


class _FoldingTable(Table):
    """typer's help tables with an overlong word folded onto the next line, not cut with an ellipsis: rich
    wraps only at spaces, and a run of Chinese has none (at 80 columns `rehab demo --help` read in
    fragments and `rehab --help` cut forget's line)."""

    def add_row(self, *renderables: Any, **options: Any) -> None:
        super().add_row(*renderables, **options)
        for column in self.columns:
            column.overflow = "fold"


def _help_of_option(renderables: list[Any], **layout: Any) -> Any:
    """An option's help, default and variable as one text that wraps and folds in its cell (typer lays them
    out as rich Columns, whose cells cut each part short with an ellipsis)."""
    if all(isinstance(part, Text) for part in renderables):
        return Text(" ", overflow="fold").join(renderables)
    return Columns(renderables, **layout)


# typer builds its help from these names of its module.
rich_utils.Table = _FoldingTable  # type: ignore[misc]
rich_utils.Columns = _help_of_option  # type: ignore[misc,assignment]


@app.callback()
def _rehab(
    debug: Annotated[
        bool, typer.Option("--debug", help="出错时显示完整的回溯（traceback），供开发者排查")
    ] = False,
) -> None:
    _Options.debug = debug


for _module in COMMAND_MODULES:
    importlib.import_module(_module).register(app)


def main(argv: list[str] | None = None) -> int:
    """Run one command; its exit code (docs/cli.md)."""
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    install_log_masking()
    logging.getLogger("httpx").setLevel(logging.WARNING)
    _Options.debug = False
    command = in_chinese(typer.main.get_command(app))
    try:
        with command.make_context("rehab", list(sys.argv[1:] if argv is None else argv)) as context:
            return int(command.invoke(context) or 0)
    except typer.Exit as done:
        return int(done.exit_code)
    except NoArgsIsHelpError as bare:
        bare.show()
        return ExitCode.USAGE
    except ClickException as wrong:
        show_failure(
            f"用法错误（usage）：{usage_message(wrong)}　运行 rehab --help 或 rehab 命令 --help 查看用法"
        )
        return ExitCode.USAGE
    except (KeyboardInterrupt, typer.Abort):
        show_failure("已中断（interrupted）")
        return ExitCode.INTERRUPTED
    except BrokenPipeError:
        return _stopped_reading()
    except SystemExit as exited:  # rich ends a print into a closed pipe so (Console.on_broken_pipe)
        if exited.code == 1 and _stdout_is_devnull():
            return ExitCode.BROKEN_PIPE
        raise
    except Exception as error:
        return _ended_by(error)


def _ended_by(error: Exception) -> int:
    if isinstance(error, OSError) and error.errno == errno.EPIPE:
        return _stopped_reading()
    failed = failure_of(error)
    if _Options.debug:
        traceback.print_exc()
    if failed is not None:
        show_failure(failed.message)
        return failed.code
    show_failure(
        f"意外错误（{type(error).__name__}: {first_line(error)}）。"
        "这是程序缺陷，请报告；rehab --debug … 显示回溯（traceback）"
    )
    return ExitCode.BUG


def _stdout_is_devnull() -> bool:
    """Whether stdout was pointed at /dev/null, as rich does when the reader of its output went away."""
    try:
        return os.path.samestat(os.fstat(sys.stdout.fileno()), os.stat(os.devnull))
    except (OSError, ValueError):  # stdout is no file (a test's capture)
        return False


def _stopped_reading() -> int:
    """The reader went away (`| head`): say nothing more, and keep Python from complaining at exit."""
    with contextlib.suppress(OSError, ValueError):  # stdout is no file (a test's capture): nothing to flush
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return ExitCode.BROKEN_PIPE


if __name__ == "__main__":
    sys.exit(main())
