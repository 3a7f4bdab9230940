"""`rehab up` on a demo's var dir runs the pack and the year the demo ran, unless told otherwise; every
command that opens a store of that var dir reads it under that pack."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rehab.cli_failures import say
from rehab.cli_stores import existing_store
from rehab.demo_note import follow_the_demo, note_the_demo


@pytest.fixture(autouse=True)
def unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REHAB_REFERENCE", raising=False)
    monkeypatch.delenv("REHAB_CONSOLE_YEAR", raising=False)


def test_up_follows_the_pack_and_year_of_the_demo_in_its_var_dir(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    note_the_demo(tmp_path, "anyang", 2021)
    monkeypatch.setattr(os, "environ", dict(os.environ))  # what up sets stays in this test

    follow_the_demo(tmp_path, say, console_year=True)

    assert os.environ["REHAB_REFERENCE"] == "anyang"
    assert os.environ["REHAB_CONSOLE_YEAR"] == "2021"
    said = capsys.readouterr()
    assert "辖区包：anyang" in said.out + said.err and "工作台年度：2021" in said.out + said.err


def test_a_pack_the_operator_names_wins_over_the_demos(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    note_the_demo(tmp_path, "anyang", 2021)
    monkeypatch.setattr(os, "environ", {**os.environ, "REHAB_REFERENCE": "liangjiang"})

    follow_the_demo(tmp_path, say, console_year=True)

    assert os.environ["REHAB_REFERENCE"] == "liangjiang"
    assert os.environ["REHAB_CONSOLE_YEAR"] == "2021"


def test_a_var_dir_without_a_demo_changes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "environ", dict(os.environ))

    follow_the_demo(tmp_path, say, console_year=True)

    assert "REHAB_REFERENCE" not in os.environ and "REHAB_CONSOLE_YEAR" not in os.environ


def test_a_command_opening_a_store_of_a_demos_var_dir_reads_it_under_the_demos_pack(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`rehab replay --var-dir` on Anyang's demo once replayed it under Liangjiang's pack (the default)."""
    note_the_demo(tmp_path, "anyang", 2021)
    (tmp_path / "settlement.db").touch()
    monkeypatch.setattr(os, "environ", dict(os.environ))

    existing_store("settlement", tmp_path, None).dispose()

    assert os.environ["REHAB_REFERENCE"] == "anyang"
    assert "REHAB_CONSOLE_YEAR" not in os.environ  # the console's year is up's business
    said = capsys.readouterr()
    assert said.out == "" and "辖区包：anyang" in said.err  # stdout stays the command's answer (a CSV)
