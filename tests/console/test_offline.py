"""The console is intranet-ready: no page, stylesheet or script of its own names another site."""

from __future__ import annotations

import re
from pathlib import Path

CONSOLE = Path(__file__).resolve().parents[2] / "console"
EXTERNAL = re.compile(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", re.IGNORECASE)


def test_no_template_stylesheet_or_script_of_the_console_names_another_site() -> None:
    files = [*CONSOLE.joinpath("templates").rglob("*.html"), *CONSOLE.joinpath("static").rglob("*.*")]
    assert files
    named = {str(path.relative_to(CONSOLE)): EXTERNAL.findall(path.read_text()) for path in files}
    assert {path: found for path, found in named.items() if found} == {}
