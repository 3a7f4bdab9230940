"""Why a command was refused: plain exceptions a domain can raise without importing any framework.

Each carries a stable dotted ``code`` for programs (``<service>.<field>.<reason>``, e.g.
``survey.id_number.checksum``), a Chinese ``message`` for the user and the ``field`` (dotted path)
it is about. The kernel answers them as ``application/problem+json`` (kernel/web/errors.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence


class CommandRejected(Exception):
    """A rule refused the command: HTTP 422 naming the field and the reason."""

    status_code = 422

    def __init__(self, message: str, *, field: str | None = None, code: str = "rule_violated") -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code


class NotFound(CommandRejected):
    """The command or query names something this service does not know: HTTP 404."""

    status_code = 404

    def __init__(self, message: str, *, field: str | None = None, code: str = "not_found") -> None:
        super().__init__(message, field=field, code=code)


class StateConflict(CommandRejected):
    """The command does not fit the current state (e.g. approving twice): HTTP 409."""

    status_code = 409

    def __init__(self, message: str, *, field: str | None = None, code: str = "conflict") -> None:
        super().__init__(message, field=field, code=code)


class PayloadTooLarge(CommandRejected):
    """The request body is larger than the service accepts: HTTP 413."""

    status_code = 413


class RulesRejected(CommandRejected):
    """Several rules refused the command at once: HTTP 422 naming each field, so that a clerk corrects a
    form in one go instead of one error per submission. The first rejection gives the code."""

    def __init__(self, rejections: Sequence[CommandRejected]) -> None:
        first = rejections[0]
        message = f"有 {len(rejections)} 处需要更正：" + "；".join(each.message for each in rejections)
        super().__init__(message, field=first.field, code=first.code)
        self.rejections = tuple(rejections)


def check_all(*checks: Callable[[], None]) -> None:
    """Run every check; raise what the one refusing check raised, or RulesRejected naming all that did."""
    refused: list[CommandRejected] = []
    for check in checks:
        try:
            check()
        except CommandRejected as rejection:
            refused.append(rejection)
    if len(refused) == 1:
        raise refused[0]
    if refused:
        raise RulesRejected(refused)
