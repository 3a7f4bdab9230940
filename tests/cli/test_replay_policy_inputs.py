"""`rehab replay --policy FILE` fills the figures a seed defers to another document from the pack's
inputs.toml (or `--inputs FILE`), as the live ledger does, and names in Chinese those still missing.

Anyang's 当地每月补助标准 is set by 安政办〔2019〕23号, not among the seeds: the shipped pack gives none, so a
training of fewer than 10 months waits. The 1,200 yuan a month below is a what-if figure, not a seed's."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import create_engine

from kernel.reference.jurisdiction import JURISDICTIONS_DIR
from kernel.runtime import ServiceSettings
from rehab.cli import main
from rehab.cli_failures import ExitCode
from services.settlement.app import create_app
from services.settlement.ledger.report import LedgerReport, ledger_report, render
from tests.acceptance.anyang_children import CENTRE, child_events, consume

MONTHLY = "items.children_rehab_training.standards.ten-months.subsidy.monthly_fen"
VISION = "items.children_rehab_training.standards.vision.subsidy.cap_fen"
A_MONTHLY_STANDARD = f"""
[[inputs]]
file = "policies/anyang-2021.toml"
path = "{MONTHLY}"
fen = 120000
source = "what-if: 1,200 yuan a month"
"""


@pytest.fixture
def database_url(
    tmp_path: Path, redis_url: str, redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """Anyang's live ledger (the shipped pack): a full training paid, a 2-month one waiting."""
    monkeypatch.setenv("REHAB_REFERENCE", "anyang")
    url = f"sqlite:///{tmp_path}/settlement.db"
    settings = ServiceSettings(service="settlement", database_url=url, redis_url=redis_url)
    with TestClient(create_app(settings)) as client:
        consume(client, child_events("文峰区", date(2021, 3, 1), date(2021, 12, 31)))
        consume(client, child_events("北关区", date(2021, 3, 1), date(2021, 4, 30)))
        yield url


def pack_with_a_monthly_standard(tmp_path: Path) -> Path:
    """A copy of the Anyang pack whose inputs.toml gives the monthly standard; its policy file's path."""
    pack = tmp_path / "anyang"
    shutil.copytree(JURISDICTIONS_DIR / "anyang", pack)
    (pack / "inputs.toml").write_text(A_MONTHLY_STANDARD, encoding="utf-8")
    return pack / "policies" / "anyang-2021.toml"


@dataclass(frozen=True)
class Ran:
    code: int
    out: str
    err: str


@pytest.fixture
def rehab(capsys: pytest.CaptureFixture[str]) -> Callable[..., Ran]:
    """``rehab argv`` as the console script runs it (its spinner redirects stdout, so not under CliRunner)."""

    def run(*argv: str) -> Ran:
        code = main(list(argv))
        printed = capsys.readouterr()
        return Ran(code, printed.out, printed.err)

    return run


def payee_rows(printed: str) -> list[list[str]]:
    lines = printed.splitlines()
    start = lines.index(next(line for line in lines if line.startswith("收款方")))
    return [line.split() for line in lines[start + 2 : lines.index("", start) - 2]]


def test_a_pack_policy_replays_with_the_packs_inputs_and_pays_the_short_training_by_its_months(
    database_url: str, tmp_path: Path, rehab: Callable[..., Ran]
) -> None:
    live = render(ledger_report_of(database_url))
    ran = rehab(
        "replay", "--policy", str(pack_with_a_monthly_standard(tmp_path)), "--database-url", database_url
    )

    assert ran.code == ExitCode.OK
    # 2 months x 1,200 = 2,400 yuan, within the 12,000 approved and the 15,000 charged.
    assert payee_rows(ran.out) == [[f"service_institution:{CENTRE}", "12,000.00", "14,400.00", "2,400.00"]]
    assert "部署参数取自" in ran.err and "inputs.toml，填入 1 项" in ran.err
    assert "仍缺 1 项部署参数" in ran.err and VISION in ran.err and "安政办〔2019〕23号" in ran.err
    assert render(ledger_report_of(database_url)) == live


def test_inputs_given_with_a_policy_file_outside_a_pack_fill_its_figures(
    database_url: str, tmp_path: Path, rehab: Callable[..., Ran]
) -> None:
    lone = tmp_path / "anyang-what-if.toml"
    lone.write_text((JURISDICTIONS_DIR / "anyang/policies/anyang-2021.toml").read_text(encoding="utf-8"))
    inputs = tmp_path / "inputs.toml"
    inputs.write_text(A_MONTHLY_STANDARD, encoding="utf-8")

    ran = rehab("replay", "--policy", str(lone), "--inputs", str(inputs), "--database-url", database_url)

    assert ran.code == ExitCode.OK
    assert payee_rows(ran.out) == [[f"service_institution:{CENTRE}", "12,000.00", "14,400.00", "2,400.00"]]
    assert f"部署参数取自 {inputs}" in ran.err


def test_a_policy_file_outside_a_pack_without_inputs_says_every_deferred_figure_is_missing(
    database_url: str, tmp_path: Path, rehab: Callable[..., Ran]
) -> None:
    lone = tmp_path / "anyang-what-if.toml"
    lone.write_text((JURISDICTIONS_DIR / "anyang/policies/anyang-2021.toml").read_text(encoding="utf-8"))

    ran = rehab("replay", "--policy", str(lone), "--database-url", database_url)

    assert ran.code == ExitCode.OK and payee_rows(ran.out) == []
    assert "未使用部署参数文件" in ran.err and "仍缺 2 项部署参数" in ran.err
    assert MONTHLY in ran.err and "当地每月补助标准" in ran.err


def test_an_input_naming_a_figure_that_is_not_deferred_is_refused(
    database_url: str, tmp_path: Path, rehab: Callable[..., Ran]
) -> None:
    inputs = tmp_path / "inputs.toml"
    inputs.write_text(A_MONTHLY_STANDARD.replace(MONTHLY, "fees.survey_fee_fen"), encoding="utf-8")
    policy = JURISDICTIONS_DIR / "anyang/policies/anyang-2021.toml"

    ran = rehab("replay", "--policy", str(policy), "--inputs", str(inputs), "--database-url", database_url)

    assert ran.code == 2 and "fees.survey_fee_fen 不是按分（fen）给出的部署参数" in ran.err


def test_inputs_without_a_policy_is_a_usage_error(
    database_url: str, tmp_path: Path, rehab: Callable[..., Ran]
) -> None:
    ran = rehab("replay", "--inputs", str(tmp_path / "inputs.toml"), "--database-url", database_url)
    assert ran.code == ExitCode.USAGE and "--inputs 只能配合 --policy 使用" in ran.err


def ledger_report_of(url: str) -> LedgerReport:
    engine = create_engine(url)
    try:
        return ledger_report(engine)
    finally:
        engine.dispose()
