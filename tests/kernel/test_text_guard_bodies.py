"""A command's JSON body in Chinese without escapes is passed on as it is printable; an escape or an
unprintable character still has its field named, whichever way it is written."""

from __future__ import annotations

import json

import pytest

from kernel.web.text_guard import _hidden_field


@pytest.mark.parametrize("ascii_only", [False, True])
def test_a_hidden_character_is_found_written_raw_or_escaped(ascii_only: bool) -> None:
    for text, code in [("康美\u202e社区", "U+202E"), ("康美\n社区", "U+000A"), ("康美\u200b社区", "U+200B")]:
        body = json.dumps({"name": "张三", "community": text}, ensure_ascii=ascii_only).encode()
        assert _hidden_field(body) == ("community", [code])


def test_printable_chinese_text_and_escaped_quotes_pass() -> None:
    for document in ({"name": "张三", "community": "康美社区"}, {"name": '张"三'}):
        assert _hidden_field(json.dumps(document, ensure_ascii=False).encode()) is None
