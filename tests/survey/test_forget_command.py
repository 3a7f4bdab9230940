"""`rehab forget <person-id>` destroys the key in the survey store; the service then shows them redacted."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient
from rehab_contracts.sealed import REDACTED

from kernel.runtime import ServiceSettings
from rehab.cli import main
from services.survey.app import create_app
from tests.survey.people import person_body


def forget(*arguments: str) -> int:
    return main(["forget", *arguments])


def test_rehab_forget_redacts_the_person_and_refuses_a_second_time(
    tmp_path: Path, redis_url: str, redis_client: redis.Redis, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path}/survey.db"
    with TestClient(
        create_app(ServiceSettings(service="survey", database_url=url, redis_url=redis_url))
    ) as client:
        person_id = client.post("/persons", json=person_body()).json()["person_id"]

        assert forget(person_id, "--database-url", url) == 0
        assert f"已遗忘人员 {person_id}（forgotten）：数据密钥 pdk-" in capsys.readouterr().out
        person = client.get(f"/persons/{person_id}").json()
        assert (person["name"], person["forgotten"]) == (REDACTED, True)

        assert forget(person_id, "--database-url", url) == 1
        assert "survey.person.forgotten" in capsys.readouterr().err


def test_rehab_forget_refuses_what_is_not_a_person_id(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert forget("李明", "--database-url", f"sqlite:///{tmp_path}/survey.db") == 2
    assert "not a person id" in capsys.readouterr().err
