"""Settlement shows names only with a key the registry released, reads （已删除） once a person is forgotten,
and pays exactly the same before and after (the real survey app releases the keys; real Redis)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from uuid import UUID, uuid4

import pytest
import redis
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from rehab_contracts import SURVEY_STREAM, EventEnvelope, PersonDetailsCorrectedV2, PersonForgotten
from rehab_contracts.sealed import REDACTED, UNAVAILABLE
from sqlalchemy import Engine

from kernel.access.auth import Agency, Principal, Role, Scope, TokenIssuer, TokenVerifier
from kernel.reference import deployment_reference, load_jurisdiction
from kernel.runtime import ServiceSettings
from rehab.cli import main
from services.settlement.app import create_app as create_settlement
from services.settlement.documents.annual_summary import SummaryRow, community_forms
from services.settlement.documents.person_keys import PersonKeys, SurveyKeyClient
from services.settlement.documents.register import REGISTER_EVENT_TYPES, year_register
from services.settlement.ledger.archive import archive
from services.survey.app import create_app as create_survey
from services.survey.privacy import KeyRelease
from tests.settlement.settlement_builders import Journey, envelope_of, payload_of
from tests.survey.people import make_id, person_body

TOKEN_KEY = Ed25519PrivateKey.generate()
ZHANG_ID, WANG_ID = make_id(date(1958, 4, 12), "231"), make_id(date(1960, 6, 1), "233")


def token(agency: Agency) -> str:
    principal = Principal(f"{agency}-app", agency, frozenset({Role.STAFF}), Scope("district"))
    return TokenIssuer(TOKEN_KEY).issue(principal, now=datetime.now(UTC), token_id=str(uuid4()))


@pytest.fixture
def survey(tmp_path: Path, redis_url: str, redis_client: redis.Redis) -> Iterator[TestClient]:
    settings = ServiceSettings(
        service="survey", database_url=f"sqlite:///{tmp_path}/survey.db", redis_url=redis_url
    )
    release = KeyRelease(TokenVerifier((TOKEN_KEY.public_key(),)))
    with TestClient(create_survey(settings, key_release=release)) as client:
        yield client


@pytest.fixture
def settlement(tmp_path: Path, redis_url: str) -> Iterator[TestClient]:
    url = f"sqlite:///{tmp_path}/settlement.db"
    with TestClient(
        create_settlement(ServiceSettings(service="settlement", database_url=url, redis_url=redis_url))
    ) as client:
        yield client


def engine_of(settlement: TestClient) -> Engine:
    return settlement.app.state.runtime.store.engine  # type: ignore[attr-defined]


def register_and_survey(survey: TestClient, name: str, id_number: str) -> str:
    born = date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    body = person_body(
        name=name, id_number=id_number, certificate_number=f"{id_number}12", birth_date=born.isoformat()
    )
    person_id = survey.post("/persons", json=body).json()["person_id"]
    answer = survey.post(
        f"/persons/{person_id}/surveys",
        json={
            "survey_year": 2024,
            "surveyed_on": "2024-10-15",
            "has_needs": True,
            "needed_items": ["low_vision_training"],
            "surveyor": "张丽",
        },
    )
    assert answer.status_code == 201, answer.text
    return str(person_id)


def forward(survey: TestClient, settlement: TestClient) -> None:
    """Everything survey stored that settlement has not applied yet, as its consumer would get it."""
    with survey.app.state.runtime.store.reading() as unit:  # type: ignore[attr-defined]
        envelopes = unit.events_of_type(
            "survey.person_registered",
            "survey.person_details_corrected",
            "survey.need_surveyed",
            "survey.person_forgotten",
        )
    consumer = settlement.app.state.runtime.consumer  # type: ignore[attr-defined]
    for envelope in sorted(envelopes, key=lambda e: (e.stream_id, e.version)):
        consumer.apply(envelope, SURVEY_STREAM)


def apply(settlement: TestClient, envelope: EventEnvelope, stream: str = SURVEY_STREAM) -> None:
    settlement.app.state.runtime.consumer.apply(envelope, stream)  # type: ignore[attr-defined]


def rows(settlement: TestClient, keys: PersonKeys) -> list[SummaryRow]:
    register = year_register(archive(engine_of(settlement), REGISTER_EVENT_TYPES), 2024, keys)
    forms = community_forms(register, "鸳鸯", None, load_jurisdiction(deployment_reference()))
    return [row for form in forms for row in form.rows]


def names(settlement: TestClient, keys: PersonKeys) -> list[tuple[str, str, str]]:
    return sorted((row.name, row.id_number, row.phone) for row in rows(settlement, keys))


def money(settlement: TestClient, capsys: pytest.CaptureFixture[str], *extra: str) -> str:
    capsys.readouterr()
    assert main(["replay", *extra, "--database-url", str(engine_of(settlement).url)]) == 0
    return capsys.readouterr().out


def forgotten_envelope(journey: Journey) -> EventEnvelope:
    payload = payload_of(PersonForgotten, person_id=journey.person, key_id=None)
    return envelope_of(payload, date(2025, 3, 1), f"person-{journey.person}", version=3)


def test_settlement_names_persons_with_released_keys_and_redacts_them_once_forgotten_paying_the_same(
    survey: TestClient, settlement: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    zhang = register_and_survey(survey, "张华", ZHANG_ID)
    register_and_survey(survey, "王五", WANG_ID)
    forward(survey, settlement)
    legacy = Journey()  # registered as schema v1 (details in clear), with a paid service
    for envelope, stream in legacy.events():
        apply(settlement, envelope, stream)
    keys = PersonKeys(SurveyKeyClient(survey, token("settlement")))
    before = names(settlement, keys)
    money_before = money(settlement, capsys), money(settlement, capsys, "--from-archive")
    assert ("张华", ZHANG_ID, "13800138000") in before and ("王五", WANG_ID, "13800138000") in before
    assert keys.holds(zhang)

    assert survey.post(f"/persons/{zhang}/forget").status_code == 200
    forward(survey, settlement)
    apply(settlement, forgotten_envelope(legacy))

    after = names(settlement, keys)
    assert not keys.holds(zhang)
    assert (REDACTED, REDACTED, REDACTED) in after and ("王五", WANG_ID, "13800138000") in after
    assert len([row for row in after if row[0] == REDACTED]) == 2  # the v1 person too
    assert not any(ZHANG_ID in str(row) or "张华" in str(row) for row in after)
    assert names(settlement, PersonKeys(SurveyKeyClient(survey, token("settlement")))) == after
    assert (money(settlement, capsys), money(settlement, capsys, "--from-archive")) == money_before
    assert "street:鸳鸯" in money_before[0] and "借贷平衡：是" in money_before[0]


def test_without_a_released_key_names_read_unavailable_and_v1_names_still_show(
    survey: TestClient, settlement: TestClient
) -> None:
    register_and_survey(survey, "张华", ZHANG_ID)
    forward(survey, settlement)
    legacy = Journey()
    for envelope, stream in legacy.events():
        apply(settlement, envelope, stream)

    for keys in (PersonKeys(), PersonKeys(SurveyKeyClient(survey, token("assessment")))):
        shown = names(settlement, keys)
        assert (UNAVAILABLE, UNAVAILABLE, UNAVAILABLE) in shown
        assert not any("张华" in str(row) for row in shown)
        assert any(row[0] not in (REDACTED, UNAVAILABLE) for row in shown)  # the v1 person's clear name


def test_a_seal_moved_into_another_event_reads_unavailable_rather_than_failing(
    survey: TestClient, settlement: TestClient
) -> None:
    zhang = register_and_survey(survey, "张华", ZHANG_ID)
    forward(survey, settlement)
    [registered] = [e for e in archive(engine_of(settlement), ("survey.person_registered",))]
    moved = PersonDetailsCorrectedV2(
        person_id=UUID(zhang), reason="篡改", personal_data=registered.payload["personal_data"]
    )
    apply(settlement, envelope_of(moved, date(2024, 11, 1), f"person-{zhang}", version=3))

    shown = names(settlement, PersonKeys(SurveyKeyClient(survey, token("settlement"))))

    assert shown == [(UNAVAILABLE, UNAVAILABLE, UNAVAILABLE)]
