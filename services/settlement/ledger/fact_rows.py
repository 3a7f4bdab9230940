"""The fact log's row codec: one fact as a JSON array ``[name, field values in the fact's field order]``.

A fact type's codec is derived once from its dataclass (fact_types.py holds one per fact type): the
field order is the dataclass's, dates travel as ISO text and nested values (approved items) as
arrays, found from the field annotations. A field added to a fact goes last, with a default: rows
logged before it existed are shorter, and decode with that default.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import astuple, fields, is_dataclass
from datetime import date
from types import UnionType
from typing import Any, Generic, TypeVar, Union, get_args, get_origin, get_type_hints

F = TypeVar("F")


class FactRowCodec(Generic[F]):
    """How facts of one type are written to and read from the fact log."""

    def __init__(self, name: str, fact: type[F]) -> None:
        self.name = name
        self.fact = fact
        self.fields: tuple[str, ...] = tuple(field.name for field in fields(fact))  # type: ignore[arg-type]
        """The row's columns after the name, in order: the fact's fields."""
        hints = get_type_hints(fact)
        self._nested = [index for index, name in enumerate(self.fields, 1) if _tuple_of(hints[name])]
        """Where nested facts (approved items) sit in a row: written as arrays."""
        self.decode: Callable[[list[Any]], F] = self._decoder()
        """The fact of a parsed row (``json.loads`` of its text); the row list is reused."""

    def encode(self, fact: F) -> str:
        """One fact as its log text: dates as ISO strings, nested values as arrays."""
        # The row ``astuple`` would make (nested facts as arrays), without its deep copy of every value.
        values = fact.__dict__
        row: list[Any] = [self.name, *[values[name] for name in self.fields]]
        for index in self._nested:
            row[index] = [astuple(value) for value in row[index]]
        return _ENCODE(row)

    def _decoder(self) -> Callable[[list[Any]], F]:
        kind, names = self.fact, self.fields
        hints = get_type_hints(kind)
        days = [index for index, name in enumerate(names, 1) if _holds(hints[name], date)]
        nested = [
            (index, _values_of(inner))
            for index, name in enumerate(names, 1)
            if (inner := _tuple_of(hints[name]))
        ]
        width, from_iso, new = len(names) + 1, date.fromisoformat, object.__new__

        def decode(row: list[Any]) -> F:
            for index in days:
                if index < len(row) and (day := row[index]) is not None:
                    row[index] = from_iso(day)
            for index, value_of in nested:
                row[index] = tuple(map(value_of, row[index]))
            if len(row) != width:  # logged before a field was added: the constructor fills its default
                return kind(*row[1:])
            # A complete row: the frozen value without its __init__, which sets each field through
            # object.__setattr__ (half the cost of a replay's reading). The same object, field for field.
            fact = new(kind)
            fact.__dict__.update(zip(names, row[1:], strict=True))
            return fact

        return decode


def _values_of(kind: type) -> Callable[[list[Any]], Any]:
    """How a nested value (an approved item) is made from its array: without its __init__ when complete,
    as the facts above."""
    names = tuple(field.name for field in fields(kind))
    new = object.__new__

    def value_of(values: list[Any]) -> Any:
        if len(values) != len(names):
            return kind(*values)
        value: Any = new(kind)
        value.__dict__.update(zip(names, values, strict=True))
        return value

    return value_of


def _holds(hint: Any, wanted: type) -> bool:
    """Whether a field annotated ``hint`` holds a ``wanted`` (``date`` or ``date | None``)."""
    if get_origin(hint) in (Union, UnionType):
        return wanted in get_args(hint)
    return hint is wanted


def _tuple_of(hint: Any) -> type | None:
    """The dataclass a ``tuple[X, ...]`` field holds, or None."""
    if get_origin(hint) is tuple:
        inner = get_args(hint)[0]
        if isinstance(inner, type) and is_dataclass(inner):
            return inner
    return None


def _iso(value: object) -> str:
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not a fact field")


_ENCODE = json.JSONEncoder(ensure_ascii=False, default=_iso).encode
"""``json.dumps(row, ensure_ascii=False, default=_iso)``, its encoder built once."""
