"""Find the string fields of an OpenAPI document that accept text of any length."""

from __future__ import annotations

import re
from typing import Any

BOUNDED_FORMATS = {"date", "date-time", "time", "uuid", "binary"}
_BOUNDED_PATTERN = re.compile(r"\{\d*,?\d+\}\$$")


def unbounded_strings(spec: dict[str, Any], *, query: bool = True) -> list[str]:
    """`<METHOD> <path> <field>` of each request-body field (and query parameter) without a bound."""
    components = spec.get("components", {}).get("schemas", {})
    found: list[str] = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            for content in operation.get("requestBody", {}).get("content", {}).values():
                _walk(content.get("schema", {}), components, where, frozenset(), found)
            for parameter in operation.get("parameters", []) if query else []:
                _walk(
                    parameter.get("schema", {}),
                    components,
                    f"{where} ?{parameter['name']}",
                    frozenset(),
                    found,
                )
    return found


def _walk(
    schema: dict[str, Any], components: dict[str, Any], where: str, seen: frozenset[str], found: list[str]
) -> None:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name not in seen:
            _walk(components[name], components, where, seen | {name}, found)
        return
    for key in ("anyOf", "oneOf", "allOf"):
        for choice in schema.get(key, []):
            _walk(choice, components, where, seen, found)
    for name, field in schema.get("properties", {}).items():
        _walk(field, components, f"{where} {name}".replace("  ", " "), seen, found)
    if schema.get("type") == "array":
        _walk(schema.get("items", {}), components, where, seen, found)
    if schema.get("type") == "string" and not _bounded(schema):
        found.append(where)


def _bounded(schema: dict[str, Any]) -> bool:
    if {"maxLength", "enum", "const"} & set(schema) or schema.get("format") in BOUNDED_FORMATS:
        return True
    return bool(_BOUNDED_PATTERN.search(schema.get("pattern", "")))
