"""`rehab …` run in-process under typer's CliRunner: its exit code, stdout and stderr."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from typer.testing import CliRunner

from rehab.cli import main


@dataclass(frozen=True)
class Ran:
    code: int
    out: str
    err: str


def rehab(*argv: str, stdin: str | None = None, env: Mapping[str, str | None] | None = None) -> Ran:
    """Run ``rehab argv`` as main() does for the console script (its error handling included)."""
    with CliRunner().isolation(input=stdin, env=env) as (out, err, _both):
        code = main(list(argv))
        return Ran(code, out.getvalue().decode(), err.getvalue().decode())
