"""Every service's OpenAPI document tells the truth: bearer security (Swagger UI's Authorize button) and
problem+json bodies for every error status it can answer, never FastAPI's default 422 body."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from fastapi.testclient import TestClient

from tests.problem_json import problem_of
from tests.web.apps import SERVICES, service_app

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

METHODS = ("get", "post", "put", "patch", "delete")


def document_of(service: str, directory: Path, *, access: bool) -> dict[str, Any]:
    answer = TestClient(service_app(service, directory, access=access)).get("/openapi.json")
    assert answer.status_code == 200
    document: dict[str, Any] = answer.json()
    return document


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def resolved(document: dict[str, Any], response: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in response:
        found: dict[str, Any] = document["components"]["responses"][response["$ref"].rsplit("/", 1)[-1]]
        return found
    return response


def problem_validator(document: dict[str, Any]) -> Any:
    """A validator of the document's Problem schema (its references resolved within the document)."""
    return jsonschema_rs.validator_for({"$ref": "#/components/schemas/Problem", **document})


@pytest.mark.parametrize("service", SERVICES)
def test_with_access_control_every_operation_needs_a_bearer_token_and_documents_401_and_403(
    service: str, tmp_path: Path
) -> None:
    document = document_of(service, tmp_path, access=True)
    scheme = document["components"]["securitySchemes"]["bearerAuth"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    assert document["security"] == [{"bearerAuth": []}]
    for path, method, operation in operations(document):
        if path == "/health":
            assert operation["security"] == [], "health is open"
            continue
        assert {"401", "403"} <= set(operation["responses"]), (method, path)


@pytest.mark.parametrize("service", SERVICES)
def test_every_error_answer_of_every_operation_is_problem_json(service: str, tmp_path: Path) -> None:
    document = document_of(service, tmp_path, access=True)
    assert "HTTPValidationError" not in json.dumps(document)
    for path, method, operation in operations(document):
        statuses = set(operation["responses"])
        assert "422" in statuses, (method, path)  # an unknown query parameter, at least
        if "{" in path:
            assert "404" in statuses, (method, path)
        if method != "get":
            assert {"409", "503"} <= statuses, (method, path)
        if "requestBody" in operation:
            assert "413" in statuses, (method, path)
        for status, response in operation["responses"].items():
            if int(status) >= 400:
                content = resolved(document, response)["content"]
                assert content == {
                    "application/problem+json": {
                        "schema": {"$ref": "#/components/schemas/Problem"},
                        **(
                            {"example": content["application/problem+json"]["example"]}
                            if "$ref" in response
                            else {}
                        ),
                    }
                }, (method, path, status)


def test_a_routes_own_description_of_an_error_stays_with_the_problem_body(tmp_path: Path) -> None:
    document = document_of("approval", tmp_path, access=False)
    not_found = document["paths"]["/applications/{application_id}"]["get"]["responses"]["404"]
    assert not_found["description"] == "No such application"
    assert not_found["content"]["application/problem+json"]["schema"] == {
        "$ref": "#/components/schemas/Problem"
    }


def test_without_access_control_no_token_is_required_but_the_scheme_is_there_to_authorize(
    tmp_path: Path,
) -> None:
    document = document_of("survey", tmp_path, access=False)
    assert "security" not in document
    assert "bearerAuth" in document["components"]["securitySchemes"]
    # Only a route that proves the caller itself (the registry's cards) asks for a token, and says so.
    for _path, _method, operation in operations(document):
        assert "401" not in operation["responses"] or operation.get("security") == [{"bearerAuth": []}]
    cards = document["paths"]["/persons/cards:batch"]["post"]
    assert cards["security"] == [{"bearerAuth": []}] and "401" in cards["responses"]


def test_the_examples_and_the_real_answers_fit_the_problem_schema(tmp_path: Path) -> None:
    client = TestClient(service_app("approval", tmp_path, access=True))
    document = client.get("/openapi.json").json()
    fits = problem_validator(document)
    for response in document["components"]["responses"].values():
        example = response["content"]["application/problem+json"]["example"]
        assert fits.is_valid(example), example
    unauthenticated = client.get("/applications")
    assert problem_of(unauthenticated, 401)["code"] == "access.unauthenticated"
    assert fits.is_valid(unauthenticated.json())
    open_client = TestClient(service_app("approval", tmp_path / "open"))
    for answer, status in ((open_client.get("/nowhere"), 404), (open_client.get("/applications?x=1"), 422)):
        assert fits.is_valid(problem_of(answer, status)), answer.text


def test_swagger_ui_offers_the_authorize_button(tmp_path: Path) -> None:
    """Swagger UI shows Authorize when the document declares a security scheme; /docs loads this one."""
    client = TestClient(service_app("delivery", tmp_path, access=True))
    assert "/openapi.json" in client.get("/docs").text
    assert (
        client.get("/openapi.json").json()["components"]["securitySchemes"]["bearerAuth"]["scheme"]
        == "bearer"
    )
