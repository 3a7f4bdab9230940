"""The audit log cannot be forged through what a caller sends (issue 14, defect 7): an `X-Purpose`
with encoded newlines wrote rows that `rehab audit` printed as if they were other reads."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine

from kernel.access.access import PERSONAL_DATA, AccessControl, install_access_control
from kernel.access.audit import AuditEntry, AuditTrail
from kernel.access.auth import TokenVerifier
from kernel.web.errors import install_error_handlers
from rehab.cli import main
from tests.access.test_access_control import KEY, token
from tests.problem_json import field_error_of, problem_of

FORGED_ROW = (
    "入户核查\n2026-01-01T00:00:00+00:00\t审计员\taudit\tauditor\tdistrict\tGET /persons\t-\t例行\t200"
)


@pytest.fixture
def audit(tmp_path: Path) -> AuditTrail:
    return AuditTrail(create_engine(f"sqlite:///{tmp_path}/approval.db"))


@pytest.fixture
def client(audit: AuditTrail) -> Iterator[TestClient]:
    app = FastAPI()
    install_error_handlers(app)
    install_access_control(app, AccessControl("approval", TokenVerifier((KEY.public_key(),)), audit))

    @app.get("/applications/{application_id}", openapi_extra=PERSONAL_DATA)
    def application(application_id: str) -> dict[str, str]:
        return {"id": application_id, "name": "张三"}

    with TestClient(app) as test_client:
        yield test_client


@pytest.mark.parametrize(
    "purpose",
    [quote(FORGED_ROW), "%0D%0Aforged", "%09tab", "%1B%5B2K", quote("复核\u202e材料"), "%00", "%C2%85next"],
    ids=["newline and tabs", "CR LF", "tab", "terminal escape", "bidi override", "NUL", "C1 next line"],
)
def test_a_purpose_with_control_characters_is_refused_422_naming_the_header_and_nothing_is_read(
    client: TestClient, audit: AuditTrail, purpose: str
) -> None:
    answer = client.get("/applications/a-1", headers={**token(), "X-Purpose": purpose})

    assert problem_of(answer, 422)["code"] == "request.control_character"
    error = field_error_of(answer)
    assert (error["field"], error["code"]) == ("X-Purpose", "request.control_character")
    assert audit.entries() == []


def test_a_plain_purpose_with_spaces_and_chinese_is_audited_as_sent(
    client: TestClient, audit: AuditTrail
) -> None:
    answer = client.get("/applications/a-1", headers={**token(), "X-Purpose": quote("复核 申请材料 (二次)")})

    assert answer.status_code == 200
    assert [entry.purpose for entry in audit.entries()] == ["复核 申请材料 (二次)"]


def test_rehab_audit_escapes_control_characters_in_every_field_so_no_row_is_forged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Rows written before the header was checked, or by another route, still print as one line each."""
    trail = AuditTrail(create_engine(f"sqlite:///{tmp_path}/survey.db"))
    trail.record(
        AuditEntry(
            read_at=datetime(2026, 3, 1, tzinfo=UTC),
            user="孙干事\x1b[2K",
            agency="survey",
            roles="staff",
            scope="street:鸳鸯",
            action="GET /persons/p-1",
            subject="p-1\r",
            purpose=FORGED_ROW,
            status=200,
        )
    )

    assert main(["audit", "--service", "survey", "--var-dir", str(tmp_path)]) == 0

    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2  # the header and the one read
    cells = lines[1].split("\t")
    assert len(cells) == 9
    assert cells[1] == "孙干事\\x1b[2K"
    assert cells[6] == "p-1\\r"
    assert cells[7].startswith("入户核查\\n2026-01-01T00:00:00+00:00\\t审计员\\t")


def test_control_characters_in_the_path_are_stored_escaped_in_the_action_and_the_subject(
    client: TestClient, audit: AuditTrail
) -> None:
    assert client.get("/applications/a-1%0Aforged%1B", headers=token()).status_code == 200

    [entry] = audit.entries()
    assert entry.subject == "a-1\\nforged\\x1b"
    assert entry.action.endswith("forged\\x1b")  # the URL parser drops the newline itself
    assert "\n" not in entry.action
