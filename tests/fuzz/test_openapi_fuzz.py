"""Property-based fuzzing of every service's HTTP API from its own OpenAPI document (schemathesis).

For each operation, requests that fit the document and requests that break it are generated and sent to
the running app (its own SQLite store, the test Redis). Whatever is sent, a service answers no 5xx and no
status its operation does not document, every error is ``application/problem+json`` with a stable code,
and no answer shows a stack trace. The number
of examples is bounded (``REHAB_FUZZ_EXAMPLES`` per operation and generation mode, default 10), so the
five services together stay within a minute; raise it for a longer hunt.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.core.result import Ok

from kernel.runtime import ServiceSettings

SERVICES = ("survey", "assessment", "approval", "delivery", "settlement")
EXAMPLES = int(os.environ.get("REHAB_FUZZ_EXAMPLES", "10"))
NOT_DOCUMENTED_YET: dict[tuple[str, str], str] = {}
"""Statuses an operation answers but its OpenAPI does not list yet (none now: settlement's reporting
routes document their 404). Any undocumented status fails."""
STACK_TRACE_MARKERS = ("Traceback (most recent call last)", 'File "/', "sqlalchemy.exc", "pydantic_core")


@pytest.fixture(params=SERVICES)
def client(
    request: pytest.FixtureRequest, tmp_path: Path, redis_url: str, redis_client: redis.Redis
) -> Iterator[TestClient]:
    service = request.param
    create_app = importlib.import_module(f"services.{service}.app").create_app
    settings_ = ServiceSettings(
        service=service, database_url=f"sqlite:///{tmp_path}/{service}.db", redis_url=redis_url
    )
    with TestClient(create_app(settings_), raise_server_exceptions=False) as test_client:
        yield test_client


def send(client: TestClient, case: Any) -> Any:
    """The generated request, through the app's test client (requests-style arguments made httpx ones)."""
    arguments = case.as_transport_kwargs(base_url="")
    files = arguments.pop("files", None)
    request: dict[str, Any] = {
        "params": arguments.get("params") or None,
        "headers": {key: str(value) for key, value in (arguments.get("headers") or {}).items()},
    }
    if files is not None:
        request["data"] = {name: str(value) for name, (filename, value) in files if filename is None}
        request["files"] = [
            (name, (filename, value)) for name, (filename, value) in files if filename is not None
        ]
    elif arguments.get("json") is not None:
        request["json"] = arguments["json"]
    elif arguments.get("data") is not None:
        request["content"] = (
            arguments["data"] if isinstance(arguments["data"], bytes) else str(arguments["data"])
        )
    client.cookies.clear()
    return client.request(case.method, case.formatted_path, **request)


def problems_of(response: Any, documented: Collection[str]) -> list[str]:
    """What is wrong with one answer: a 5xx, a status its operation does not document, an error that is
    not problem+json, a stack trace."""
    found = []
    if response.status_code >= 500:
        found.append(f"answered {response.status_code}: {response.text[:300]}")
    status = str(response.status_code)
    if not {status, f"{status[0]}XX", "default"} & set(documented):
        found.append(f"answered {status}, which the operation does not document ({', '.join(documented)})")
    if response.status_code >= 400:
        media = response.headers.get("content-type", "")
        if not media.startswith("application/problem+json"):
            found.append(f"{response.status_code} is {media or 'no content type'}, not problem+json")
        elif not str(response.json().get("code", "")):
            found.append(f"{response.status_code} problem without a code")
    text = response.text if "json" in response.headers.get("content-type", "") else ""
    found += [f"stack trace in the answer ({marker})" for marker in STACK_TRACE_MARKERS if marker in text]
    return found


def operations(client: TestClient) -> list[Any]:
    schema = schemathesis.openapi.from_dict(client.app.openapi())  # type: ignore[attr-defined]
    found = [result.ok() for result in schema.get_all_operations() if isinstance(result, Ok)]
    assert len(found) == len(list(schema.get_all_operations())), (
        "every operation of the document can be fuzzed"
    )
    return found


def test_no_generated_request_gets_a_5xx_a_bare_error_or_a_stack_trace(client: TestClient) -> None:
    failures: list[str] = []
    for operation in operations(client):
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            failures += fuzz(client, operation, mode)
    assert failures == []


def fuzz(client: TestClient, operation: Any, mode: GenerationMode) -> list[str]:
    failures: list[str] = []
    documented = sorted(operation.definition.raw.get("responses", {}))
    if known := NOT_DOCUMENTED_YET.get((operation.method.upper(), operation.path)):
        documented.append(known)

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,  # the same requests every run: CI is reproducible, a failure repeats
        phases=[Phase.explicit, Phase.generate],  # no shrinking: report the first failing request as sent
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def exercise(case: Any) -> None:
        response = send(client, case)
        failures.extend(
            f"{case.method} {case.formatted_path} ({mode.value}): {problem}"
            for problem in problems_of(response, documented)
        )

    try:
        exercise()
    except Unsatisfiable:  # nothing to break: an operation without parameters has no invalid request
        pass
    except Exception as error:
        failures.append(
            f"{operation.method.upper()} {operation.path} ({mode.value}): {type(error).__name__}: {error}"
        )
    return failures
