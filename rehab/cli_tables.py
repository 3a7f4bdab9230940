"""The tables `rehab` lists things in (users, keys, dead letters, the verify summary), drawn by rich.

rich aligns by display width, so a Chinese heading (two columns a character) lines up with the values
below it. On a terminal the heading is ruled off; piped (`| grep`, a script) the table is plain
columns with no rule and no wrapping, one line per row, so a row stays one line for the next tool.
"""

from __future__ import annotations

from collections.abc import Iterable

import typer
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

PIPED_WIDTH = 10_000
"""Wide enough that no piped row wraps."""


def table(*headings: str) -> Table:
    return Table(*headings, box=None, pad_edge=False, padding=(0, 2), header_style="bold")


def add_row(shown: Table, values: Iterable[str]) -> None:
    """One row; values are text, never rich markup, with control characters escaped (a stored value
    cannot restyle a table nor forge a row of it)."""
    from kernel.access.audit import printable

    shown.add_row(*(Text(printable(value)) for value in values))


def show(shown: Table) -> None:
    """Print the table on stdout: ruled on a terminal, plain columns when piped."""
    console = Console(highlight=False)
    if console.is_terminal:
        shown.box = box.SIMPLE_HEAD
        console.print(shown)
        return
    plain = Console(highlight=False, width=PIPED_WIDTH, no_color=True)
    with plain.capture() as captured:
        plain.print(shown, crop=False)
    for line in captured.get().splitlines():
        typer.echo(line.rstrip())  # rich pads every cell to its column's width
