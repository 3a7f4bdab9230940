"""`rehab keys generate | rotate | revoke | list`: key material on disk, as the services read it."""

from __future__ import annotations

from pathlib import Path

import pytest

from kernel.messaging.signing import KeyRing
from rehab.cli import main
from rehab.keys import key_ids


def keys(*argv: str) -> int:
    return main(["keys", *argv])


def test_generate_writes_a_key_pair_with_the_private_key_readable_by_its_owner_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert keys("generate", "--agency", "approval", "--dir", str(tmp_path)) == 0
    [key_id] = key_ids(tmp_path, "approval")
    private = tmp_path / "approval" / f"{key_id}.key"
    assert private.stat().st_mode & 0o777 == 0o600
    assert f"approval 此后用新密钥 {key_id} 签名" in capsys.readouterr().out
    signing_key = KeyRing.from_directory(tmp_path, "approval").signing_key
    assert signing_key is not None and signing_key.key_id == key_id


def test_generate_refuses_an_agency_that_has_keys_and_points_to_rotate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keys("generate", "--agency", "survey", "--dir", str(tmp_path))
    assert keys("generate", "--agency", "survey", "--dir", str(tmp_path)) == 1
    assert "已有密钥" in (refused := capsys.readouterr().err) and "rehab keys rotate" in refused
    assert len(key_ids(tmp_path, "survey")) == 1


def test_rotate_adds_a_newer_key_that_signs_while_the_old_one_keeps_verifying(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keys("generate", "--agency", "delivery", "--dir", str(tmp_path))
    assert keys("rotate", "--agency", "delivery", "--dir", str(tmp_path)) == 0
    old, new = key_ids(tmp_path, "delivery")
    capsys.readouterr()

    assert keys("list", "--dir", str(tmp_path)) == 0
    listing = capsys.readouterr().out.splitlines()
    assert [line.split(None, 3)[2:] for line in listing if old in line] == [["有", "只验证（verifies）"]]
    assert [line.split(None, 3)[2:] for line in listing if new in line] == [
        ["有", "签名新事件（signs new events）"]
    ]


def test_revoke_marks_the_key_and_an_unknown_key_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keys("generate", "--agency", "assessment", "--dir", str(tmp_path))
    [key_id] = key_ids(tmp_path, "assessment")

    assert (
        keys("revoke", "--agency", "assessment", "--key-id", "assessment-nope", "--dir", str(tmp_path)) == 1
    )
    assert "没有密钥 assessment-nope" in capsys.readouterr().err
    assert keys("revoke", "--agency", "assessment", "--key-id", key_id, "--dir", str(tmp_path)) == 0
    keys("list", "--dir", str(tmp_path))
    assert capsys.readouterr().out.splitlines()[-1].endswith("已吊销（revoked）")
    assert KeyRing.from_directory(tmp_path, "assessment").signing_key is None


def test_the_key_directory_defaults_to_rehab_keys_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REHAB_KEYS_DIR", str(tmp_path / "configured"))
    assert keys("generate", "--agency", "settlement") == 0
    assert len(key_ids(tmp_path / "configured", "settlement")) == 1
