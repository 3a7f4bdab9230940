"""`rehab up` on a demo's var dir runs the pack and the year the demo ran, unless told otherwise."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rehab.cli_run import _follow_the_demo, _note_the_demo


@pytest.fixture(autouse=True)
def unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REHAB_REFERENCE", raising=False)
    monkeypatch.delenv("REHAB_CONSOLE_YEAR", raising=False)


def test_up_follows_the_pack_and_year_of_the_demo_in_its_var_dir(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _note_the_demo(tmp_path, "anyang", 2021)
    monkeypatch.setattr(os, "environ", dict(os.environ))  # what up sets stays in this test

    _follow_the_demo(tmp_path)

    assert os.environ["REHAB_REFERENCE"] == "anyang"
    assert os.environ["REHAB_CONSOLE_YEAR"] == "2021"
    said = capsys.readouterr()
    assert "辖区包：anyang" in said.out + said.err and "工作台年度：2021" in said.out + said.err


def test_a_pack_the_operator_names_wins_over_the_demos(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _note_the_demo(tmp_path, "anyang", 2021)
    monkeypatch.setattr(os, "environ", {**os.environ, "REHAB_REFERENCE": "liangjiang"})

    _follow_the_demo(tmp_path)

    assert os.environ["REHAB_REFERENCE"] == "liangjiang"
    assert os.environ["REHAB_CONSOLE_YEAR"] == "2021"


def test_a_var_dir_without_a_demo_changes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "environ", dict(os.environ))

    _follow_the_demo(tmp_path)

    assert "REHAB_REFERENCE" not in os.environ and "REHAB_CONSOLE_YEAR" not in os.environ
