"""A path's methods are said as HTTP says them, on every service: a 405 lists in ``Allow`` every method
of the path (not only the first route's), HEAD answers as the GET without its body, OPTIONS answers 204
with ``Allow``; with access control, HEAD and OPTIONS need a token like a GET, and a HEAD of personal
data is audited as the GET."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from fastapi.testclient import TestClient

from tests.access.principals import Deployment, audit_entries, served
from tests.apps import state_of
from tests.problem_json import problem_of
from tests.settlement.settlement_builders import Journey
from tests.survey.people import make_id, person_body
from tests.web.apps import FACTORIES, SERVICES, service_app

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

PATH_PARAMETER = re.compile(r"\{[^}]+\}")
ANY_ID = "0193a6b2-0000-7000-8000-000000000000"
METHODS = ("get", "post", "put", "patch", "delete")


def template_of(path: str) -> re.Pattern[str]:
    return re.compile(PATH_PARAMETER.sub("[^/]+", re.escape(path).replace("\\{", "{").replace("\\}", "}")))


def allow_of(documented: set[str]) -> set[str]:
    return documented | ({"HEAD"} if "GET" in documented else set()) | {"OPTIONS"}


@pytest.mark.parametrize("service", SERVICES)
def test_a_method_a_path_does_not_take_is_a_405_allowing_every_method_it_does(
    service: str, tmp_path: Path
) -> None:
    client = TestClient(service_app(service, tmp_path))  # not started: routing answers before any route
    paths = client.get("/openapi.json").json()["paths"]
    checked = 0
    for path, item in paths.items():
        documented = {method.upper() for method in item if method in METHODS}
        concrete = PATH_PARAMETER.sub(ANY_ID, path)
        if any(template_of(other).fullmatch(concrete) for other in paths if other != path):
            continue  # another template takes this path too (/x/{id} takes /x/search): its methods count
        for missing in sorted({"PUT", "DELETE", "PATCH"} - documented):
            answer = client.request(missing, concrete)
            body = problem_of(answer, 405)
            assert body["code"] == "http.method_not_allowed"
            assert set(answer.headers["allow"].split(", ")) == allow_of(documented), (missing, path)
            checked += 1
        answer = client.options(concrete)
        assert answer.status_code == 204 and set(answer.headers["allow"].split(", ")) == allow_of(documented)
    assert checked > 5


def test_persons_allows_get_and_post_where_put_was_answered_with_post_alone(tmp_path: Path) -> None:
    client = TestClient(service_app("survey", tmp_path))
    answer = client.put("/persons")
    assert answer.headers["allow"] == "GET, HEAD, OPTIONS, POST"
    assert "GET" in problem_of(answer, 405)["detail"]


def test_head_answers_the_get_headers_without_a_body_and_needs_a_token(
    tmp_path: Path, redis_url: str, redis_client: redis.Redis
) -> None:
    deployment = Deployment(tmp_path / "access")
    clerk = deployment.bearer("鸳鸯干事", "survey", "street:鸳鸯")
    with served(FACTORIES["survey"], "survey", tmp_path, redis_url, deployment.folder) as client:
        assert client.head("/persons").status_code == 401  # a token, as for the GET
        assert client.options("/persons").status_code == 401
        got, head = client.get("/persons", headers=clerk), client.head("/persons", headers=clerk)
        assert (head.status_code, head.content) == (200, b"")
        assert head.headers["content-length"] == got.headers["content-length"]
        assert head.headers["content-type"] == got.headers["content-type"]
        missing = client.head(f"/persons/{ANY_ID}", headers=clerk)
        assert (missing.status_code, missing.content) == (404, b"")
        assert client.options("/persons", headers=clerk).headers["allow"] == "GET, HEAD, OPTIONS, POST"


def test_a_head_of_personal_data_is_audited_as_the_get_and_a_head_of_anything_else_is_not(
    tmp_path: Path, redis_url: str, redis_client: redis.Redis
) -> None:
    """A HEAD's status and Content-Length tell whether an ID number is registered (security review F1)."""
    deployment = Deployment(tmp_path / "access")
    clerk = deployment.bearer("鸳鸯干事", "survey", "street:鸳鸯")
    purpose = {**clerk, "X-Purpose": quote("核对身份")}
    id_number = make_id(date(1958, 4, 12), "231")
    body = person_body(
        street="鸳鸯", community="金渝社区", id_number=id_number, certificate_number=id_number + "12"
    )
    with served(FACTORIES["survey"], "survey", tmp_path, redis_url, deployment.folder) as client:
        created = client.post("/persons", json=body, headers=clerk)
        assert created.status_code == 201, created.text
        person = created.json()["person_id"]
        unknown = make_id(date(1950, 1, 1), "123")
        paths = [f"/persons?id_number={id_number}", f"/persons?id_number={unknown}", f"/persons/{person}"]
        paths.append(f"/persons/{person}/handbook")
        before = len(audit_entries(client))
        for path in paths:
            head, got = client.head(path, headers=purpose), client.get(path, headers=purpose)
            assert (head.status_code, head.content) == (200, b"")
            assert head.headers["content-length"] == got.headers["content-length"]
        entries = audit_entries(client)[before:]
        assert [entry.action.split(" ")[0] for entry in entries] == ["HEAD", "GET"] * len(paths)
        for head_entry, get_entry in zip(entries[::2], entries[1::2], strict=True):
            assert head_entry.action == "HEAD" + get_entry.action.removeprefix("GET")
            assert (head_entry.user, head_entry.subject, head_entry.purpose, head_entry.status) == (
                get_entry.user,
                get_entry.subject,
                "核对身份",
                200,
            )
        assert id_number not in " ".join(entry.action for entry in entries)  # masked as for the GET
        reads = len(audit_entries(client))
        assert client.head(f"/persons/{ANY_ID}", headers=clerk).status_code == 404  # refused: no read
        template = client.head("/imports/surveys/template", headers=clerk)  # no personal data
        assert (template.status_code, template.content) == (200, b"")
        assert int(template.headers["content-length"]) > 0
        assert len(audit_entries(client)) == reads


def test_a_head_of_a_settlement_statement_is_audited_and_a_head_of_the_ledgers_totals_is_not(
    tmp_path: Path, redis_url: str, redis_client: redis.Redis
) -> None:
    deployment = Deployment(tmp_path / "access")
    finance = deployment.bearer("区财务", "settlement", "district")
    street = deployment.bearer("人和街道会计", "settlement", "street:人和")
    with served(FACTORIES["settlement"], "settlement", tmp_path, redis_url, deployment.folder) as client:
        consumer = state_of(client).runtime.consumer
        for envelope, stream in Journey().events():
            consumer.apply(envelope, stream)
        statement = f"/statements/person:{Journey().person}?period=2024"
        assert client.head(statement, headers=street).status_code == 403  # refused: no read
        assert client.head("/ledger", headers=finance).status_code == 200  # totals: no personal data
        assert audit_entries(client) == []
        head = client.head(statement, headers={**finance, "X-Purpose": quote("核对结算单")})
        assert (head.status_code, head.content) == (200, b"")
        [entry] = audit_entries(client)
        assert (entry.user, entry.action, entry.purpose) == ("区财务", f"HEAD {statement}", "核对结算单")


def test_a_head_of_a_route_open_to_other_agencies_is_answered_as_its_get_and_audited(
    tmp_path: Path, redis_url: str, redis_client: redis.Redis
) -> None:
    """The route a HEAD reaches is its GET's: an entitled agency's HEAD of a data key is not refused as
    another agency's (the GET route's ``x-other-agencies`` counts), and it is audited like the GET."""
    deployment = Deployment(tmp_path / "access")
    district = deployment.bearer("区干事", "survey", "district")
    settlement = deployment.bearer("区结算", "settlement", "district")
    id_number = make_id(date(1958, 4, 12), "231")
    body = person_body(
        street="鸳鸯", community="金渝社区", id_number=id_number, certificate_number=id_number + "12"
    )
    with served(FACTORIES["survey"], "survey", tmp_path, redis_url, deployment.folder) as client:
        person = client.post("/persons", json=body, headers=district).json()["person_id"]
        key = f"/persons/{person}/data-key"
        head, got = client.head(key, headers=settlement), client.get(key, headers=settlement)
        assert (head.status_code, got.status_code, head.content) == (200, 200, b"")
        assert head.headers["content-length"] == got.headers["content-length"]
        assert [entry.action for entry in audit_entries(client, subject=person)] == [
            f"HEAD {key}",
            f"GET {key}",
        ]
        doctor = deployment.bearer("评估医生", "assessment", "district")  # not entitled: refused as the GET
        refused = client.get(key, headers=doctor)
        assert (client.head(key, headers=doctor).status_code, refused.status_code) == (403, 403)
        assert problem_of(refused, 403)["code"] == "survey.data_key.not_entitled"  # the route decided
        assert len(audit_entries(client, subject=person)) == 2
