"""The 姓名 of the persons an approval or delivery page shows: asked of the registry once per page, with
the page's purpose (console.names); a person it does not release shows as （姓名不可见）, never a UUID."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from fastapi import Request

from console.names import display_name, person_cards
from console.web import Clerk


def names_of(request: Request, clerk: Clerk, person_ids: Iterable[str], *, purpose: str) -> dict[str, str]:
    """Each person's 姓名 by their id (as the services write it), in one audited read for the page."""
    wanted = [UUID(str(person_id)) for person_id in dict.fromkeys(person_ids)]
    if not wanted:
        return {}
    cards = person_cards(request, clerk, wanted, purpose=purpose)
    return {str(person_id): display_name(cards, person_id) for person_id in wanted}
