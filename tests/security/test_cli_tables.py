"""Every table the `rehab` command prints keeps one row per line, whatever a stored value holds (issue 14,
defect 7: "control characters are refused or escaped … in every CLI table")."""

from __future__ import annotations

from pathlib import Path

import pytest

from rehab.cli import main

FORGED = "孙\n干事 伪造的一行"


def test_a_user_name_with_a_newline_cannot_forge_a_row_of_rehab_users_list(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    access = ["--access-dir", str(tmp_path / "access")]
    main(["users", "add", FORGED, "--agency", "survey", "--role", "staff", "--scope", "street:鸳鸯", *access])
    capsys.readouterr()

    main(["users", "list", *access])

    lines = capsys.readouterr().out.splitlines()
    assert not any(line.startswith("干事") for line in lines), lines
