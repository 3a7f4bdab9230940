"""The console's default dates (a form's 今天, the worklist's year and 已超期) are Beijing's, as the
services count them (kernel.domain.clock): a server on UTC is still on yesterday until 08:00 in Beijing."""

from __future__ import annotations

import ast
from pathlib import Path

CONSOLE = Path(__file__).resolve().parents[2] / "console"
NOT_A_DATE = {"passwords.py"}
"""A lockout's end shown as a time of day (``.astimezone()``), not a business date; still the server's
zone, to be shown in Beijing time by its owner."""


def server_clock_reads(source: str) -> list[str]:
    """Calls that take today's date from the server's own clock: ``date.today()``, ``datetime.today()``,
    ``datetime.now()`` without a zone, ``.astimezone()`` without one (the server's zone)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        name, owner = node.func.attr, node.func.value
        owner_name = owner.id if isinstance(owner, ast.Name) else ""
        if name == "today" and owner_name in ("date", "datetime"):
            found.append(f"{owner_name}.today()")
        elif name == "now" and owner_name == "datetime" and not node.args and not node.keywords:
            found.append("datetime.now()")
        elif name == "astimezone" and not node.args and not node.keywords:
            found.append(".astimezone()")
    return found


def test_the_check_sees_a_server_clock_read() -> None:
    assert server_clock_reads("from datetime import date\nx = date.today().isoformat()") == ["date.today()"]
    assert server_clock_reads("y = datetime.now(UTC).astimezone().year") == [".astimezone()"]
    assert server_clock_reads("from kernel.domain.clock import today\nz = today()") == []


def test_no_console_module_takes_the_date_from_the_servers_clock() -> None:
    reads = {
        str(path.relative_to(CONSOLE)): server_clock_reads(path.read_text(encoding="utf-8"))
        for path in sorted(CONSOLE.rglob("*.py"))
        if str(path.relative_to(CONSOLE)) not in NOT_A_DATE
    }
    assert {path: found for path, found in reads.items() if found} == {}
