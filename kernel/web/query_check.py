"""Query parameters are taken as declared or refused (422 problem+json naming each one), never guessed.

A mistyped filter (``?stauts=approved``) used to answer the whole unfiltered list; now the route's
declared query parameters, its dependencies' included, are the only ones it accepts. A parameter that
holds one value given twice (``?limit=10&limit=20``) is refused too: the last one silently won.
"""

from __future__ import annotations

import types
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Union, get_args, get_origin

from fastapi import Depends, FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel

from kernel.web.request_dates import loose_dates

UNKNOWN_QUERY_MESSAGE = "不认识的查询参数，请删除或检查拼写"
REPEATED_QUERY_MESSAGE = "此查询参数只能给一个值，这里给了多次"


KNOWN_ATTRIBUTE = "rehab_query_parameters"


@dataclass(frozen=True)
class QueryParameters:
    """What a route reads from the query string: every name, and those that take a list."""

    names: frozenset[str]
    lists: frozenset[str] = frozenset()


def declared_query_parameters(route: APIRoute) -> QueryParameters:
    """The names a route reads from the query string: its parameters' aliases, with its dependencies'.

    Worked out once per route and kept on it (a route is neither hashable nor changed after startup).
    """
    known: QueryParameters | None = getattr(route, KNOWN_ATTRIBUTE, None)
    if known is None:
        known = _query_parameters(route.dependant)
        setattr(route, KNOWN_ATTRIBUTE, known)
    return known


def _query_parameters(dependant: Dependant) -> QueryParameters:
    names: set[str] = set()
    lists: set[str] = set()
    for parameter in dependant.query_params:
        names.add(parameter.alias)
        model = parameter.field_info.annotation
        if isinstance(model, type) and issubclass(model, BaseModel):  # a query model: its fields
            for name, field in model.model_fields.items():
                names.add(field.alias or name)
                if takes_a_list(field.annotation):
                    lists.add(field.alias or name)
        elif takes_a_list(model):
            lists.add(parameter.alias)
    for dependency in dependant.dependencies:
        inner = _query_parameters(dependency)
        names |= inner.names
        lists |= inner.lists
    return QueryParameters(frozenset(names), frozenset(lists))


_LISTS = (list, set, frozenset, tuple, Sequence)


def takes_a_list(annotation: Any) -> bool:
    """True for ``list[str]``, ``list[str] | None``, ``Annotated[set[int], ...]``: a parameter given as
    many times as it has values."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return takes_a_list(get_args(annotation)[0])
    if origin is Union or origin is types.UnionType:
        return any(takes_a_list(argument) for argument in get_args(annotation))
    candidate = origin or annotation
    return (
        isinstance(candidate, type)
        and issubclass(candidate, _LISTS)
        and not issubclass(candidate, (str, bytes))  # text is a sequence too, a StrEnum's included
    )


async def refuse_unknown_query(request: Request) -> None:
    """App-wide dependency: 422 ``request.invalid`` with one ``request.unknown_query`` entry per unknown
    name and one ``request.repeated_query`` per single-valued parameter given more than once."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    dates = await loose_dates(request, route)  # here, not a dependency of its own: each costs ~0.05 ms
    if not request.query_params:
        if dates:
            raise RequestValidationError(dates)
        return
    known = declared_query_parameters(route)
    given = Counter(name for name, _ in request.query_params.multi_items())
    unknown = sorted(name for name in given if name not in known.names)
    repeated = sorted(
        name for name, times in given.items() if times > 1 and name in known.names and name not in known.lists
    )
    if unknown or repeated or dates:
        raise RequestValidationError(
            [_error("unknown_query", name, UNKNOWN_QUERY_MESSAGE) for name in unknown]
            + [_error("repeated_query", name, REPEATED_QUERY_MESSAGE) for name in repeated]
            + dates
        )


def _error(kind: str, name: str, message: str) -> dict[str, Any]:
    return {"type": kind, "loc": ("query", name), "msg": message, "input": None}


def install_query_check(app: FastAPI) -> None:
    """Every route added to ``app`` from now on refuses query parameters it does not declare, and a
    single-valued one given twice."""
    app.router.dependencies.append(Depends(refuse_unknown_query))
