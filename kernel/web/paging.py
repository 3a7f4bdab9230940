"""Paging of a list that answers a bare JSON array: ``limit``/``offset`` cut it, headers say the rest.

Lists that always were arrays (``/applications``, ``/deliveries``, ``/referrals``) stay arrays, so no
caller breaks; ``X-Total-Count`` tells how many match and ``Link: <...>; rel="next"`` (RFC 8288)
where the next page starts. Newer lists answer a page object (``total``, ``limit``, ``offset``,
``items``) instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.responses import Response

Item = TypeVar("Item")

MAX_PAGE = 500
"""The largest page, and the default: a caller that asks for nothing still gets a bounded answer."""

TOTAL_HEADER = "X-Total-Count"

PAGE_HEADERS: dict[str, Any] = {
    TOTAL_HEADER: {
        "description": "How many items match the filters, on every page.",
        "schema": {"type": "integer"},
    },
    "Link": {
        "description": 'Where the next page is (`<...?limit=..&offset=..>; rel="next"`), when there is one.',
        "schema": {"type": "string"},
    },
}
"""The headers of a paged array answer, for a route's ``responses={200: {"headers": PAGE_HEADERS}}``."""

PAGED: dict[int | str, dict[str, Any]] = {200: {"headers": PAGE_HEADERS}}
"""``responses=`` of a route answering a paged array."""


def page_of(
    items: Sequence[Item], *, limit: int, offset: int, request: Request, response: Response
) -> Sequence[Item]:
    """Items ``offset`` to ``offset + limit`` of ``items``; sets the total and the next page's link."""
    total = len(items)
    response.headers[TOTAL_HEADER] = str(total)
    if offset + limit < total:
        following = request.url.include_query_params(limit=limit, offset=offset + limit)
        response.headers["Link"] = f'<{following.path}?{following.query}>; rel="next"'
    return items[offset : offset + limit]
