"""Anyang's 2021 children's assistance settled to the fen from the events the producers publish: the
settlement service consumes real contract envelopes (no producer processes yet), every expected figure
computed by hand from seed 004 (《2021年安阳市残疾儿童康复救助工作实施方案》), never from the policy files."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient

from kernel.domain.clock import today
from kernel.runtime import ServiceSettings
from services.settlement.app import create_app
from services.settlement.ledger.as_of import replay_as_of
from services.settlement.ledger.report import ledger_report, render
from tests.acceptance.anyang_children import CENTRE, balances, child_events, consume


@pytest.fixture
def client(
    tmp_path: Path, redis_url: str, redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TestClient]:
    monkeypatch.setenv("REHAB_REFERENCE", "anyang")
    settings = ServiceSettings(
        service="settlement", database_url=f"sqlite:///{tmp_path}/settlement.db", redis_url=redis_url
    )
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def test_anyangs_2021_year_settles_to_the_fen_by_county_and_months(client: TestClient) -> None:
    # 004 二: 「康复训练时间为10个月，不足10个月的，可根据当地每月补助标准，按救助对象训练月数补助康复费用」.
    # March to December is 10 months, a full training: the months change nothing and, the monthly standard
    # being a deployment input not given (安政办〔2019〕23号), the approved 12,000 yuan is the limit:
    # min(12,000 approved, 15,000 self-paid) = 12,000 yuan per child.
    # 004 三(三): 滑县 「中央、省级承担65%，滑县财政直管县承担35%」: 12,000 x 65% = 7,800; x 35% = 4,200.
    # Elsewhere 「中央和省财政负担50%、市县财政负担50%」: 文峰区 6,000 + 6,000.
    # 北关区's child trained March and April (signed 2021-04-30, before the plan's notice of 2021-05-25):
    # the plan governs 2021 (「全年救助不少于1015名」), so it is judged under it, not "no policy in force";
    # 2 months are paid by the monthly standard, which is not given, so it waits naming the document.
    consume(client, child_events("滑县", date(2021, 3, 1), date(2021, 12, 31)))
    consume(client, child_events("文峰区", date(2021, 3, 1), date(2021, 12, 31)))
    consume(client, child_events("北关区", date(2021, 3, 1), date(2021, 4, 30)))

    assert balances(client) == {
        "fund:anyang-central-provincial": 780_000 + 600_000,
        "fund:anyang-huaxian": 420_000,
        "fund:anyang-city-county": 600_000,
        f"service_institution:{CENTRE}": -(1_200_000 + 1_200_000),
    }
    [waiting] = client.get("/ledger/unsettled").json()
    assert waiting["code"] == "standard_unstated" and "安政办〔2019〕23号" in waiting["reason"]
    assert "训练 2 个月按每月补助标准支付" in waiting["reason"]

    # Replay equals live: a rebuild from the archive, and the ledger as of today.
    engine = client.app.state.runtime.store.engine  # type: ignore[attr-defined]
    live = render(ledger_report(engine))
    assert client.post("/ledger/rebuild").status_code == 200
    assert render(ledger_report(engine)) == live
    assert render(replay_as_of(engine, today()).report) == live
