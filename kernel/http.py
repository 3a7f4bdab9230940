"""Annotations every service's HTTP API shares: runtime, jurisdiction, street filter, page parameters."""

from typing import Annotated

from fastapi import Depends, Query, Request

from kernel.domain.rejections import CommandRejected
from kernel.reference import Jurisdiction
from kernel.runtime import ServiceRuntime, runtime_of

Runtime = Annotated[ServiceRuntime, Depends(runtime_of)]
"""The runtime (store, relay, consumer) of the service answering the request."""

MAX_QUERY_TEXT = 100
"""Longest text a query parameter may carry (a street, community or institution id is far shorter)."""

Limit = Annotated[int, Query(ge=1, le=500, description="Page size.")]
MAX_OFFSET = 1_000_000_000
"""Past any real list, and within every database's integer range (a larger offset was a 500)."""
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Rows to skip.")]


def jurisdiction_of(request: Request) -> Jurisdiction:
    """The jurisdiction (streets, designated institutions) the service was started for."""
    jurisdiction: Jurisdiction = request.app.state.jurisdiction
    return jurisdiction


Area = Annotated[Jurisdiction, Depends(jurisdiction_of)]


def street_filter(
    area: Area,
    street: Annotated[
        str | None, Query(max_length=MAX_QUERY_TEXT, description="Street 街道 of the jurisdiction.")
    ] = None,
) -> str | None:
    """A street to filter by; a street the jurisdiction does not have is an error, not an empty list."""
    if street is not None and street not in area.streets:
        raise CommandRejected(
            f"“{street}”不是本辖区的街道；可选：{'、'.join(area.streets)}",
            field="street",
            code="street.outside_jurisdiction",
        )
    return street


Street = Annotated[str | None, Depends(street_filter)]
"""An optional ``?street=`` query parameter, checked against the jurisdiction's streets."""
