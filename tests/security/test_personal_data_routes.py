"""Every route whose answer carries a person's personal data is marked and audited (issue 14, defect 6):
`GET /surveys` listed names without an audit entry."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient

from kernel.runtime import ServiceSettings
from services.survey.app import create_app
from tests.access.principals import Deployment, audit_entries, served
from tests.survey.people import person_body
from tests.survey.sheets import csv_bytes, four_people

SERVICES = ("survey", "assessment", "approval", "delivery", "settlement")

IDENTIFYING = frozenset(
    {
        "id_number",
        "certificate_number",
        "veteran_certificate_number",
        "phone",
        "address",
        "household_registration",
        "residence",
        "guardian",
        "birth_date",
        "ethnicity",
    }
)
"""Fields that are a person's personal data wherever they appear."""

NAMING = frozenset({"name"})
"""Fields that are personal data in a record about a person (one holding ``person_id``); elsewhere a
``name`` is an institution's or a signing official's."""


def personal_fields(schema: dict[str, Any], components: dict[str, Any]) -> set[str]:
    """The personal fields an answer of this schema can hold, nested records included."""
    found: set[str] = set()

    def walk(node: dict[str, Any], seen: frozenset[str]) -> None:
        if "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[-1]
            if name not in seen:
                walk(components[name], seen | {name})
            return
        for key in ("anyOf", "oneOf", "allOf"):
            for choice in node.get(key, []):
                walk(choice, seen)
        for key in ("items", "additionalProperties"):
            if isinstance(node.get(key), dict):
                walk(node[key], seen)
        properties = node.get("properties", {})
        found.update(IDENTIFYING & properties.keys())
        if "person_id" in properties:
            found.update(NAMING & properties.keys())
        for child in properties.values():
            walk(child, seen)

    walk(schema, frozenset())
    return found


def unmarked_routes(spec: dict[str, Any]) -> dict[str, list[str]]:
    """``METHOD path`` -> personal fields, for every route answering them without ``x-personal-data``."""
    components = spec.get("components", {}).get("schemas", {})
    unmarked: dict[str, list[str]] = {}
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            fields: set[str] = set()
            for status, response in operation.get("responses", {}).items():
                if status.startswith("2"):
                    for content in response.get("content", {}).values():
                        fields |= personal_fields(content.get("schema", {}), components)
            if fields and not operation.get("x-personal-data"):
                unmarked[f"{method.upper()} {path}"] = sorted(fields)
    return unmarked


def test_the_walk_finds_personal_fields_in_the_survey_answers() -> None:
    spec = create_app(ServiceSettings(service="survey")).openapi()
    components = spec["components"]["schemas"]
    person = spec["paths"]["/persons/{person_id}"]["get"]["responses"]["200"]["content"]["application/json"]
    assert {"name", "id_number", "phone", "guardian"} <= personal_fields(person["schema"], components)


@pytest.mark.parametrize("service", SERVICES)
def test_every_route_whose_answer_holds_personal_data_is_marked_to_be_audited(service: str) -> None:
    app = importlib.import_module(f"services.{service}.app").create_app(ServiceSettings(service=service))
    assert unmarked_routes(app.openapi()) == {}


# -- the audit itself -----------------------------------------------------------------------------------
@pytest.fixture
def deployment(tmp_path: Path) -> Deployment:
    return Deployment(tmp_path / "access")


@pytest.fixture
def client(
    tmp_path: Path, redis_url: str, redis_client: redis.Redis, deployment: Deployment
) -> Iterator[TestClient]:
    with served(create_app, "survey", tmp_path, redis_url, deployment.folder) as test_client:
        yield test_client


def test_listing_surveys_with_names_is_audited_with_who_and_why(
    client: TestClient, deployment: Deployment
) -> None:
    clerk = deployment.bearer("鸳鸯干事", "survey", "street:鸳鸯")
    person = client.post("/persons", json=person_body(), headers=clerk).json()["person_id"]
    survey = {
        "survey_year": 2024,
        "surveyed_on": "2024-10-15",
        "has_needs": False,
        "needed_items": [],
        "home_visit_required": False,
        "surveyor": "张丽",
    }
    assert client.post(f"/persons/{person}/surveys", json=survey, headers=clerk).status_code == 201

    listed = client.get(
        "/surveys", params={"year": 2024}, headers={**clerk, "X-Purpose": "%E6%A0%B8%E6%9F%A5"}
    )

    assert listed.status_code == 200 and listed.json()["items"][0]["name"] == "李明"
    [entry] = [entry for entry in audit_entries(client) if entry.action.startswith("GET /surveys")]
    assert (entry.user, entry.purpose, entry.status) == ("鸳鸯干事", "核查", 200)


def test_an_import_answering_the_persons_names_is_audited_per_person(
    client: TestClient, deployment: Deployment
) -> None:
    clerk = deployment.bearer("鸳鸯干事", "survey", "street:鸳鸯")
    form = {"street": "鸳鸯", "survey_year": "2024", "surveyed_on": "2024-10-15", "surveyor": "张丽"}

    imported = client.post(
        "/imports/surveys",
        data=form,
        files={"file": ("鸳鸯.csv", csv_bytes(four_people()), "text/csv")},
        headers=clerk,
    )

    assert imported.status_code == 201, imported.text
    persons = {person["person_id"] for person in imported.json()["persons"]}
    entries = [entry for entry in audit_entries(client) if entry.action.startswith("POST /imports/surveys")]
    assert {entry.subject for entry in entries} == persons and len(entries) == len(persons)
    assert {(entry.user, entry.status) for entry in entries} == {("鸳鸯干事", 201)}
