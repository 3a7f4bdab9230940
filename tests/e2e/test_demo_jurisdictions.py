"""`rehab demo --jurisdiction NAME`: a year of another pack through the five services as processes, the
services running on that pack (REHAB_REFERENCE). Figures are the seeds', computed by hand."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from rehab.cli_failures import ExitCode
from rehab.demo import DemoSummary, run_demo
from tests.cli.runner import rehab
from tests.e2e.conftest import Deployment, start_deployment, stop_deployment


@pytest.fixture
def demo_of(tmp_path: Path) -> Iterator[object]:
    running: list[Deployment] = []

    def run(name: str, seed: int = 7) -> tuple[Deployment, DemoSummary]:
        deployment = start_deployment(tmp_path / name, env={"REHAB_REFERENCE": name})
        running.append(deployment)
        return deployment, run_demo(deployment.services.url, persons=40, seed=seed, jurisdiction=name)

    yield run
    for deployment in running:
        stop_deployment(deployment)


def postings(deployment: Deployment, account: str) -> list[tuple[str, int]]:
    page = deployment.journey.get("settlement", "/ledger/postings", account=account, limit=500)
    return [(posting["debit_account"], posting["amount_fen"]) for posting in page["items"]]


def card_numbers(deployment: Deployment, year: int) -> list[str]:
    approved = deployment.journey.get("approval", "/applications", status="approved", year=year, limit=500)
    return [application["service_card_number"] for application in approved]


def test_shapingbas_year_pays_each_cataract_1200_yuan_and_numbers_its_cards_spb(demo_of) -> None:
    # Seed 4: the sample's served cataracts are of a 低保, a 低收入 and an 其他 family (seed 7 has only 其他).
    deployment, summary = demo_of("shapingba", seed=4)
    assert summary.year == 2025 and summary.ledger_balanced and summary.place == "重庆市沙坪坝区"
    assert {row["street"] for row in summary.coverage["streets"]} <= set(summary.areas)
    # 002 三(一)4: 「对新增困难白内障患者实施1200元/例手术补贴」 = 120,000 fen a case, from the district fund;
    # the 其他 family's is not 困难: it waits as not_eligible.
    eye = postings(deployment, "service_institution:spb-eye-hospital")
    assert len(eye) == 2 and set(eye) == {("fund:shapingba-finance", 120_000)}
    waiting = [fact["code"] for fact in summary.unsettled if "白内障" in fact["reason"]]
    assert waiting == ["not_eligible"]
    cards = card_numbers(deployment, 2025)
    assert cards and all(re.fullmatch(r"SPB2025-\d{6}", card) for card in cards)


def test_anyangs_2021_splits_by_county_and_short_trainings_wait_for_the_monthly_standard(demo_of) -> None:
    deployment, summary = demo_of("anyang")
    assert summary.year == 2021 and summary.ledger_balanced and summary.area_kind == "county"
    # 004 三(三): 12,000 yuan approved; 滑县 「中央、省级承担65%，滑县财政直管县承担35%」 = 7,800 + 4,200;
    # elsewhere 「中央和省财政负担50%、市县财政负担50%」 = 6,000 + 6,000.
    paid = postings(deployment, "service_institution:ay-children-centre")
    assert set(paid) <= {
        ("fund:anyang-central-provincial", 780_000),
        ("fund:anyang-huaxian", 420_000),
        ("fund:anyang-central-provincial", 600_000),
        ("fund:anyang-city-county", 600_000),
    }
    assert paid.count(("fund:anyang-central-provincial", 780_000)) == paid.count(
        ("fund:anyang-huaxian", 420_000)
    )
    # 004 二: 「不足10个月的，可根据当地每月补助标准 …」: June to October is 5 months; the standard is a
    # deployment input not given (安政办〔2019〕23号), so those trainings wait, naming the document.
    waiting = [fact for fact in summary.unsettled if fact["code"] == "standard_unstated"]
    assert waiting and all("安政办〔2019〕23号" in fact["reason"] for fact in waiting)
    cards = card_numbers(deployment, 2021)
    assert cards and all(re.fullmatch(r"AY2021-\d{6}", card) for card in cards)


def test_a_jurisdiction_without_a_demo_sample_is_a_usage_error_naming_those_with_one(tmp_path: Path) -> None:
    ran = rehab("demo", "--jurisdiction", "zhuhai", "--var-dir", str(tmp_path))
    assert ran.code == ExitCode.USAGE
    assert "没有 zhuhai 的演示样本" in ran.err and "liangjiang、shapingba、anyang" in ran.err
