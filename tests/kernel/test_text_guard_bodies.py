"""A command's JSON body in Chinese without escapes is passed on as it is printable; an escape or an
unprintable character still has its field named, whichever way it is written."""

from __future__ import annotations

import json

import pytest

from kernel.web.text_guard import _hidden_field, _nul_in_body, hidden_characters


@pytest.mark.parametrize("ascii_only", [False, True])
def test_a_hidden_character_is_found_written_raw_or_escaped(ascii_only: bool) -> None:
    for text, code in [("康美\u202e社区", "U+202E"), ("康美\n社区", "U+000A"), ("康美\u200b社区", "U+200B")]:
        body = json.dumps({"name": "张三", "community": text}, ensure_ascii=ascii_only).encode()
        assert _hidden_field(body) == ("community", [code])


def test_printable_chinese_text_and_escaped_quotes_pass() -> None:
    for document in ({"name": "张三", "community": "康美社区"}, {"name": '张"三'}):
        assert _hidden_field(json.dumps(document, ensure_ascii=False).encode()) is None


def test_a_nul_character_is_named_by_its_field_raw_or_escaped_and_the_body_when_outside_any_text() -> None:
    assert _nul_in_body(b'{"name": "a\\u0000b"}') == "name"
    assert _nul_in_body(b'{"guardian": {"name": "a\x00b"}}') == "guardian.name"
    assert _nul_in_body(b'{"items": ["x", "\\u0000"]}') == "items.1"
    assert _nul_in_body(b'{"a": \x00}') == "body"


def test_the_replacement_character_is_refused_as_characters_lost_raw_or_escaped() -> None:
    assert hidden_characters("张\ufffd三") == ["U+FFFD"]
    for ascii_only in (False, True):
        body = json.dumps({"name": "张\ufffd"}, ensure_ascii=ascii_only).encode()
        assert _hidden_field(body) == ("name", ["U+FFFD"])
