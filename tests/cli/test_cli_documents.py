"""`rehab annual-summary` and `rehab statement` as an operator runs them (issue 15): persons' details
come with keys released to the operator's own token and audited by the registry, or nothing is written."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import redis
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from rehab_contracts.events import ApplicationApproved
from sqlalchemy import Engine

from kernel.access.audit import AuditTrail
from kernel.access.auth import Agency, Role, Scope, TokenVerifier, load_public_keys
from kernel.runtime import ServiceSettings
from rehab.cli_failures import ExitCode
from rehab.documents import KeyHolder
from rehab.users import User, UserDirectory
from services.settlement.app import create_app as create_settlement
from services.settlement.documents.person_keys import PersonKeys
from services.settlement.documents.statements import person_name
from services.survey.app import create_app as create_survey
from services.survey.privacy import KeyRelease
from tests.cli.runner import rehab
from tests.settlement.settlement_builders import EYE_HOSPITAL, Journey, envelope_of, payload_of
from tests.settlement.test_settlement_personal_data import forward, register_and_survey
from tests.survey.people import make_id, person_body

ZHANG_ID, WANG_ID = make_id(date(1958, 4, 12), "231"), make_id(date(1960, 6, 1), "233")


@pytest.fixture
def access_dir(tmp_path: Path) -> Path:
    """The deployment's users: an operator of settlement's finance office and a street clerk."""
    directory = UserDirectory(tmp_path / "access")
    directory.add(User("孙会计", Agency("settlement"), frozenset({Role.STAFF}), Scope("district")))
    directory.add(User("周干事", Agency("survey"), frozenset({Role.STAFF}), Scope("street", "鸳鸯")))
    directory.private_key()
    return directory.folder


@pytest.fixture
def survey(
    tmp_path: Path, access_dir: Path, redis_url: str, redis_client: redis.Redis
) -> Iterator[TestClient]:
    settings = ServiceSettings(
        service="survey", database_url=f"sqlite:///{tmp_path}/survey.db", redis_url=redis_url
    )
    release = KeyRelease(TokenVerifier(load_public_keys(access_dir)))
    with TestClient(create_survey(settings, key_release=release)) as client:
        yield client


@pytest.fixture
def settlement(tmp_path: Path, redis_url: str) -> Iterator[TestClient]:
    url = f"sqlite:///{tmp_path}/settlement.db"
    with TestClient(
        create_settlement(ServiceSettings(service="settlement", database_url=url, redis_url=redis_url))
    ) as client:
        yield client


@pytest.fixture
def registry_is(survey: TestClient, monkeypatch: pytest.MonkeyPatch) -> TestClient:
    """The command asks the survey app under test for keys, as it would ask http://…:8101."""

    def http_to(_holder: KeyHolder, _base_url: str) -> httpx.Client:
        return survey

    monkeypatch.setattr(KeyHolder, "http_to", http_to)
    return survey


def register_and_survey_in_lijia(survey: TestClient, name: str, id_number: str) -> None:
    born = date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    place = {"street": "礼嘉", "community": "白林社区", "birth_date": born.isoformat()}
    body = person_body(name=name, id_number=id_number, certificate_number=f"{id_number}12", **place)
    answer = survey.post("/persons", json=body)
    assert answer.status_code == 201, answer.text
    person_id = answer.json()["person_id"]
    needs = {"survey_year": 2024, "surveyed_on": "2024-10-15", "has_needs": False, "surveyor": "张丽"}
    assert survey.post(f"/persons/{person_id}/surveys", json=needs).status_code == 201


def engine_of(client: TestClient) -> Engine:
    return client.app.state.runtime.store.engine  # type: ignore[attr-defined]


def summary(tmp_path: Path, access_dir: Path, *who: str) -> tuple[int, str, Path]:
    out = tmp_path / "附件3.xlsx"
    ran = rehab("annual-summary", "--year", "2024", "--street", "鸳鸯", "--out", str(out),
                "--var-dir", str(tmp_path), "--access-dir", str(access_dir), *who)  # fmt: skip
    return ran.code, ran.err, out


def test_the_annual_summary_of_sealed_persons_without_a_token_is_refused_and_not_written(
    tmp_path: Path, access_dir: Path, registry_is: TestClient, settlement: TestClient
) -> None:
    register_and_survey(registry_is, "张华", ZHANG_ID)
    forward(registry_is, settlement)
    code, err, out = summary(tmp_path, access_dir)
    assert code == ExitCode.ACCESS
    assert "--user" in err and not out.exists()


def test_the_annual_summary_names_persons_with_keys_released_to_the_operator_and_audited(
    tmp_path: Path, access_dir: Path, registry_is: TestClient, settlement: TestClient
) -> None:
    zhang = register_and_survey(registry_is, "张华", ZHANG_ID)
    register_and_survey_in_lijia(registry_is, "王五", WANG_ID)
    forward(registry_is, settlement)
    code, err, out = summary(tmp_path, access_dir, "--user", "孙会计")
    assert code == ExitCode.OK, err
    sheet = load_workbook(out).active
    assert (sheet["B6"].value, sheet["E6"].value) == ("张华", ZHANG_ID)
    reads = AuditTrail(engine_of(registry_is)).entries(user="孙会计")
    # Only the street's persons' keys leave the registry, each read audited with the operator and why.
    assert [(entry.subject, entry.purpose) for entry in reads] == [(zhang, "打印附件3 2024年 鸳鸯街道")]


def test_the_annual_summary_is_refused_when_the_registry_refuses_the_operator(
    tmp_path: Path, access_dir: Path, registry_is: TestClient, settlement: TestClient
) -> None:
    register_and_survey(registry_is, "张华", ZHANG_ID)
    forward(registry_is, settlement)
    code, err, out = summary(tmp_path, access_dir, "--user", "周干事")
    assert code == ExitCode.ACCESS
    assert "HTTP 403" in err and not out.exists()


def test_a_person_payee_is_named_from_their_sealed_registration(
    access_dir: Path, registry_is: TestClient, settlement: TestClient
) -> None:
    person = register_and_survey(registry_is, "张华", ZHANG_ID)
    forward(registry_is, settlement)
    keys = PersonKeys(KeyHolder(access_dir, user="孙会计"))
    assert person_name(engine_of(settlement), person, keys) == "张华"
    assert person_name(engine_of(settlement), "no-such-person", PersonKeys()) is None


def test_a_statement_to_an_xlsx_file_is_xlsx_with_dates_and_numbers(
    tmp_path: Path, settlement: TestClient
) -> None:
    journey = Journey(item_code="low_vision_training", institution=EYE_HOSPITAL, mode="fixed_amount",
                      amount_fen=100000, charge_fen=150000, insurance_paid_fen=30000)  # fmt: skip
    for envelope, stream in journey.events():
        settlement.app.state.runtime.consumer.apply(envelope, stream)  # type: ignore[attr-defined]
    out = tmp_path / "对账单.xlsx"
    ran = rehab("statement", "--payee", f"service_institution:{EYE_HOSPITAL}", "--period", "2024",
                "--out", str(out), "--var-dir", str(tmp_path))  # fmt: skip
    assert ran.code == ExitCode.OK, ran.err
    first = [cell.value for cell in load_workbook(out).active[3]]
    assert isinstance(first[0], dt.datetime) and isinstance(first[4], int | float | Decimal)


def test_a_person_payee_s_statement_is_titled_with_their_registered_name(
    tmp_path: Path, settlement: TestClient
) -> None:
    journey = Journey(item_code="self_purchased_device_subsidy", mode="fixed_amount", amount_fen=80000)
    reimbursed = {"item": "self_purchased_device_subsidy", "institution_id": None}  # bought by the person
    items = [reimbursed | {"subsidy_mode": "fixed_amount", "amount_fen": 80000}]
    approved = payload_of(ApplicationApproved, application_id=journey.application, person_id=journey.person,
                          street="鸳鸯", approved_items=items, rejected_items=[])  # fmt: skip
    journey.approved = envelope_of(approved, date(2024, 11, 1), f"application-{journey.application}")
    for envelope, stream in journey.events():
        settlement.app.state.runtime.consumer.apply(envelope, stream)  # type: ignore[attr-defined]
    ran = rehab(
        "statement", "--payee", f"person:{journey.person}", "--period", "2024", "--var-dir", str(tmp_path)
    )
    assert ran.code == ExitCode.OK, ran.err
    name = journey.registered.payload["name"]
    assert ran.out.splitlines()[0].startswith(f"对账单 {name}（残疾人）（person:{journey.person}）")


def test_a_statement_of_an_unknown_payee_is_refused(tmp_path: Path, settlement: TestClient) -> None:
    for payee in ("street:鸳阳", "person:no-such-person"):
        ran = rehab("statement", "--payee", payee, "--period", "2024", "--var-dir", str(tmp_path))
        assert ran.code == ExitCode.USAGE
        assert "没有这个收款方" in ran.err


def test_a_statement_into_a_file_of_another_kind_is_refused_and_nothing_written(
    tmp_path: Path, settlement: TestClient
) -> None:
    out = tmp_path / "对账单.pdf"
    ran = rehab("statement", "--payee", "street:鸳鸯", "--period", "2024", "--out", str(out),
                "--var-dir", str(tmp_path))  # fmt: skip
    assert ran.code == ExitCode.USAGE and "--out 应以 .csv 结尾（这里是 对账单.pdf）" in ran.err
    assert not out.exists()
