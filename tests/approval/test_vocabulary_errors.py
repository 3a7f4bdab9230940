"""The district office's decision refused for a subsidy mode it does not know lists the modes as 附件2
names them (issue 18: `Input should be 'free' or 'fixed_amount'`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient

from kernel.runtime import ServiceSettings
from services.approval.app import create_app
from tests.approval.test_api import approval
from tests.problem_json import problem_of


@pytest.fixture
def client(tmp_path: Path, redis_url: str) -> Iterator[TestClient]:
    settings = ServiceSettings(
        service="approval", database_url=f"sqlite:///{tmp_path}/approval.db", redis_url=redis_url
    )
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def test_a_decision_with_an_unknown_subsidy_mode_lists_free_and_fixed_amount_in_chinese(
    client: TestClient,
) -> None:
    items = [{"item": "low_vision_training", "subsidy_mode": "gratis"}]
    refused = client.post(f"/applications/{uuid4()}/decision", json=approval(approved_items=items))
    errors = problem_of(refused, 422)["errors"]
    [error] = [error for error in errors if error["field"].endswith("subsidy_mode")]
    assert error["message"] == "应为以下之一：free（免费）、fixed_amount（定额补助）"
