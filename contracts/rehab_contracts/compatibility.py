"""Finds the breaking changes between two JSON Schemas of one payload, so stored events still parse.

A change is breaking when an event valid under the old schema may be invalid under the new one,
or may mean something else: a property removed (payloads forbid unknown fields), a property whose
type changed, a property that became required, an enum value removed, or a constraint tightened
(a lower maximum, a higher minimum, a shorter maxLength, a new or changed pattern, ...).
Descriptions, examples, new optional properties, new enum values and loosened constraints are
not breaking. Schemas must not be recursive.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

Schema = Mapping[str, Any]


def breaking_changes(before: Schema, after: Schema) -> list[str]:
    """Describe each breaking change from ``before`` to ``after``; empty when compatible."""
    found: list[str] = []
    _Comparison(before, after, found).compare(before, after, "$")
    return found


class _Comparison:
    def __init__(self, before_root: Schema, after_root: Schema, found: list[str]) -> None:
        self.before_root = before_root
        self.after_root = after_root
        self.found = found

    def compare(self, before: Schema, after: Schema, path: str) -> None:
        before, after = _resolve(before, self.before_root), _resolve(after, self.after_root)
        old_kind, new_kind = _kind(before, self.before_root), _kind(after, self.after_root)
        if old_kind != new_kind:
            self.found.append(f"{path}: type changed from {old_kind} to {new_kind}")
            return
        self._compare_enum(before, after, path)
        self._compare_constraints(before, after, path)
        self._compare_properties(before, after, path)
        if "items" in before and "items" in after:
            self.compare(before["items"], after["items"], f"{path}[]")
        self._compare_alternatives(before, after, path)

    def _compare_enum(self, before: Schema, after: Schema, path: str) -> None:
        new_values = _enum_values(after)
        if new_values is None:
            return
        removed = [value for value in _enum_values(before) or [] if value not in new_values]
        if removed:
            self.found.append(f"{path}: enum values removed: {', '.join(map(str, removed))}")

    def _compare_constraints(self, before: Schema, after: Schema, path: str) -> None:
        old_low, new_low = _lower_bound(before), _lower_bound(after)
        if new_low is not None and (old_low is None or new_low > old_low):
            self.found.append(f"{path}: lower bound tightened from {_bound(old_low)} to {_bound(new_low)}")
        old_high, new_high = _upper_bound(before), _upper_bound(after)
        if new_high is not None and (old_high is None or new_high < old_high):
            self.found.append(f"{path}: upper bound tightened from {_bound(old_high)} to {_bound(new_high)}")
        for name in ("minLength", "minItems"):
            if after.get(name, 0) > before.get(name, 0):
                self.found.append(f"{path}: {name} raised from {before.get(name, 0)} to {after[name]}")
        for name in ("maxLength", "maxItems"):
            old, new = before.get(name), after.get(name)
            if new is not None and (old is None or new < old):
                self.found.append(f"{path}: {name} lowered from {old} to {new}")
        old_pattern, new_pattern = before.get("pattern"), after.get("pattern")
        if new_pattern is not None and new_pattern != old_pattern:
            self.found.append(f"{path}: pattern changed from {old_pattern!r} to {new_pattern!r}")

    def _compare_properties(self, before: Schema, after: Schema, path: str) -> None:
        old_properties = before.get("properties", {})
        new_properties = after.get("properties", {})
        for name, old in old_properties.items():
            if name not in new_properties:
                self.found.append(f"{path}.{name}: property removed")
            else:
                self.compare(old, new_properties[name], f"{path}.{name}")
        newly_required = set(after.get("required", [])) - set(before.get("required", []))
        for name in sorted(newly_required):
            what = "property became required" if name in old_properties else "new required property"
            self.found.append(f"{path}.{name}: {what}")

    def _compare_alternatives(self, before: Schema, after: Schema, path: str) -> None:
        new_arms = {_kind(arm, self.after_root): arm for arm in _alternatives(after)}
        for arm in _alternatives(before):
            kind = _kind(arm, self.before_root)
            if kind in new_arms:
                self.compare(arm, new_arms[kind], f"{path}<{kind}>")


Bound = tuple[float, int]
"""A numeric bound and how strict it is: (value, 1) excludes the value from below, (value, -1) from above."""


def _lower_bound(schema: Schema) -> Bound | None:
    bounds = [(schema["minimum"], 0)] if "minimum" in schema else []
    bounds += [(schema["exclusiveMinimum"], 1)] if "exclusiveMinimum" in schema else []
    return max(bounds) if bounds else None


def _upper_bound(schema: Schema) -> Bound | None:
    bounds = [(schema["maximum"], 0)] if "maximum" in schema else []
    bounds += [(schema["exclusiveMaximum"], -1)] if "exclusiveMaximum" in schema else []
    return min(bounds) if bounds else None


def _bound(bound: Bound | None) -> str:
    if bound is None:
        return "none"
    value, strictness = bound
    return f"{value} ({'exclusive' if strictness else 'inclusive'})"


def _resolve(schema: Schema, root: Schema) -> Schema:
    """Follow local ``$ref``s (and pydantic's single-element ``allOf`` wrapper) to the real schema."""
    while True:
        if "$ref" in schema:
            schema = root["$defs"][schema["$ref"].removeprefix("#/$defs/")]
        elif len(schema.get("allOf", ())) == 1:
            schema = schema["allOf"][0]
        else:
            return schema


def _alternatives(schema: Schema) -> list[Schema]:
    return list(schema.get("anyOf", ())) + list(schema.get("oneOf", ()))


def _enum_values(schema: Schema) -> list[Any] | None:
    if "enum" in schema:
        return list(schema["enum"])
    if "const" in schema:
        return [schema["const"]]
    return None


def _kind(schema: Schema, root: Schema) -> str:
    """A short name of what values a schema accepts, ignoring object members and enum values."""
    schema = _resolve(schema, root)
    arms = _alternatives(schema)
    if arms:
        return " | ".join(sorted({_kind(arm, root) for arm in arms}))
    kind = schema.get("type", "any")
    if isinstance(kind, list):
        kind = " | ".join(sorted(kind))
    if kind == "array":
        return f"array of {_kind(schema.get('items', {}), root)}"
    if _enum_values(schema) is not None:
        return f"enum of {kind}"
    if "format" in schema:
        return f"{kind} ({schema['format']})"
    return str(kind)
