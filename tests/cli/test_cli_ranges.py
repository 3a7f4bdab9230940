"""Values out of range on settlement's read commands are usage errors (exit 2) naming the option and
its range, in Chinese: not a defect (exit 70), not a fault of the archive, never an empty document."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from kernel.runtime import ServiceSettings
from rehab.cli_failures import ExitCode
from services.settlement.app import create_app as create_settlement
from tests.cli.runner import rehab


@pytest.fixture
def var_dir(tmp_path: Path, redis_url: str) -> Path:
    """A var folder holding settlement's store, as the service creates it."""
    url = f"sqlite:///{tmp_path}/settlement.db"
    with TestClient(
        create_settlement(ServiceSettings(service="settlement", database_url=url, redis_url=redis_url))
    ):
        pass
    return tmp_path


@pytest.mark.parametrize("year", ["0", "-1", "1999", "2101", "10000", "99999999999999999999"])
def test_a_coverage_year_out_of_range_names_the_option_and_its_range(var_dir: Path, year: str) -> None:
    ran = rehab("coverage", f"--year={year}", "--var-dir", str(var_dir))
    assert ran.code == ExitCode.USAGE
    assert f"'--year' 的值无效：应在 2000 至 2100 之间，这里是 {year}" in ran.err


def test_the_annual_summary_of_year_minus_one_is_refused_and_nothing_written(var_dir: Path) -> None:
    out = var_dir / "附件3.xlsx"
    ran = rehab(
        "annual-summary", "--year=-1", "--street", "鸳鸯", "--out", str(out), "--var-dir", str(var_dir)
    )
    assert ran.code == ExitCode.USAGE and "'--year' 的值无效：应在 2000 至 2100 之间" in ran.err
    assert not out.exists()


@pytest.mark.parametrize("words", [("quota-use",), ("demo",)])
def test_every_year_option_takes_the_same_range(var_dir: Path, words: tuple[str, ...]) -> None:
    ran = rehab(*words, "--year", "10000", "--var-dir", str(var_dir))
    assert ran.code == ExitCode.USAGE and "'--year' 的值无效：应在 2000 至 2100 之间，这里是 10000" in ran.err


@pytest.mark.parametrize("period", ["9999-12", "9999", "1999-01"])
def test_a_statement_period_beyond_the_years_is_a_usage_error(var_dir: Path, period: str) -> None:
    ran = rehab("statement", "--payee", "street:鸳鸯", "--period", period, "--var-dir", str(var_dir))
    assert ran.code == ExitCode.USAGE
    assert "'--period' 的值无效：期间的年份应在 2000 至 2100 之间" in ran.err and "Error" not in ran.err


@pytest.mark.parametrize("day", ["9999-12-31", "1999-12-31"])
def test_a_replay_as_of_a_date_beyond_the_years_is_a_usage_error_not_the_archives_fault(
    var_dir: Path, day: str
) -> None:
    ran = rehab("replay", "--as-of", day, "--var-dir", str(var_dir))
    assert ran.code == ExitCode.USAGE
    assert f"'--as-of' 的值无效：应在 2000-01-01 至 2100-12-31 之间，这里是 {day}" in ran.err
    assert "存档" not in ran.err and "Error" not in ran.err


def test_a_replay_as_of_the_last_day_of_the_range_runs(var_dir: Path) -> None:
    assert rehab("replay", "--as-of", "2100-12-31", "--var-dir", str(var_dir)).code == ExitCode.OK
