"""Unknown query parameters are refused (422 problem+json naming each one), never silently ignored.

A mistyped filter (``?stauts=approved``) used to answer the whole unfiltered list; now the route's
declared query parameters, its dependencies' included, are the only ones it accepts.
"""

from __future__ import annotations

from fastapi import Depends, FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel

UNKNOWN_QUERY_MESSAGE = "不认识的查询参数，请删除或检查拼写"


KNOWN_ATTRIBUTE = "rehab_query_parameters"


def declared_query_parameters(route: APIRoute) -> frozenset[str]:
    """The names a route reads from the query string: its parameters' aliases, with its dependencies'.

    Worked out once per route and kept on it (a route is neither hashable nor changed after startup).
    """
    known: frozenset[str] | None = getattr(route, KNOWN_ATTRIBUTE, None)
    if known is None:
        known = _query_names(route.dependant)
        setattr(route, KNOWN_ATTRIBUTE, known)
    return known


def _query_names(dependant: Dependant) -> frozenset[str]:
    names: set[str] = set()
    for parameter in dependant.query_params:
        names.add(parameter.alias)
        model = parameter.field_info.annotation
        if isinstance(model, type) and issubclass(model, BaseModel):  # a query model: its fields
            names.update(field.alias or name for name, field in model.model_fields.items())
    for dependency in dependant.dependencies:
        names |= _query_names(dependency)
    return frozenset(names)


async def refuse_unknown_query(request: Request) -> None:
    """App-wide dependency: 422 ``request.invalid`` with one ``request.unknown_query`` entry per name."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or not request.query_params:
        return
    known = declared_query_parameters(route)
    unknown = sorted({name for name in request.query_params if name not in known})
    if unknown:
        raise RequestValidationError(
            [
                {"type": "unknown_query", "loc": ("query", name), "msg": UNKNOWN_QUERY_MESSAGE, "input": None}
                for name in unknown
            ]
        )


def install_query_check(app: FastAPI) -> None:
    """Every route added to ``app`` from now on refuses query parameters it does not declare."""
    app.router.dependencies.append(Depends(refuse_unknown_query))
