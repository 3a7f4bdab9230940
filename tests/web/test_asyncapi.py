"""Every service serves an AsyncAPI 3.0 document of the streams that validates against the AsyncAPI 3.0.0
JSON Schema, describes every event of the contracts and the real stream entry, and a page that works
offline.

``asyncapi-3.0.0.schema.json.gz`` is ``schemas/3.0.0-without-$id.json`` of the npm package
``@asyncapi/specs`` 6.11.1 (Apache-2.0), the schema AsyncAPI's own parser validates with, kept here so
the test needs no network.
"""

from __future__ import annotations

import gzip
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import jsonschema_rs
import pytest
from fastapi.testclient import TestClient
from rehab_contracts import EventEnvelope
from rehab_contracts.envelope import WIRE_FIELDS
from rehab_contracts.examples import example_payload
from rehab_contracts.registry import PAYLOAD_CLASSES
from rehab_contracts.streams import ALL_STREAMS

from kernel.deployment import load_deployment
from kernel.messaging.dead_letters import dead_letter_stream, new_dead_letter
from kernel.messaging.signing import SCHEME, KeyRing
from kernel.web.asyncapi import StreamTopology, asyncapi_document
from rehab.keys import generate
from tests.web.apps import SERVICES, service_app

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

ASYNCAPI_SCHEMA = Path(__file__).with_name("asyncapi-3.0.0.schema.json.gz")


def asyncapi_validator() -> Any:
    return jsonschema_rs.validator_for(json.loads(gzip.decompress(ASYNCAPI_SCHEMA.read_bytes())))


def served(service: str, directory: Path) -> dict[str, Any]:
    client = TestClient(service_app(service, directory, access=True))  # open like /docs
    answer = client.get("/asyncapi.json")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    document: dict[str, Any] = answer.json()
    return document


def schema_in(document: dict[str, Any], schema: dict[str, Any]) -> Any:
    """A validator of ``schema`` whose references resolve within the AsyncAPI document."""
    return jsonschema_rs.validator_for({**schema, "components": document["components"]})


@pytest.mark.parametrize("service", SERVICES)
def test_each_services_document_validates_against_the_asyncapi_3_schema(service: str, tmp_path: Path) -> None:
    document = served(service, tmp_path)
    errors = [
        f"{'/'.join(map(str, error.instance_path))}: {error.message}"
        for error in asyncapi_validator().iter_errors(document)
    ]
    assert errors == []
    assert document["asyncapi"] == "3.0.0"


def test_the_validator_would_catch_a_broken_document(tmp_path: Path) -> None:
    document = served("approval", tmp_path)
    document["operations"]["publishEvents"]["action"] = "publish"  # AsyncAPI 2's word, not 3's
    assert not asyncapi_validator().is_valid(document)


@pytest.mark.parametrize("service", SERVICES)
def test_the_operations_are_the_services_own_streams_from_the_deployment(
    service: str, tmp_path: Path
) -> None:
    document = served(service, tmp_path)
    spec = load_deployment().spec(service)
    addresses = {channel["address"] for channel in document["channels"].values()}
    assert set(ALL_STREAMS) <= addresses
    received = {
        document["channels"][operation["channel"]["$ref"].rsplit("/", 1)[-1]]["address"]
        for operation in document["operations"].values()
        if operation["action"] == "receive"
    }
    assert received == {f"rehab.{producer}.events" for producer in spec.subscribes_to}
    if spec.subscribes_to:
        assert dead_letter_stream(service) in addresses
    publishes = "publishEvents" in document["operations"]
    assert publishes == (f"rehab.{service}.events" in ALL_STREAMS)


def test_every_event_of_the_contracts_is_a_message_on_its_stream(tmp_path: Path) -> None:
    document = served("settlement", tmp_path)
    for payload_class in PAYLOAD_CLASSES:
        name = payload_class.event_type
        message = document["components"]["messages"][name]
        channel = next(
            channel for channel in document["channels"].values() if channel["address"] == payload_class.stream
        )
        assert channel["messages"][name] == {"$ref": f"#/components/messages/{name}"}
        assert list(message["payload"]["properties"]) == list(WIRE_FIELDS)
        assert message["payload"]["properties"]["event_type"]["const"] == name


def test_a_real_signed_entry_fits_its_message_and_its_payload_fits_the_contracts_schema(
    tmp_path: Path,
) -> None:
    generate(tmp_path / "keys", "approval")
    keyring = KeyRing.from_directory(tmp_path / "keys", "approval")
    document = served("delivery", tmp_path)
    for payload_class in (cls for cls in PAYLOAD_CLASSES if cls.producer == "approval"):
        payload = example_payload(payload_class).model_dump(mode="json")
        envelope = keyring.sign(
            EventEnvelope(
                event_id=uuid4(),
                event_type=payload_class.event_type,
                schema_version=payload_class.schema_version,
                occurred_at=datetime.now(UTC),
                recorded_at=datetime.now(UTC),
                producer="approval",
                stream_id=f"application-{uuid4()}",
                version=1,
                correlation_id=uuid4(),
                payload=payload,
            )
        )
        message = document["components"]["messages"][payload_class.event_type]
        entry = envelope.to_wire()
        assert schema_in(document, message["payload"]).is_valid(entry), entry
        assert entry["signature"].startswith(SCHEME + ":")
        parsed_schema = message["payload"]["properties"]["payload"]["x-parsed-schema"]
        assert schema_in(document, parsed_schema).is_valid(json.loads(entry["payload"]))
        entry["event_type"] = "approval.something_else"
        assert not schema_in(document, message["payload"]).is_valid(entry)


def test_the_payload_schemas_are_the_contracts_snapshots(tmp_path: Path) -> None:
    document = served("survey", tmp_path)
    snapshots = Path(__file__).resolve().parents[2] / "contracts" / "rehab_contracts" / "schemas"
    for payload_class in PAYLOAD_CLASSES:
        name = f"{payload_class.event_type}.v{payload_class.schema_version}"
        snapshot = json.loads((snapshots / f"{name}.json").read_text(encoding="utf-8"))
        snapshot.pop("$defs", None)
        assert set(document["components"]["schemas"][name]["properties"]) == set(snapshot["properties"])
        assert document["components"]["schemas"][name]["required"] == snapshot.get("required", [])


def test_the_dead_letter_message_has_the_fields_a_dead_letter_entry_has() -> None:
    topology = StreamTopology(
        "delivery",
        "Delivery",
        "rehab.delivery.events",
        ("rehab.approval.events",),
        "rehab.delivery.dead_letters",
    )
    document = asyncapi_document(topology)
    entry = new_dead_letter(
        source_stream="rehab.approval.events",
        source_entry_id="1-0",
        consumer_group="delivery",
        reason="signature of approval-x does not match",
        delivery_count=1,
        fields={"event_id": "x"},
    ).to_entry()
    schema = document["components"]["messages"]["DeadLetter"]["payload"]
    assert set(schema["properties"]) == set(entry)
    assert jsonschema_rs.validator_for(schema).is_valid(entry)


def test_the_server_names_the_redis_host_never_its_password() -> None:
    topology = StreamTopology(
        "survey",
        "Survey",
        "rehab.survey.events",
        (),
        None,
        redis_url="redis://survey:s3cret@redis.example:6380/0",
    )
    document = asyncapi_document(topology)
    assert document["servers"]["redis"]["host"] == "redis.example:6380"
    assert "s3cret" not in json.dumps(document)
    assert not any("dead_letters" in channel["address"] for channel in document["channels"].values())


def test_the_page_lists_channels_and_messages_and_loads_nothing_from_elsewhere(tmp_path: Path) -> None:
    client = TestClient(service_app("approval", tmp_path, access=True))
    page = client.get("/asyncapi")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.headers["content-security-policy"].startswith("default-src 'none'")
    for stream in (*ALL_STREAMS, "rehab.approval.dead_letters"):
        assert stream in page.text
    for payload_class in PAYLOAD_CLASSES:
        assert f"id='{payload_class.event_type}'" in page.text
    assert "<script" not in page.text
    links = re.findall(r"(?:src|href)\s*=\s*['\"]([^'\"]+)['\"]", page.text)
    assert all(link.startswith(("/", "#")) for link in links), links
