"""On SQLite a second settlement instance refuses to start while the first runs (ADR 0020): the scale audit
ran two on one file, and each consumed half of the events."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from services.settlement.sole_writer import SecondLedgerWriter
from tests.settlement.test_settlement_service import settlement_app


def test_a_second_settlement_instance_on_the_same_sqlite_file_refuses_to_start(
    tmp_path: Path, redis_url: str
) -> None:
    with settlement_app(tmp_path, redis_url) as first:
        with pytest.raises(SecondLedgerWriter, match="只能运行一个实例"), settlement_app(tmp_path, redis_url):
            pass
        assert first.get("/ledger").status_code == 200  # the first one goes on


def test_an_instance_starts_once_the_one_before_it_stopped(tmp_path: Path, redis_url: str) -> None:
    with settlement_app(tmp_path, redis_url):
        pass
    with settlement_app(tmp_path, redis_url) as second:
        assert second.get("/ledger").status_code == 200


def test_instances_on_two_sqlite_files_run_side_by_side(tmp_path: Path, redis_url: str) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with settlement_app(tmp_path / "a", redis_url) as one, settlement_app(tmp_path / "b", redis_url) as other:
        assert one.get("/ledger").status_code == other.get("/ledger").status_code == 200


def test_the_lock_file_is_the_services_alone_and_never_a_planted_link(tmp_path: Path, redis_url: str) -> None:
    with settlement_app(tmp_path, redis_url):
        assert stat.S_IMODE((tmp_path / "settlement.db.writer.lock").stat().st_mode) == 0o600
    (tmp_path / "settlement.db.writer.lock").unlink()
    (tmp_path / "settlement.db.writer.lock").symlink_to(tmp_path / "elsewhere")

    with pytest.raises(OSError), settlement_app(tmp_path, redis_url):
        pass
    assert not (tmp_path / "elsewhere").exists()
