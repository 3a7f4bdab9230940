"""The street's person search sends what was typed (a name or a 身份证号) in a POST body: the console never
puts an ID number in an address (history, access logs, Referer), nor keeps it across a login. And the
compose deployment's console marks its cookies Secure."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from console.sessions import keeps
from console.settings import ConsoleSettings
from tests.console.bare import console_client, csrf_of, hidden, sign_in

ID_NUMBER = "500112195804122318"
COMPOSE = Path(__file__).parents[2] / "deploy" / "compose" / "compose.yaml"


class Survey:
    """Stands in for the agencies: records the searches, finds one person by ID number (or its end)."""

    def __init__(self) -> None:
        self.searches: list[dict[str, Any]] = []

    def get(self, service: str, path: str, *, user: str, purpose: str, params: Any = None, **_: Any) -> Any:
        return {"items": [], "total": 0}

    def read(self, service: str, path: str, body: dict[str, Any], *, user: str, purpose: str) -> Any:
        assert (service, path) == ("survey", "/persons:search")
        self.searches.append(body)
        found = ID_NUMBER.endswith(body.get("id_number") or "-") or body.get("name") == "王秀英"
        return {"items": [PERSON] if found else [], "total": 1 if found else 0}

    def close(self) -> None:
        pass


PERSON = {
    "person_id": "0f8fad5b-d9cb-469f-a165-70867728950e",
    "name": "王秀英",
    "sex": "female",
    "street": "鸳鸯",
    "community": "金渝社区",
    "birth_date": "1958-04-12",
    "certified": True,
    "registered_on": "2024-10-15",
}


def test_the_search_form_posts_and_an_id_number_is_found_without_appearing_in_an_address(
    tmp_path: Path,
) -> None:
    with console_client(tmp_path) as client:
        survey = Survey()
        client.app.state.console.agencies = survey  # type: ignore[attr-defined]
        sign_in(client)
        page = client.get("/street/persons")
        assert page.status_code == 200
        form = page.text[page.text.index('role="search"') - 60 :]
        assert 'method="post"' in form[:200] and "hx-get" not in form and "hx-push-url" not in form

        token = hidden(page.text, "csrf_token")
        found = client.post("/street/persons", data={"csrf_token": token, "q": ID_NUMBER})
        assert found.status_code == 200 and "王秀英" in found.text
        assert survey.searches[-1]["id_number"] == ID_NUMBER
        assert ID_NUMBER not in str(found.url)
        assert not keeps("q") and not keeps("confirmation")
        assert csrf_of(client, "/street/persons")


def test_the_last_digits_of_an_id_number_and_a_name_are_searched_in_the_registry_by_post(
    tmp_path: Path,
) -> None:
    with console_client(tmp_path) as client:
        survey = Survey()
        client.app.state.console.agencies = survey  # type: ignore[attr-defined]
        sign_in(client)
        token = hidden(client.get("/street/persons").text, "csrf_token")

        by_tail = client.post("/street/persons", data={"csrf_token": token, "q": ID_NUMBER[-6:]})
        by_name = client.post("/street/persons", data={"csrf_token": token, "q": "王秀英"})

        assert "王秀英" in by_tail.text and "王秀英" in by_name.text
        assert survey.searches[0]["id_number"] == ID_NUMBER[-6:] and "name" not in survey.searches[0]
        assert survey.searches[1]["name"] == "王秀英" and "id_number" not in survey.searches[1]
        assert survey.searches[0]["street"] == "鸳鸯"


def test_the_compose_console_sets_secure_cookies() -> None:
    compose = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    environment = compose["services"]["console"]["environment"]
    value = environment["REHAB_CONSOLE_SECURE_COOKIES"]
    assert ConsoleSettings(console_secure_cookies=value).console_secure_cookies is True
