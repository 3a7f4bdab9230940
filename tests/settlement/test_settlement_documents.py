"""Settlement's documents: explanations of postings, the ledger as of a date, statements, and 附件3."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from uuid import uuid4

import pytest
import redis
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from rehab_contracts import EventEnvelope
from rehab_contracts.events import NeedSurveyed, PersonDetailsCorrected, PersonRegistered, ServiceDelivered
from rehab_contracts.streams import DELIVERY_STREAM, SURVEY_STREAM
from sqlalchemy import Engine, func, select, update

from kernel.runtime import ServiceRuntime, ServiceSettings
from kernel.store.store import inbox_table
from rehab.cli import main
from services.settlement.app import create_app
from services.settlement.documents.statements import BadPeriod, Period
from services.settlement.ledger.as_of import replay_as_of
from services.settlement.ledger.queries import find_postings
from services.settlement.ledger.report import ledger_report, render
from services.settlement.ledger.tables import journal_lines_table, postings_table
from tests.problem_json import field_error_of
from tests.settlement.settlement_builders import (
    DISTRICT_ASSESSOR,
    EYE_HOSPITAL,
    REHAB_CENTRE,
    Journey,
    envelope_of,
    payload_of,
)


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/settlement.db"


@pytest.fixture
def client(database_url: str, redis_url: str, redis_client: redis.Redis) -> Iterator[TestClient]:
    settings = ServiceSettings(service="settlement", database_url=database_url, redis_url=redis_url)
    with TestClient(create_app(settings)) as client:
        yield client


def engine(client: TestClient) -> Engine:
    runtime: ServiceRuntime = client.app.state.runtime  # type: ignore[attr-defined]
    return runtime.store.engine


def consume(client: TestClient, envelope: EventEnvelope, stream: str) -> None:
    consumer = client.app.state.runtime.consumer  # type: ignore[attr-defined]
    consumer.apply(envelope, stream)


def consume_all(client: TestClient, journey: Journey) -> None:
    for envelope, stream in journey.events():
        consume(client, envelope, stream)


def received_on(client: TestClient, envelopes: list[EventEnvelope], moment: datetime) -> None:
    """Pretend settlement archived these events at ``moment`` (UTC, as the kernel writes it)."""
    ids = [str(envelope.event_id) for envelope in envelopes]
    with engine(client).begin() as connection:
        connection.execute(
            update(inbox_table).where(inbox_table.c.event_id.in_(ids)).values(received_at=moment)
        )


def posting_id_of(client: TestClient, rule: str) -> str:
    [posting] = client.get("/ledger/postings", params={"rule": rule}).json()["items"]
    return str(posting["posting_id"])


# -- explain --------------------------------------------------------------------------------------
def test_explain_names_the_rule_the_policy_figure_the_accounts_and_the_source_event(client, capsys):
    journey = Journey()
    consume_all(client, journey)
    posting_id = posting_id_of(client, "survey_fee")

    explanation = client.get(f"/ledger/postings/{posting_id}/explanation").json()
    assert explanation["rule_name"] == "需求调查工作经费"
    assert explanation["policy_id"] == "liangjiang-2024"
    assert explanation["figure"] == "30.00 元/人"
    assert explanation["credit_name"] == "鸳鸯街道"
    assert explanation["debit_name"] == "两江新区财政"
    [source] = explanation["source_events"]
    assert source == {
        "event_id": str(journey.surveyed.event_id),
        "event_type": "survey.need_surveyed",
        "business_date": "2024-10-15",
        "received_at": source["received_at"],
    }
    assert "30.00 元/人 × 1 人 = 30.00 元" in "\n".join(explanation["arithmetic"])

    database_url = str(engine(client).url)
    assert main(["explain", posting_id, "--database-url", database_url]) == 0
    printed = capsys.readouterr().out
    assert printed == explanation["text"]
    for expected in (
        "需求调查工作经费",
        "渝两江管发〔2024〕18号",
        "street:鸳鸯",
        "fund:liangjiang-finance",
        str(journey.surveyed.event_id),
        "业务日期 2024-10-15",
    ):
        assert expected in printed


def test_explain_shows_insurance_first_arithmetic_of_a_fixed_amount_subsidy(client):
    journey = Journey(
        item_code="low_vision_training",
        institution=EYE_HOSPITAL,
        mode="fixed_amount",
        amount_fen=100000,
        charge_fen=150000,
        insurance_paid_fen=30000,
    )
    consume_all(client, journey)
    posting_id = posting_id_of(client, "service_subsidy")

    explanation = client.get(f"/ledger/postings/{posting_id}/explanation").json()
    inputs = {row["name"]: row["value"] for row in explanation["inputs"]}
    assert inputs["charge_fen"] == "1,500.00 元"
    assert inputs["insurance_paid_fen"] == "300.00 元"
    assert inputs["approved_amount_fen"] == "1,000.00 元"
    assert inputs["item"] == "低视力视功能训练"  # by name; the code only in the printed text, for auditors
    assert explanation["credit_name"] == "重医附二院"
    assert explanation["arithmetic"][:2] == [
        "自付部分 = 收费总额 1,500.00 − 医保等先行支付 300.00 = 1,200.00 元",
        "补助上限余额 = 上限 1,000.00 − 已付 0.00 = 1,000.00 元",
    ]
    assert "补助 = min(自付部分 1,200.00, 上限余额 1,000.00) = 1,000.00 元" in explanation["arithmetic"][2]
    assert [source["event_type"] for source in explanation["source_events"]] == [
        "approval.application_approved",
        "delivery.service_delivered",
    ]


def test_explain_speaks_to_the_clerk_names_without_codes_yuan_only_chinese_dates_an_open_standard_in_words(
    client, capsys
):
    journey = Journey(item_code="cataract_surgery", institution=EYE_HOSPITAL, charge_fen=150000)
    consume_all(client, journey)
    posting_id = posting_id_of(client, "service_subsidy")

    explanation = client.get(f"/ledger/postings/{posting_id}/explanation").json()
    inputs = {row["name"]: row["value"] for row in explanation["inputs"]}
    assert inputs["item"] == "白内障复明手术" and inputs["subsidy_mode"] == "免费"
    assert inputs["institution"] == "重医附二院"
    shown = " ".join([*inputs.values(), *explanation["arithmetic"], explanation["figure"]])
    for code in ("cataract_surgery", "cqmu-second", "（free）", " 分）", "部署参数未填写"):
        assert code not in shown + explanation["policy_source"], code
    assert explanation["arithmetic"][-1] == "记账金额 = 1,500.00 元"
    assert "印发 2024年8月27日" in explanation["policy_source"]
    catalogue = "《两江新区残疾人基本康复服务目录》"
    assert explanation["figure"].startswith(f"本地区尚未填写该项补助标准（部署参数），应为{catalogue}")
    assert "自付部分全额补助，以申请核定的金额为限" in explanation["figure"]

    assert main(["explain", posting_id, "--database-url", str(engine(client).url)]) == 0
    printed = capsys.readouterr().out  # the auditor's text keeps each code beside its name
    assert "白内障复明手术  [cataract_surgery]" in printed and "重医附二院  [cqmu-second]" in printed


def test_explaining_an_unknown_posting_is_a_404_and_exit_code_1(client):
    unknown = uuid4()
    response = client.get(f"/ledger/postings/{unknown}/explanation")
    error = field_error_of(response, 404)
    assert (error["field"], error["code"]) == ("posting_id", "settlement.posting.not_found")
    assert main(["explain", str(unknown), "--database-url", str(engine(client).url)]) == 1


# -- replay --as-of -------------------------------------------------------------------------------
def test_replay_as_of_a_date_counts_only_events_received_by_the_end_of_that_day_in_china(client):
    journey = Journey()
    consume_all(client, journey)
    early = [journey.registered, journey.surveyed, journey.assessed]
    received_on(client, early, datetime(2024, 10, 31, 15, 59, tzinfo=UTC))  # 23:59 CST on 31 October
    received_on(client, [journey.approved, journey.delivered], datetime(2024, 10, 31, 16, 0, tzinfo=UTC))

    october = replay_as_of(engine(client), date(2024, 10, 31))
    assert october.events == 3
    assert sorted(posting.rule for posting in october.postings) == [
        "assessment_fee",
        "management_fee",
        "survey_fee",
    ]
    assert october.report.total_credit_fen == 9000
    november = replay_as_of(engine(client), date(2024, 11, 1))
    assert november.report.total_credit_fen == 29000


def test_replay_as_of_today_equals_the_live_ledger_and_leaves_it_untouched(client, capsys):
    for journey in (Journey(), Journey(street="人和")):
        consume_all(client, journey)
    live = render(ledger_report(engine(client)))
    with engine(client).connect() as connection:
        before = connection.execute(select(postings_table).order_by(postings_table.c.key)).all()

    assert main(["replay", "--as-of", "2099-12-31", "--database-url", str(engine(client).url)]) == 0
    printed = capsys.readouterr().out
    heading, _, ledger = printed.partition("\n")
    assert heading.startswith("截至 2099-12-31 的台账（结算收到于 2100-01-01T00:00:00+08:00 之前的事件")
    assert ledger == live
    main(["replay", "--as-of", "2000-01-01", "--database-url", str(engine(client).url)])
    assert "记账笔数：0" in capsys.readouterr().out
    with engine(client).connect() as connection:
        assert connection.execute(select(postings_table).order_by(postings_table.c.key)).all() == before


def test_the_same_replay_as_of_twice_prints_byte_identical_output(client, capsys):
    for journey in (
        Journey(),
        Journey(street="人和"),
        Journey(item_code="low_vision_training", institution=EYE_HOSPITAL, mode="free"),
    ):
        consume_all(client, journey)
    arguments = ["replay", "--as-of", "2099-12-31", "--database-url", str(engine(client).url)]
    main(arguments)
    first = capsys.readouterr().out.encode()
    main(arguments)
    assert capsys.readouterr().out.encode() == first


def test_replay_as_of_by_recorded_time_includes_events_that_arrived_late(client):
    journey = Journey()
    consume_all(client, journey)
    received_on(client, [envelope for envelope, _ in journey.events()], datetime(2099, 1, 1, tzinfo=UTC))
    assert replay_as_of(engine(client), date(2098, 12, 31)).events == 0
    assert replay_as_of(engine(client), date(2098, 12, 31), basis="recorded").events == 5


# -- statements -----------------------------------------------------------------------------------
def test_periods_are_a_year_or_a_month():
    assert Period.parse("2025") == Period("2025", date(2025, 1, 1), date(2025, 12, 31))
    assert Period.parse("2024-02") == Period("2024-02", date(2024, 2, 1), date(2024, 2, 29))
    assert Period.parse("2024-12").end == date(2024, 12, 31)
    for bad in ("25", "2025-13", "2025/01", "last year"):
        with pytest.raises(BadPeriod):
            Period.parse(bad)


def ledger_credits(database: Engine, account: str, period: Period) -> int:
    joined = journal_lines_table.join(
        postings_table, journal_lines_table.c.posting_id == postings_table.c.posting_id
    )
    query = (
        select(func.coalesce(func.sum(journal_lines_table.c.amount_fen), 0))
        .select_from(joined)
        .where(journal_lines_table.c.account == account, journal_lines_table.c.side == "credit")
        .where(postings_table.c.business_date.between(period.start, period.end))
    )
    with database.connect() as connection:
        return int(connection.scalar(query) or 0)


STATEMENTS = [
    ("street:鸳鸯", "2024"),
    ("street:鸳鸯", "2024-10"),
    ("street:鸳鸯", "2024-11"),
    (f"assessment_institution:{DISTRICT_ASSESSOR}", "2024"),
    (f"service_institution:{REHAB_CENTRE}", "2024-12"),
]
"""Payees and periods whose statements are read from one ledger (a year, months, each kind of payee)."""


def test_a_csv_statement_has_one_line_per_posting_and_totals_equal_to_the_ledger_credits(client):
    for journey in (Journey(), Journey(), Journey(street="人和")):
        consume_all(client, journey)
    for account, period in STATEMENTS:  # statements only read: one ledger serves every case
        response = client.get(f"/statements/{account}", params={"period": period, "format": "csv"})
        assert response.status_code == 200, (account, period)
        assert response.headers["content-type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
        assert rows[1] == ["日期", "规则", "人员编号", "服务项目", "金额（元）", "借/贷", "记账编号"]
        lines = [row for row in rows[2:] if len(row) == 7]
        total_row = next(row for row in rows if row[0] == "贷方合计（收款）")
        expected = ledger_credits(engine(client), account, Period.parse(period))
        assert sum(int(row[4].replace(".", "")) for row in lines) == expected, (account, period)
        assert int(total_row[4].replace(".", "")) == expected, (account, period)
        total, _postings = find_postings(engine(client), account=account)
        assert len(lines) <= total
        assert all(row[4].count(".") == 1 and len(row[4].split(".")[1]) == 2 for row in lines)


def test_a_street_statement_names_the_rules_in_chinese_and_the_person(client):
    journey = Journey()
    consume_all(client, journey)
    response = client.get("/statements/street:鸳鸯", params={"period": "2024"})
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [row[1] for row in rows[2:4]] == ["需求调查工作经费", "康复管理经费"]
    assert {row[2] for row in rows[2:4]} == {str(journey.person)}
    assert [row[4] for row in rows[2:4]] == ["30.00", "30.00"]


def test_an_xlsx_statement_written_by_the_cli_holds_the_same_lines_and_total(client, tmp_path):
    consume_all(
        client,
        Journey(
            item_code="low_vision_training",
            institution=EYE_HOSPITAL,
            mode="fixed_amount",
            amount_fen=100000,
            charge_fen=150000,
            insurance_paid_fen=30000,
        ),
    )
    out = tmp_path / "statement.xlsx"
    account = f"service_institution:{EYE_HOSPITAL}"
    arguments = ["statement", "--payee", account, "--period", "2024", "--format", "xlsx", "--out", str(out)]
    assert main([*arguments, "--database-url", str(engine(client).url)]) == 0
    sheet = load_workbook(out).active
    rows = [row for row in sheet.iter_rows(values_only=True)]
    assert rows[1][:5] == ("日期", "规则", "人员编号", "服务项目", "金额（元）")
    assert rows[2][1] == "康复服务项目补助" and rows[2][3] == "低视力视功能训练"
    assert rows[2][4] == 1000
    assert sheet.cell(row=3, column=5).number_format == "0.00"
    assert rows[3][0] == "贷方合计（收款）" and rows[3][4] == 1000
    response = client.get(f"/statements/{account}", params={"period": "2024", "format": "xlsx"})
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")


def test_a_statement_with_a_bad_period_or_account_is_a_422_naming_the_field(client):
    period = field_error_of(client.get("/statements/street:鸳鸯", params={"period": "2024-13"}), 422)
    assert (period["field"], period["code"]) == ("period", "settlement.period.malformed")
    account = field_error_of(client.get("/statements/鸳鸯", params={"period": "2024"}), 422)
    assert (account["field"], account["code"]) == ("account", "settlement.account.malformed")


# -- 附件3 annual summary ------------------------------------------------------------------------
def register(
    client: TestClient,
    *,
    name: str,
    community: str,
    id_number: str,
    has_needs: bool,
    street: str = "鸳鸯",
    year: int = 2024,
) -> str:
    person = uuid4()
    stream = f"person-{person}"
    registered = payload_of(
        PersonRegistered,
        person_id=person,
        street=street,
        community=community,
        name=name,
        id_number=id_number,
        certificate_number=f"{id_number}11",
        sex="female",
    )
    consume(client, envelope_of(registered, date(year, 10, 1), stream), SURVEY_STREAM)
    surveyed = payload_of(
        NeedSurveyed,
        person_id=person,
        street=street,
        community=community,
        has_needs=has_needs,
        needed_items=["low_vision_training"] if has_needs else [],
        survey_year=year,
        supersedes_event_id=None,
    )
    consume(client, envelope_of(surveyed, date(year, 10, 15), stream, version=2), SURVEY_STREAM)
    return str(person)


def deliver(client: TestClient, person: str, item: str, institution: str, year: int = 2024) -> None:
    delivered = payload_of(
        ServiceDelivered,
        delivery_id=uuid4(),
        application_id=uuid4(),
        person_id=person,
        item=item,
        institution_id=institution,
        service_year=year,
    )
    consume(client, envelope_of(delivered, date(year, 12, 20), f"delivery-{uuid4()}"), DELIVERY_STREAM)


def rows_of(sheet) -> list[tuple]:
    rows = []
    for row in sheet.iter_rows(min_row=6, values_only=True):
        if not isinstance(row[0], int):
            break
        rows.append(row)
    return rows


def test_the_annual_summary_has_the_seed_columns_one_row_per_person_and_the_services_received(client):
    zhang = register(
        client, name="张华", community="金渝社区", id_number="500112198001011234", has_needs=True
    )
    register(client, name="李四", community="金渝社区", id_number="500112198001021235", has_needs=False)
    register(client, name="王五", community="星光社区", id_number="500112198001031236", has_needs=True)
    register(
        client,
        name="赵六",
        community="人和社区",
        id_number="500112198001041237",
        has_needs=True,
        street="人和",
    )
    deliver(client, zhang, "low_vision_training", EYE_HOSPITAL)
    deliver(client, zhang, "support_service_mental", REHAB_CENTRE)
    correction = payload_of(
        PersonDetailsCorrected,
        person_id=zhang,
        phone="13800138009",
        reason="电话变更",
        street=None,
        community=None,
        name=None,
        sex=None,
        ethnicity=None,
        birth_date=None,
        address=None,
        household_registration=None,
        residence=None,
        id_number=None,
        certificate_number=None,
        veteran_certificate_number=None,
        disability_categories=None,
        disability_grade=None,
        economic_status=None,
        medical_insurance=None,
        guardian=None,
    )
    consume(client, envelope_of(correction, date(2024, 11, 1), f"person-{zhang}", version=3), SURVEY_STREAM)

    response = client.get("/reports/annual-summary", params={"year": 2024, "street": "鸳鸯"})
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["星光社区", "金渝社区"]
    sheet = workbook["金渝社区"]
    assert sheet["A1"].value == "两江新区残疾人康复需求和康复服务情况汇总表"
    assert sheet["A2"].value == "（2024）年度"
    assert (sheet["A3"].value, sheet["F3"].value) == ("街道：鸳鸯", "社区：金渝社区")
    headers = [sheet.cell(row=4, column=column).value for column in range(1, 10)]
    assert headers == [
        "序号",
        "姓名",
        "性别",
        "家庭住址",
        "身份证号（必填）",
        "残疾人证号（持证残疾人必填）",
        "联系电话",
        "康复需求情况",
        "康复服务情况",
    ]
    assert (sheet["I5"].value, sheet["J5"].value) == ("得到康复服务项目", "康复服务机构名称")

    rows = rows_of(sheet)
    assert [row[:3] for row in rows] == [(1, "张华", "女"), (2, "李四", "女")]
    zhang_row, li_row = rows
    assert zhang_row[4] == "500112198001011234" and zhang_row[5] == "50011219800101123411"
    assert zhang_row[6] == "13800138009"  # the correction wins
    assert (zhang_row[7], li_row[7]) == ("有", "无")
    assert zhang_row[8] == "低视力视功能训练、支持性服务（精神残疾人生活自理、心理疏导）"
    assert zhang_row[9] == "重医附二院、两江新区残疾人康复服务中心"
    assert (li_row[8], li_row[9]) in {("", ""), (None, None)}
    footer = [cell.value for cell in sheet[6 + len(rows) + 1]]
    assert (
        footer[0].startswith("填表人：")
        and footer[4].startswith("审核人：")
        and footer[7].startswith("填表日期：")
    )
    assert [row[1] for row in rows_of(workbook["星光社区"])] == ["王五"]


def test_the_annual_summary_of_one_community_by_the_cli_has_one_sheet_and_a_signed_footer(client, tmp_path):
    register(client, name="张华", community="金渝社区", id_number="500112198001011234", has_needs=True)
    register(client, name="王五", community="星光社区", id_number="500112198001031236", has_needs=True)
    register(
        client, name="往年", community="金渝社区", id_number="500112198001051238", has_needs=True, year=2023
    )
    out = tmp_path / "附件3.xlsx"
    arguments = [
        "annual-summary",
        "--year",
        "2024",
        "--street",
        "鸳鸯",
        "--community",
        "金渝社区",
        "--out",
        str(out),
        "--preparer",
        "张丽",
        "--reviewer",
        "王主任",
        "--filled-on",
        "2024-12-18",
    ]
    assert main([*arguments, "--database-url", str(engine(client).url)]) == 0
    workbook = load_workbook(out)
    assert workbook.sheetnames == ["金渝社区"]
    sheet = workbook.active
    rows = rows_of(sheet)
    assert [row[1] for row in rows] == ["张华"]
    assert rows[0][8] in ("", None)
    assert sheet["A8"].value == "填表人：张丽"
    assert sheet["E8"].value == "审核人：王主任"
    assert sheet["H8"].value == "填表日期：2024年12月18日"


def test_the_annual_summary_of_an_unknown_street_is_a_422(client):
    response = client.get("/reports/annual-summary", params={"year": 2024, "street": "解放碑"})
    error = field_error_of(response, 422)
    assert (error["field"], error["code"]) == ("street", "settlement.street.unknown")
    assert "解放碑" in error["message"] and "鸳鸯" in error["message"]
