"""After signing in, the console goes back only to one of its own pages, never to another site."""

from __future__ import annotations

import pytest

from console.login import safe_next


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "https://evil.example/",
        "/\\evil.example",
        "/\t/evil.example",
        "/\n/evil.example",
        "",
    ],
)
def test_a_target_outside_the_console_goes_to_the_start_page(target: str) -> None:
    assert safe_next(target) == "/"


def test_a_page_of_the_console_is_kept_with_its_query() -> None:
    assert safe_next("/street/persons/new?kept=abc") == "/street/persons/new?kept=abc"
