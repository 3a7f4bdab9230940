"""The breaking-change checker flags what would break stored events, and nothing else."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel
from rehab_contracts.compatibility import breaking_changes

BEFORE: dict[str, Any] = {
    "$defs": {
        "Colour": {"enum": ["red", "green"], "type": "string", "title": "Colour"},
        "Owner": {
            "properties": {"nickname": {"type": "string"}, "age": {"type": "integer"}},
            "required": ["nickname"],
            "type": "object",
        },
    },
    "properties": {
        "count": {"type": "integer", "description": "How many."},
        "colour": {"$ref": "#/$defs/Colour"},
        "owner": {"anyOf": [{"$ref": "#/$defs/Owner"}, {"type": "null"}], "default": None},
        "tags": {"items": {"type": "string"}, "type": "array"},
        "on": {"format": "date", "type": "string"},
        "note": {"type": "string", "default": ""},
    },
    "required": ["count", "colour", "on"],
    "type": "object",
}


def changed(edit: Any) -> dict[str, Any]:
    after = copy.deepcopy(BEFORE)
    edit(after)
    return after


def test_an_unchanged_schema_has_no_breaking_change() -> None:
    assert breaking_changes(BEFORE, copy.deepcopy(BEFORE)) == []


def test_a_removed_field_is_a_breaking_change() -> None:
    after = changed(lambda schema: schema["properties"].pop("note"))
    assert breaking_changes(BEFORE, after) == ["$.note: property removed"]


def test_a_field_changing_type_is_a_breaking_change() -> None:
    after = changed(lambda schema: schema["properties"]["count"].update(type="string"))
    assert breaking_changes(BEFORE, after) == ["$.count: type changed from integer to string"]


def test_a_date_becoming_free_text_is_a_breaking_change() -> None:
    after = changed(lambda schema: schema["properties"]["on"].pop("format"))
    assert breaking_changes(BEFORE, after) == ["$.on: type changed from string (date) to string"]


def test_a_list_of_another_type_is_a_breaking_change() -> None:
    after = changed(lambda schema: schema["properties"]["tags"].update(items={"type": "integer"}))
    assert breaking_changes(BEFORE, after) == [
        "$.tags: type changed from array of string to array of integer"
    ]


def test_a_field_becoming_nullable_is_a_breaking_change() -> None:
    after = changed(
        lambda schema: schema["properties"].update(count={"anyOf": [{"type": "integer"}, {"type": "null"}]})
    )
    assert breaking_changes(BEFORE, after) == ["$.count: type changed from integer to integer | null"]


def test_a_new_required_field_is_a_breaking_change() -> None:
    def add_required(schema: dict[str, Any]) -> None:
        schema["properties"]["size"] = {"type": "integer"}
        schema["required"].append("size")

    assert breaking_changes(BEFORE, changed(add_required)) == ["$.size: new required property"]


def test_an_optional_field_becoming_required_is_a_breaking_change() -> None:
    after = changed(lambda schema: schema["required"].append("note"))
    assert breaking_changes(BEFORE, after) == ["$.note: property became required"]


def test_a_removed_enum_value_is_a_breaking_change() -> None:
    after = changed(lambda schema: schema["$defs"]["Colour"].update(enum=["red"]))
    assert breaking_changes(BEFORE, after) == ["$.colour: enum values removed: green"]


def test_a_field_removed_from_a_nested_model_is_a_breaking_change() -> None:
    after = changed(lambda schema: schema["$defs"]["Owner"]["properties"].pop("age"))
    assert breaking_changes(BEFORE, after) == ["$.owner<object>.age: property removed"]


def test_new_optional_fields_new_enum_values_and_new_words_are_compatible() -> None:
    def extend(schema: dict[str, Any]) -> None:
        schema["properties"]["size"] = {"type": "integer", "default": 0}
        schema["$defs"]["Colour"]["enum"].append("blue")
        schema["properties"]["count"]["description"] = "How many, counted twice."
        schema["required"].remove("colour")

    assert breaking_changes(BEFORE, changed(extend)) == []


def test_a_renamed_nested_model_with_the_same_shape_is_compatible() -> None:
    def rename(schema: dict[str, Any]) -> None:
        schema["$defs"]["Hue"] = schema["$defs"].pop("Colour")
        schema["properties"]["colour"] = {"$ref": "#/$defs/Hue"}

    assert breaking_changes(BEFORE, changed(rename)) == []


class _PayloadV1(BaseModel):
    kind: Literal["a", "b"]
    on: date
    items: list[str]


class _PayloadV2(BaseModel):
    kind: Literal["a"]
    on: str
    count: int


def test_the_checker_reads_pydantic_schemas() -> None:
    changes = breaking_changes(_PayloadV1.model_json_schema(), _PayloadV2.model_json_schema())
    assert changes == [
        "$.kind: enum values removed: b",
        "$.on: type changed from string (date) to string",
        "$.items: property removed",
        "$.count: new required property",
    ]


def number(**constraints: Any) -> dict[str, Any]:
    return {"type": "object", "properties": {"amount_fen": {"type": "integer", **constraints}}}


def text(**constraints: Any) -> dict[str, Any]:
    return {"type": "object", "properties": {"code": {"type": "string", **constraints}}}


def test_a_raised_minimum_is_a_breaking_change() -> None:
    assert breaking_changes(number(minimum=0), number(minimum=1))


def test_an_inclusive_minimum_becoming_exclusive_is_a_breaking_change() -> None:
    assert breaking_changes(number(minimum=0), number(exclusiveMinimum=0))


def test_an_exclusive_minimum_becoming_inclusive_is_compatible() -> None:
    assert breaking_changes(number(exclusiveMinimum=0), number(minimum=0)) == []


def test_a_lowered_maximum_is_a_breaking_change_and_a_raised_one_is_not() -> None:
    assert breaking_changes(number(maximum=10), number(maximum=9))
    assert breaking_changes(number(maximum=10), number(maximum=11)) == []


def test_a_shorter_max_length_or_a_new_pattern_is_a_breaking_change() -> None:
    assert breaking_changes(text(maxLength=50), text(maxLength=20))
    assert breaking_changes(text(), text(pattern="^[0-9]+$"))
    assert breaking_changes(text(maxLength=20), text(maxLength=50)) == []


def test_a_raised_min_length_is_a_breaking_change() -> None:
    assert breaking_changes(text(minLength=1), text(minLength=2))
