"""The auditors' replays over HTTP: the ledger as of a date (the same totals as ``rehab replay --as-of``),
another policy of the registry tried on the archive (a difference worked out by hand), and the refusals."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient
from rehab_contracts import EventEnvelope
from sqlalchemy import Engine, select, update

from kernel.domain.clock import today
from kernel.runtime import ServiceRuntime, ServiceSettings
from kernel.store.store import inbox_table
from rehab.cli import main
from services.settlement.app import create_app
from services.settlement.ledger.as_of import replay_as_of
from services.settlement.ledger.report import render
from services.settlement.ledger.tables import postings_table
from tests.access.principals import Deployment, code_of, served
from tests.apps import state_of
from tests.problem_json import field_error_of
from tests.settlement.settlement_builders import DISTRICT_ASSESSOR, EYE_HOSPITAL, FUND, REHAB_CENTRE, Journey

SUPPORT = Journey()  # 鸳鸯: survey 30 + management 30 + assessment 30 + support service 200 yuan
CATARACT = Journey(  # 人和: the fees, and a cataract operation approved as a fixed amount of 1,500 yuan
    street="人和",
    item_code="cataract_surgery",
    mode="fixed_amount",
    amount_fen=150000,
    institution=EYE_HOSPITAL,
    charge_fen=200000,
)


def settlement_client(folder: Path, redis_url: str) -> TestClient:
    """Settlement on a SQLite file in ``folder`` (enter it to start the service)."""
    settings = ServiceSettings(
        service="settlement", database_url=f"sqlite:///{folder}/settlement.db", redis_url=redis_url
    )
    return TestClient(create_app(settings))


@pytest.fixture
def client(tmp_path: Path, redis_url: str, redis_client: redis.Redis) -> Iterator[TestClient]:
    with settlement_client(tmp_path, redis_url) as client:
        yield client


def engine(client: TestClient) -> Engine:
    runtime: ServiceRuntime = client.app.state.runtime  # type: ignore[attr-defined]
    return runtime.store.engine


def consume(client: TestClient, *journeys: Journey) -> None:
    consumer = client.app.state.runtime.consumer  # type: ignore[attr-defined]
    for journey in journeys:
        for envelope, stream in journey.events():
            consumer.apply(envelope, stream)


def received_on(client: TestClient, envelopes: list[EventEnvelope], moment: datetime) -> None:
    """Pretend settlement archived these events at ``moment`` (UTC, as the kernel writes it)."""
    ids = [str(envelope.event_id) for envelope in envelopes]
    with engine(client).begin() as connection:
        connection.execute(
            update(inbox_table).where(inbox_table.c.event_id.in_(ids)).values(received_at=moment)
        )


def balances(ledger: dict[str, Any]) -> dict[str, int]:
    return {row["account"]: row["balance_fen"] for row in ledger["accounts"]}


def differences(rows: list[dict[str, Any]]) -> dict[str, int]:
    return {row["account"]: row["difference_fen"] for row in rows}


# -- as of a date -----------------------------------------------------------------------------------
def test_the_ledger_as_of_a_date_over_http_is_the_ledger_the_library_and_rehab_replay_give(client, capsys):
    consume(client, SUPPORT, CATARACT)
    early = [SUPPORT.registered, SUPPORT.surveyed, SUPPORT.assessed]
    received_on(client, early, datetime(2024, 10, 31, 15, 59, tzinfo=UTC))  # 23:59 CST on 31 October
    received_on(client, [SUPPORT.approved, SUPPORT.delivered], datetime(2024, 10, 31, 16, 0, tzinfo=UTC))
    received_on(client, [envelope for envelope, _ in CATARACT.events()], datetime(2024, 11, 5, tzinfo=UTC))

    response = client.get("/replay/as-of", params={"date": "2024-10-31"})

    assert response.status_code == 200, response.text
    body = response.json()
    library = replay_as_of(engine(client), date(2024, 10, 31))
    assert (body["events"], body["cutoff"]) == (3, "2024-10-31T16:00:00Z")
    assert (
        balances(body["ledger"])
        == {row.account: row.balance_fen for row in library.report.accounts}
        == {FUND: 9000, "street:鸳鸯": -6000, f"assessment_institution:{DISTRICT_ASSESSOR}": -3000}
    )
    assert body["ledger"]["posting_count"] == library.report.posting_count == 3
    assert main(["replay", "--as-of", "2024-10-31", "--database-url", str(engine(client).url)]) == 0
    assert capsys.readouterr().out.partition("\n")[2] == render(library.report)
    november = client.get("/replay/as-of", params={"date": "2024-11-05"}).json()
    assert november["ledger"]["total_credit_fen"] == 29000 + 9000 + 150000


def test_the_ledger_as_of_today_is_the_live_ledger(client):
    consume(client, SUPPORT, CATARACT)
    as_of = client.get("/replay/as-of", params={"date": today().isoformat()}).json()
    live = client.get("/ledger").json()
    assert as_of["ledger"] == live
    assert as_of["unsettled"] == len(client.get("/ledger/unsettled").json())


def test_a_replay_as_of_a_date_leaves_the_live_ledger_untouched(client):
    consume(client, SUPPORT)
    with engine(client).connect() as connection:
        before = connection.execute(select(postings_table).order_by(postings_table.c.key)).all()
    assert client.get("/replay/as-of", params={"date": "2000-01-01"}).json()["ledger"]["posting_count"] == 0
    with engine(client).connect() as connection:
        assert connection.execute(select(postings_table).order_by(postings_table.c.key)).all() == before


# -- what-if under another policy of the registry -------------------------------------------------
def test_shapingbas_measures_on_this_year_pay_only_the_cataract_operation_at_1200_yuan(client):
    """沙府办发〔2023〕100号 三(四): 「对新增困难白内障患者实施1200元/例手术补贴」, and no per-person survey,
    management, assessment or support-service fee. Worked by hand:

    live (渝两江管发〔2024〕18号): each street 30 + 30, the district assessor 2 × 30, the rehab centre 200,
    the eye hospital the approved 1,500 (Liangjiang's cataract standard is unstated: the approval is the
    limit), 1,880 yuan from the district fund. Under Shapingba's policy the eye hospital gets 1,200
    (定额不超过目录标准), nobody else anything, and Shapingba's district fund pays it."""
    consume(client, SUPPORT, CATARACT)

    response = client.get("/replay/what-if", params={"policy": "shapingba-2023"})

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["policy"]["title"], body["policy"]["settles_here"]) == (
        "沙坪坝区“惠残2023工程”工作方案",
        False,
    )
    assert differences(body["payees"]) == {
        "street:人和": -6000,
        "street:鸳鸯": -6000,
        f"assessment_institution:{DISTRICT_ASSESSOR}": -6000,
        f"service_institution:{REHAB_CENTRE}": -20000,
        f"service_institution:{EYE_HOSPITAL}": 120000 - 150000,
    }
    assert differences(body["funding_sources"]) == {FUND: -188000, "fund:shapingba-finance": 120000}
    assert differences(body["funding_levels"]) == {"district": 120000 - 188000}
    assert balances(body["ledger"]) == {
        "fund:shapingba-finance": 120000,
        f"service_institution:{EYE_HOSPITAL}": -120000,
    }
    assert body["compared_with"] == client.get("/ledger").json()
    assert body["unsettled"] == 7  # 2 survey, 2 management and 2 assessment fees, 1 support service
    assert body["events"] == 10


def test_the_policy_in_force_shows_no_difference_and_as_of_a_date_compares_with_that_days_ledger(client):
    consume(client, SUPPORT, CATARACT)
    same = client.get("/replay/what-if", params={"policy": "liangjiang-2024"}).json()
    assert (same["payees"], same["funding_sources"], same["policy"]["settles_here"]) == ([], [], True)
    received_on(client, [envelope for envelope, _ in CATARACT.events()], datetime(2024, 11, 5, tzinfo=UTC))
    received_on(client, [envelope for envelope, _ in SUPPORT.events()], datetime(2024, 11, 4, tzinfo=UTC))
    fourth = client.get("/replay/what-if", params={"policy": "shapingba-2023", "as_of": "2024-11-04"}).json()
    assert (fourth["as_of"], fourth["events"]) == ("2024-11-04", 5)
    assert fourth["compared_with"]["total_credit_fen"] == 29000
    assert differences(fourth["funding_sources"]) == {FUND: -29000}


def test_the_registry_lists_every_policy_with_its_chinese_title(client):
    listed = {policy["id"]: policy for policy in client.get("/replay/policies").json()}
    assert set(listed) == {"anyang-2021", "liangjiang-2024", "shapingba-2023", "zhuhai-2017"}
    assert listed["liangjiang-2024"]["title"] == "重庆两江新区残疾人精准康复服务行动实施方案"
    assert [policy["settles_here"] for policy in listed.values()].count(True) == 1


# -- refusals ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "params", "field", "code"),
    [
        ("/replay/as-of", {"date": "2024-13-01"}, "date", "request.date_from_datetime_parsing"),
        ("/replay/as-of", {}, "date", "request.missing"),
        ("/replay/as-of", {"date": "tomorrow"}, "date", None),
        ("/replay/what-if", {"policy": "nanjing-2030"}, "policy", "settlement.policy.unknown"),
        ("/replay/what-if", {"policy": "shapingba-2023", "as_of": "2024/10/31"}, "as_of", None),
    ],
    ids=["impossible month", "no date", "a word", "unknown policy", "slashes"],
)
def test_a_malformed_date_or_an_unknown_policy_is_a_422_naming_the_field_in_chinese(
    client, path, params, field, code
):
    error = field_error_of(client.get(path, params=params), 422)
    assert error["field"] == field
    assert code is None or error["code"] == code


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/replay/as-of", {"date": "tomorrow"}, "date"),
        ("/replay/what-if", {"policy": "liangjiang-2024", "as_of": "tomorrow"}, "as_of"),
    ],
)
def test_a_date_still_to_come_is_refused_it_has_no_ledger_yet(client, path, params, field):
    tomorrow = (today() + timedelta(days=1)).isoformat()
    asked = {name: tomorrow if value == "tomorrow" else value for name, value in params.items()}
    error = field_error_of(client.get(path, params=asked), 422)
    assert (error["field"], error["code"]) == (field, f"settlement.{field}.future")
    assert "将来" in error["message"]


def test_only_the_district_and_auditors_replay_a_street_user_is_refused(tmp_path, redis_url, redis_client):
    deployment = Deployment(tmp_path / "access")
    with served(create_app, "settlement", tmp_path, redis_url, deployment.folder) as test_client:
        consumer = state_of(test_client).runtime.consumer
        for envelope, stream in SUPPORT.events():
            consumer.apply(envelope, stream)
        street = deployment.bearer("鸳鸯街道会计", "settlement", "street:鸳鸯")
        district = deployment.bearer("区财务", "settlement", "district")
        auditor = deployment.bearer("审计员", "audit", "district")
        asked = {"date": today().isoformat()}
        refused = test_client.get("/replay/as-of", params=asked, headers=street)
        assert (refused.status_code, code_of(refused)) == (403, "access.district_only")
        refused = test_client.get("/replay/what-if", params={"policy": "zhuhai-2017"}, headers=street)
        assert (refused.status_code, code_of(refused)) == (403, "access.district_only")
        for headers in (district, auditor):
            answered = test_client.get("/replay/as-of", params=asked, headers=headers)
            assert answered.json()["ledger"]["total_credit_fen"] == 29000
