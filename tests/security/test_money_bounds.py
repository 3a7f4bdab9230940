"""Money amounts are bounded and their sums cannot overflow (issue 14, defect 3).

Every amount in a command and in a contract has an upper bound (``rehab_contracts.MAX_AMOUNT_FEN``),
refused 422 naming the field; the ledger's totals are exact whatever the stored amounts; and
`rehab verify` and `rehab replay` report a stored amount out of range instead of crashing.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
import redis
from fastapi.testclient import TestClient
from pydantic import ValidationError
from rehab_contracts import APPROVAL_STREAM, DELIVERY_STREAM
from rehab_contracts.registry import PAYLOAD_CLASSES, parse_payload
from sqlalchemy import Engine, select, update

from kernel.messaging.dead_letters import dead_letter_stream
from kernel.runtime import ServiceSettings
from kernel.store.tables import inbox_table
from rehab.cli import main
from rehab.verify import load_store, run_checks
from rehab.verify_snapshot import Snapshot
from services.settlement.ledger.tables import facts_table, postings_table
from tests.apps import state_of
from tests.problem_json import problem_of
from tests.settlement.settlement_builders import EYE_HOSPITAL, Journey
from tests.streams import add, entries

HUGE = 5_000_000_000_000_000_000
"""What the red team recorded as a charge: 5 x 10^18 fen. Two of them overflow a 64-bit sum."""


def bound() -> int:
    from rehab_contracts import MAX_AMOUNT_FEN

    return int(MAX_AMOUNT_FEN)


def field_errors(response: Any) -> dict[str, str]:
    body = problem_of(response, 422)
    return {error["field"]: error["code"] for error in body["errors"]}


# -- commands -------------------------------------------------------------------------------------------
def app_client(service: str, tmp_path: Path, redis_url: str) -> TestClient:
    import importlib

    create_app = importlib.import_module(f"services.{service}.app").create_app
    settings = ServiceSettings(
        service=service, database_url=f"sqlite:///{tmp_path}/{service}.db", redis_url=redis_url
    )
    return TestClient(create_app(settings))


def service_record(**changes: Any) -> dict[str, Any]:
    body = {
        "application_id": str(uuid4()),
        "person_id": str(uuid4()),
        "institution_id": "cqmu-second",
        "item": "low_vision_training",
        "frequency": "每周2次，每次45分钟",
        "period_start": "2024-11-04",
        "period_end": "2024-12-20",
        "staff": "刘康复师",
        "signed_by": "person",
        "signed_on": "2024-12-20",
        "charge_fen": 150000,
        "insurance_paid_fen": 30000,
    }
    return {**body, **changes}


@pytest.mark.parametrize("field", ["charge_fen", "insurance_paid_fen"])
def test_delivery_refuses_an_amount_above_the_bound_naming_the_field(
    field: str, tmp_path: Path, redis_url: str, redis_client: redis.Redis
) -> None:
    with app_client("delivery", tmp_path, redis_url) as client:
        response = client.post("/deliveries", json=service_record(**{field: HUGE}))
    assert field_errors(response) == {field: "request.less_than_equal"}


def test_approval_refuses_an_approved_amount_of_two_to_the_63_naming_the_field(
    tmp_path: Path, redis_url: str, redis_client: redis.Redis
) -> None:
    decision = {
        "outcome": "approved",
        "approved_items": [
            {"item": "low_vision_training", "subsidy_mode": "fixed_amount", "amount_fen": 2**63}
        ],
        "signatories": {"responsible": "赵主任", "reviewer": "钱科长", "handler": "孙干事"},
        "decided_on": "2024-11-01",
    }
    with app_client("approval", tmp_path, redis_url) as client:
        response = client.post(f"/applications/{uuid4()}/decision", json=decision)
    assert field_errors(response) == {"approved_items.0.amount_fen": "request.less_than_equal"}


def test_the_bound_is_far_above_every_standard_of_the_policies() -> None:
    largest = 2_000_000  # 2万元/人/年, children's training (shapingba-2023, the largest figure of the seeds)
    assert 10 * largest <= bound() <= 10**9
    assert bound() * 10**9 < 2**63, "a billion amounts at the bound still fit a 64-bit sum"


# -- commands of every service, and the contracts ---------------------------------------------------------
def amount_fields(schema: dict[str, Any], definitions: dict[str, Any]) -> list[tuple[str, Any]]:
    """(path, schema) of every ``*_fen`` property reachable from ``schema``, nested models included."""
    found: list[tuple[str, Any]] = []

    def walk(node: dict[str, Any], path: str, seen: frozenset[str]) -> None:
        if "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[-1]
            if name not in seen:
                walk(definitions[name], path, seen | {name})
            return
        for key in ("anyOf", "oneOf", "allOf"):
            for choice in node.get(key, []):
                walk(choice, path, seen)
        if node.get("type") == "array":
            walk(node.get("items", {}), f"{path}.<n>", seen)
        for name, child in node.get("properties", {}).items():
            if name.endswith("_fen"):
                found.append((f"{path}.{name}".lstrip("."), child))
            walk(child, f"{path}.{name}", seen)

    walk(schema, "", frozenset())
    return found


def maximum_of(schema: dict[str, Any]) -> int | None:
    if "maximum" in schema:
        return int(schema["maximum"])
    arms = [maximum_of(arm) for arm in schema.get("anyOf", []) if arm.get("type") != "null"]
    return arms[0] if len(arms) == 1 else None


def test_every_amount_of_every_command_of_the_five_services_has_the_bound() -> None:
    import importlib

    amounts = {}
    for service in ("survey", "assessment", "approval", "delivery", "settlement"):
        spec = (
            importlib.import_module(f"services.{service}.app")
            .create_app(ServiceSettings(service=service))
            .openapi()
        )
        definitions = spec.get("components", {}).get("schemas", {})
        for path, operations in spec["paths"].items():
            for method, operation in operations.items():
                for content in operation.get("requestBody", {}).get("content", {}).values():
                    for field, schema in amount_fields(content.get("schema", {}), definitions):
                        amounts[f"{method.upper()} {path} {field}"] = maximum_of(schema)
    assert len(amounts) >= 3, amounts  # approval's amount, delivery's charge and insurance share
    assert {where: maximum for where, maximum in amounts.items() if maximum != bound()} == {}


def test_every_amount_of_every_contract_states_the_bound_its_producers_keep() -> None:
    stated = {}
    for model in PAYLOAD_CLASSES:
        schema = model.model_json_schema()
        for path, field in amount_fields(schema, schema.get("$defs", {})):
            stated[f"{model.__name__}.{path}"] = f"{bound():,}" in field.get("description", "")
    assert stated and all(stated.values()), stated


def test_every_amount_of_every_contract_has_the_bound_as_its_maximum() -> None:
    maxima = {}
    for model in PAYLOAD_CLASSES:
        schema = model.model_json_schema()
        for path, field in amount_fields(schema, schema.get("$defs", {})):
            maxima[f"{model.__name__}.{path}"] = maximum_of(field)
    assert len(maxima) >= 3, maxima  # approval's amount, delivery's charge and insurance share
    assert {where: maximum for where, maximum in maxima.items() if maximum != bound()} == {}


def test_a_payload_one_fen_above_the_bound_is_refused_and_one_at_it_is_read() -> None:
    journey = Journey(charge_fen=bound())
    assert parse_payload(journey.delivered).charge_fen == bound()  # type: ignore[attr-defined]
    above = journey.delivered.model_copy(
        update={"payload": {**journey.delivered.payload, "charge_fen": bound() + 1}}
    )
    with pytest.raises(ValidationError, match="charge_fen"):
        parse_payload(above)


# -- settlement: stored amounts from before the bound ------------------------------------------------------
@pytest.fixture
def settlement(tmp_path: Path, redis_url: str, redis_client: redis.Redis) -> Iterator[TestClient]:
    from services.settlement.app import create_app

    settings = ServiceSettings(
        service="settlement", database_url=f"sqlite:///{tmp_path}/settlement.db", redis_url=redis_url
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


def engine_of(client: TestClient) -> Engine:
    engine: Engine = state_of(client).runtime.store.engine
    return engine


def store_huge_amounts_as_before_the_bound(client: TestClient) -> list[str]:
    """Two fixed-amount journeys consumed, then their stored amounts raised to what the red team recorded
    (the consumer of today refuses such events, so the store is changed as an old one would hold them).
    Returns the event ids of the changed deliveries."""
    consumer = state_of(client).runtime.consumer
    journeys = [
        Journey(
            item_code="low_vision_training",
            institution=EYE_HOSPITAL,
            mode="fixed_amount",
            amount_fen=60000,
            charge_fen=40000,
        )
        for _ in range(2)
    ]
    for journey in journeys:
        for envelope, stream in journey.events():
            consumer.apply(envelope, stream)
    engine = engine_of(client)
    changed = []
    with engine.begin() as connection:
        for journey in journeys:
            for envelope, key, value in (
                (journey.delivered, "charge_fen", HUGE),
                (journey.approved, "amount_fen", 2**63 - 1),
            ):
                stored = json.loads(
                    connection.scalar(  # type: ignore[arg-type]
                        select(inbox_table.c.envelope).where(inbox_table.c.event_id == str(envelope.event_id))
                    )
                )
                if key == "charge_fen":
                    stored["payload"][key] = value
                    changed.append(str(envelope.event_id))
                else:
                    stored["payload"]["approved_items"][0][key] = value
                connection.execute(
                    update(inbox_table)
                    .where(inbox_table.c.event_id == str(envelope.event_id))
                    .values(envelope=json.dumps(stored, ensure_ascii=False))
                )
        for position, text in connection.execute(select(facts_table.c.position, facts_table.c.fact)).all():
            fact = json.loads(text)
            if fact[0] == "recorded" and fact[1] in changed:
                fact[fact.index(40000)] = HUGE  # the charge
            elif fact[0] == "approved":
                fact[5][0][3] = 2**63 - 1  # the approved amount of the one item
            else:
                continue
            connection.execute(
                update(facts_table).where(facts_table.c.position == position).values(fact=json.dumps(fact))
            )
        connection.execute(
            update(postings_table).where(postings_table.c.rule == "service_subsidy").values(amount_fen=HUGE)
        )
    return changed


def test_the_ledger_totals_of_huge_stored_postings_are_exact_not_a_500(settlement: TestClient) -> None:
    store_huge_amounts_as_before_the_bound(settlement)

    response = settlement.get("/ledger")

    assert response.status_code == 200, response.text
    totals = response.json()
    fees = 2 * 3 * 3000  # survey, management and assessment fee of two persons
    assert totals["total_debit_fen"] == totals["total_credit_fen"] == 2 * HUGE + fees


def test_rehab_verify_reports_a_stored_amount_out_of_range_without_a_traceback(
    settlement: TestClient,
) -> None:
    changed = store_huge_amounts_as_before_the_bound(settlement)

    data = load_store("settlement", str(engine_of(settlement).url))
    results = {result.code: result for result in run_checks(Snapshot({"settlement": data}))}

    violations = " ".join(results["I5"].violations)
    assert "charge_fen" in violations and str(HUGE) in violations
    assert all(event_id in violations for event_id in changed)


@pytest.mark.parametrize("source", [[], ["--from-archive"]], ids=["log", "archive"])
def test_rehab_replay_reports_a_stored_amount_out_of_range_without_a_traceback(
    settlement: TestClient, source: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    store_huge_amounts_as_before_the_bound(settlement)

    code = main(["replay", *source, "--database-url", str(engine_of(settlement).url)])

    out, err = capsys.readouterr()
    assert code == 1
    assert "Traceback" not in out + err
    assert "charge_fen" in err and str(HUGE) in err


def test_settlement_dead_letters_forged_events_beyond_the_bound_with_the_reason_and_posts_nothing(
    settlement: TestClient, redis_client: redis.Redis
) -> None:
    """What the red team did, as events: a charge of 5 x 10^18 fen and an approved amount of 2^63 - 1
    reach settlement's streams (a producer's leaked key, or a stream read from before the bound)."""
    consumer = state_of(settlement).runtime.consumer
    honest, forged = (
        Journey(
            mode="fixed_amount",
            amount_fen=60000,
            item_code="low_vision_training",
            institution=EYE_HOSPITAL,
            charge_fen=40000,
        )
        for _ in range(2)
    )
    for envelope, stream in honest.events() + forged.events()[:3]:
        consumer.apply(envelope, stream)
    before = settlement.get("/ledger").json()
    items = [{**forged.approved.payload["approved_items"][0], "amount_fen": 2**63 - 1}]
    approval = forged.approved.model_copy(
        update={"payload": {**forged.approved.payload, "approved_items": items}}
    )
    delivery = honest.delivered.model_copy(
        update={
            "event_id": uuid4(),
            "payload": {**honest.delivered.payload, "delivery_id": str(uuid4()), "charge_fen": HUGE},
        }
    )
    add(redis_client, APPROVAL_STREAM, approval.to_wire())
    add(redis_client, DELIVERY_STREAM, delivery.to_wire())

    reasons = wait_for_dead_letters(redis_client, "settlement", 2)

    assert all(reason.startswith("ValidationError") for reason in reasons), reasons
    assert any("approved_items.0.amount_fen" in reason for reason in reasons), reasons
    assert any("charge_fen" in reason for reason in reasons), reasons
    assert settlement.get("/ledger").json() == before


def wait_for_dead_letters(redis_client: redis.Redis, service: str, count: int) -> list[str]:
    stream = dead_letter_stream(service)
    deadline = time.monotonic() + 20
    while redis_client.xlen(stream) < count:
        assert time.monotonic() < deadline, f"{service} dead-lettered {redis_client.xlen(stream)} of {count}"
        time.sleep(0.05)
    return [fields["detail"] for _id, fields in entries(redis_client, stream)]
