"""The assessment worklist's search takes its year as typed only when it is ASCII digits: a superscript or
full-width digit (² ３, which ``str.isdigit`` accepts but ``int`` does not) means the current year, as an
empty one does, not a 500 (security review F4). The assessment service is stood in for."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.console.bare import console_client, csrf_of, sign_in


class Agencies:
    """Stands in for the assessment service: an empty worklist; records the year each page asked for."""

    def __init__(self) -> None:
        self.years: list[object] = []

    def get(self, service: str, path: str, **options: Any) -> Any:
        if path == "/worklist":
            self.years.append(options["params"]["year"])
        return {"total": 0, "limit": 200, "offset": 0, "items": []}

    def close(self) -> None:
        pass


@pytest.fixture
def client(tmp_path: Path) -> Any:
    with console_client(tmp_path) as test_client:
        sign_in(test_client)
        yield test_client


@pytest.mark.parametrize("typed", ["²", "２０２４", "٢٠٢٤", "2024²"])
def test_a_year_of_digits_other_than_ascii_searches_the_current_year(client: TestClient, typed: str) -> None:
    agencies = Agencies()
    client.app.state.console.agencies = agencies  # type: ignore[attr-defined]
    csrf = csrf_of(client)
    empty = client.post("/assessment", data={"csrf_token": csrf, "year": "", "q": "欧阳"})
    assert empty.status_code == 200, empty.text
    answer = client.post("/assessment", data={"csrf_token": csrf, "year": typed, "q": "欧阳"})
    assert answer.status_code == 200, answer.text
    assert agencies.years == [agencies.years[0]] * 2  # the current year, as for an empty one


def test_a_year_of_ascii_digits_is_searched_as_typed(client: TestClient) -> None:
    agencies = Agencies()
    client.app.state.console.agencies = agencies  # type: ignore[attr-defined]
    answer = client.post("/assessment", data={"csrf_token": csrf_of(client), "year": " 2024 ", "q": ""})
    assert answer.status_code == 200, answer.text
    assert agencies.years == [2024]
