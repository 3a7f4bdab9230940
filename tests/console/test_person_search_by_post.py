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
    """Stands in for the agencies: records the reads, finds one person by ID number."""

    def __init__(self) -> None:
        self.reads: list[dict[str, Any]] = []

    def get(self, service: str, path: str, *, user: str, purpose: str, params: Any = None, **_: Any) -> Any:
        self.reads.append(dict(params or {}))
        person = {
            "person_id": "0f8fad5b-d9cb-469f-a165-70867728950e",
            "name": "王秀英",
            "sex": "female",
            "street": "鸳鸯",
            "community": "金渝社区",
            "birth_date": "1958-04-12",
            "certified": True,
            "registered_on": "2024-10-15",
        }
        found = params and params.get("id_number") == ID_NUMBER
        return {"items": [person] if found else [], "total": 1 if found else 0}

    def close(self) -> None:
        pass


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
        assert survey.reads[-1]["id_number"] == ID_NUMBER
        assert ID_NUMBER not in str(found.url)
        assert not keeps("q") and not keeps("confirmation")
        assert csrf_of(client, "/street/persons")


def test_the_compose_console_sets_secure_cookies() -> None:
    compose = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    environment = compose["services"]["console"]["environment"]
    value = environment["REHAB_CONSOLE_SECURE_COOKIES"]
    assert ConsoleSettings(console_secure_cookies=value).console_secure_cookies is True
