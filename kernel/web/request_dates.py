"""A date in a request is written ``YYYY-MM-DD``, in every service's body, query and path.

pydantic reads a ``date`` field leniently: a number as seconds since 1970 (``"registered_on": 1741996800``
was stored as 2025-03-15, ``0`` as 1970-01-01) and a datetime at midnight as its date. A clerk or a
program that sent those meant something else, so the kernel refuses them, naming the field, before the
route runs. The places a route takes a date are read once from its own schema (body model, query and
path parameters), so no service's schema has to say it.
"""

from __future__ import annotations

import re
import types
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, Union, get_args, get_origin

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import BaseModel

__all__ = ["DATE_FORMAT_MESSAGE", "DatePlaces", "body_date_errors", "date_places", "loose_dates"]

ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
DATE_FORMAT_MESSAGE = "应为日期，写作 YYYY-MM-DD（如 2025-03-15），不能是数字，也不能带时间"
PLACES_ATTRIBUTE = "rehab_date_places"

ANY_ITEM = "*"
"""In a path of the body: every item of a list (or every value of a mapping)."""

Path = tuple[str, ...]


@dataclass(frozen=True)
class DatePlaces:
    """Where a route takes dates: paths in its JSON body, names of its query and path parameters."""

    body: tuple[Path, ...] = ()
    query: frozenset[str] = frozenset()
    path: frozenset[str] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.body or self.query or self.path)


def date_places(route: APIRoute) -> DatePlaces:
    """The route's date places, worked out once and kept on it (like its query parameters)."""
    places: DatePlaces | None = getattr(route, PLACES_ATTRIBUTE, None)
    if places is None:
        body_field = route.body_field
        body = tuple(_paths(body_field.field_info.annotation, frozenset())) if body_field else ()
        places = DatePlaces(
            body=body,
            query=frozenset(_parameters(route.dependant, "query_params")),
            path=frozenset(_parameters(route.dependant, "path_params")),
        )
        setattr(route, PLACES_ATTRIBUTE, places)
    return places


def _parameters(dependant: Dependant, kind: str) -> Iterator[str]:
    for parameter in getattr(dependant, kind):
        if any(path in ((), (ANY_ITEM,)) for path in _paths(parameter.field_info.annotation, frozenset())):
            yield parameter.alias
    for dependency in dependant.dependencies:
        yield from _parameters(dependency, kind)


def _paths(annotation: Any, seen: frozenset[type]) -> Iterator[Path]:
    """Every path at which a value of ``annotation`` holds a date (``()``: the value itself)."""
    origin = get_origin(annotation)
    arguments = get_args(annotation)
    if origin is Annotated:
        yield from _paths(arguments[0], seen)
    elif origin is Union or origin is types.UnionType:
        yield from dict.fromkeys(path for argument in arguments for path in _paths(argument, seen))
    elif isinstance(origin, type):
        yield from _item_paths(origin, arguments, seen)
    elif (
        isinstance(annotation, type) and issubclass(annotation, date) and not issubclass(annotation, datetime)
    ):
        yield ()
    elif isinstance(annotation, type) and issubclass(annotation, BaseModel) and annotation not in seen:
        for name, field in annotation.model_fields.items():
            key = field.alias or name
            yield from ((key, *path) for path in _paths(field.annotation, seen | {annotation}))


def _item_paths(container: type, arguments: tuple[Any, ...], seen: frozenset[type]) -> Iterator[Path]:
    """The date paths of a list's items or a mapping's values."""
    if issubclass(container, Mapping):
        items = arguments[-1:]
    elif issubclass(container, Sequence | set | frozenset) and not issubclass(container, str | bytes):
        items = tuple(argument for argument in arguments if argument is not Ellipsis)
    else:
        return
    for item in items:
        yield from ((ANY_ITEM, *path) for path in _paths(item, seen))


async def loose_dates(request: Request, route: APIRoute) -> list[dict[str, Any]]:
    """One validation error per date of the query or path not written ``YYYY-MM-DD``; [] when none.

    A date of the JSON body not written so is replaced in the parsed body (FastAPI validates it after the
    dependencies) by a value no date field takes, and its place is kept on the request: the route's own
    validation then fails there with every other error of the body, and ``body_date_errors`` says why.
    """
    places = date_places(route)
    if not places:
        return []
    errors = [
        _error(("query", name), value)
        for name, value in request.query_params.multi_items()
        if name in places.query and not ISO_DATE.fullmatch(value)
    ]
    errors += [
        _error(("path", name), value)
        for name, value in request.path_params.items()
        if name in places.path and not ISO_DATE.fullmatch(str(value))
    ]
    if places.body and _is_json(request):
        try:
            document = await request.json()  # parsed once: FastAPI has read it before the dependencies
        except ValueError:
            return errors  # the route's validation says the body is not JSON
        loose = [found for path in places.body for found in _loose(document, path, ())]
        for _where, container, key, _value in loose:
            container[key] = NOT_A_DATE
        if loose:
            request.state.loose_dates = {("body", *where): value for where, _, _, value in loose}
    return errors


NOT_A_DATE = object()
"""Put where a body's date was not written YYYY-MM-DD: no field of the route's schema takes it."""


def body_date_errors(errors: Sequence[Mapping[str, Any]], loose: Mapping[tuple[Any, ...], Any]) -> list[Any]:
    """A route's validation errors with the ones at a loose date of the body (``loose``: what
    ``loose_dates`` kept, location -> value sent) said as ``date_format``, once per date."""
    said: set[tuple[Any, ...]] = set()
    result: list[Any] = []
    for error in errors:
        location = tuple(error.get("loc", ()))
        at = next((place for place in loose if location[: len(place)] == place), None)
        if at is None:
            result.append(error)
        elif at not in said:
            said.add(at)
            result.append(_error(at, loose[at]))
    return result


Where = tuple[str | int, ...]


def _loose(value: Any, path: Path, where: Where) -> Iterator[tuple[Where, Any, Any, Any]]:
    """(where, container, key, value) of each date at ``path`` of a JSON document that is not written
    YYYY-MM-DD; a list or an object where a date belongs is left to the route's validation."""
    step, rest = path[0], path[1:]
    items: Iterable[tuple[Any, Any]]
    if step == ANY_ITEM and isinstance(value, dict):
        items = value.items()
    elif step == ANY_ITEM and isinstance(value, list):
        items = enumerate(value)
    elif isinstance(value, dict) and step in value:
        items = [(step, value[step])]
    else:
        return
    for key, item in items:
        if rest:
            yield from _loose(item, rest, (*where, key))
        elif item is not None and not isinstance(item, dict | list) and not _iso(item):
            yield (*where, key), value, key, item


def _iso(value: Any) -> bool:
    return isinstance(value, str) and ISO_DATE.fullmatch(value) is not None


def _is_json(request: Request) -> bool:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


def _error(location: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    return {"type": "date_format", "loc": location, "msg": DATE_FORMAT_MESSAGE, "input": value}
