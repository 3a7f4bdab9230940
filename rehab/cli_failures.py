"""How a `rehab` command ends: the exit codes of docs/cli.md and one Chinese line, never a traceback.

A command raises :class:`CommandFailed` for a failure it foresees; :func:`failure_of` turns the
exceptions every command may meet (Redis or a service not answering, a store that does not exist) into
one, so an operator reads what happened and what to do, and a script reads the exit code.
"""

from __future__ import annotations

from enum import IntEnum

import typer


class ExitCode(IntEnum):
    """The exit codes, as docs/cli.md lists them."""

    OK = 0
    PROBLEM = 1
    """The command ran and the answer is no: a violation found, not found, refused, unbalanced."""
    USAGE = 2
    """The command cannot run as given: an option or value, or a store, folder or file that does not exist."""
    UNREACHABLE = 3
    """Redis or a service does not answer."""
    ACCESS = 4
    """Access refused: no token, a token not accepted, or access control in the way."""
    PORT_IN_USE = 5
    """A port `rehab up` needs is taken."""
    BUG = 70
    """Unforeseen: a one-line message; `rehab --debug …` shows the traceback."""
    INTERRUPTED = 130
    """Ctrl-C."""
    BROKEN_PIPE = 141
    """The reader of the output went away (`rehab audit | head`): stopped quietly, as Unix tools do."""


class CommandFailed(Exception):
    """A foreseen failure: its Chinese message and exit code."""

    def __init__(self, message: str, code: ExitCode = ExitCode.PROBLEM) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def say(text: str) -> None:
    """A line of the command's answer, on stdout."""
    typer.echo(text)


def warn(text: str) -> None:
    """A warning on stderr (yellow on a terminal)."""
    typer.secho(text, err=True, fg="yellow")


def show_failure(text: str) -> None:
    """The one line of a failure on stderr (red on a terminal)."""
    typer.secho(text, err=True, fg="red")


def first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def failure_of(error: Exception) -> CommandFailed | None:
    """The foreseen failure an exception stands for; None for a bug."""
    if isinstance(error, CommandFailed):
        return error
    for translate in (_settings_failure, _redis_failure, _http_failure, _store_failure, _file_failure):
        if (failed := translate(error)) is not None:
            return failed
    return None


def _settings_failure(error: Exception) -> CommandFailed | None:
    from kernel.settings import SettingsInvalid

    if isinstance(error, SettingsInvalid):
        return CommandFailed(f"{error}：请改正或删除这个环境变量", ExitCode.USAGE)
    return None


def _redis_failure(error: Exception) -> CommandFailed | None:
    import redis

    if isinstance(error, redis.AuthenticationError | redis.exceptions.NoPermissionError):
        return CommandFailed(
            f"Redis 拒绝了这个用户（{type(error).__name__}: {first_line(error)}）："
            "检查 --redis-url 中的用户名和密码",
            ExitCode.ACCESS,
        )
    if isinstance(error, redis.ConnectionError | redis.TimeoutError):
        return CommandFailed(
            f"Redis 没有应答（{type(error).__name__}: {first_line(error)}）："
            "先运行 rehab up，或用 --redis-url / REHAB_REDIS_URL 指向正在运行的 Redis",
            ExitCode.UNREACHABLE,
        )
    if isinstance(error, redis.ResponseError):
        return CommandFailed(f"Redis 拒绝了这个请求（ResponseError: {first_line(error)}）", ExitCode.USAGE)
    return None


def _http_failure(error: Exception) -> CommandFailed | None:
    import httpx

    if isinstance(error, httpx.TransportError):
        where = error.request.url if _has_request(error) else "服务"
        return CommandFailed(
            f"服务没有应答（{type(error).__name__}）：{where}。"
            "先运行 rehab up（或 rehab demo --start-services）",
            ExitCode.UNREACHABLE,
        )
    return None


def _has_request(error: Exception) -> bool:
    try:
        return getattr(error, "request", None) is not None
    except RuntimeError:  # httpx raises when an error was made without a request
        return False


def _store_failure(error: Exception) -> CommandFailed | None:
    from rehab.verify import StoreMissing

    if isinstance(error, StoreMissing):
        return CommandFailed(
            f"{first_line(error)}。"
            "请在部署的文件夹里运行，或用 --var-dir / REHAB_VAR_DIR 指向部署的 var 文件夹",
            ExitCode.USAGE,
        )
    return None


def _file_failure(error: Exception) -> CommandFailed | None:
    if isinstance(error, FileNotFoundError | NotADirectoryError):
        missing = f"文件或文件夹不存在（{type(error).__name__}）：{error.filename}"
        return CommandFailed(missing, ExitCode.USAGE)
    if isinstance(error, PermissionError):
        return CommandFailed(f"没有权限（PermissionError）：{error.filename}", ExitCode.USAGE)
    return None
