"""Places taken 已占名额: the approved-items projection a quota is counted from, and the locks that keep
two concurrent approvals from both taking an area's last place (docs/adr/0010)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sqlalchemy import delete, func, insert, select

from kernel.reference import Quota
from kernel.store import projections
from kernel.store.store import UnitOfWork
from services.approval import tables
from services.approval.domain import Application
from services.approval.events import ApplicationApproved, Submission

PROJECTION = "approval.approved_items"


def lock_places(unit: UnitOfWork, quota: Quota) -> None:
    """Hold the area's places of the year until commit: the count read next stays true until then."""
    unit.lock(f"approval.places:{quota.area}:{quota.year}")


def lock_service_cards(unit: UnitOfWork, year: int) -> None:
    """Hold the year's service card numbers until commit: the next number read stays free until then."""
    unit.lock(f"approval.service_cards:{year}")


def save_approved_items(unit: UnitOfWork, event: ApplicationApproved, form: Submission) -> None:
    """Keep an approval's items, in the transaction that records it."""
    rows = [
        {"application_id": str(event.application_id), "item": item, "year": form.application_year,
         "street": form.street}
        for item in sorted({approval.item for approval in event.approved_items})
    ]  # fmt: skip
    if rows:
        unit.session.execute(insert(tables.approved_items), rows)


def places_taken(unit: UnitOfWork, quota: Quota) -> int:
    """Approved applications of the area and year with an item that takes a place."""
    column = tables.approved_items.c
    query = select(func.count(func.distinct(column.application_id))).where(
        column.year == quota.year,
        column.street.in_(quota.area_streets),
        column.item.in_(sorted(quota.items)),
    )
    return unit.session.scalar(query) or 0


def is_built(unit: UnitOfWork) -> bool:
    return projections.is_built(unit, tables.projection_builds, PROJECTION)


def ensure_built(unit: UnitOfWork, every_application: Callable[[], Iterable[Application]]) -> None:
    """Build the projection from the events once (a store older than it); later calls read one row."""

    def build() -> None:
        unit.session.execute(delete(tables.approved_items))
        for application in every_application():
            if isinstance(application.decision, ApplicationApproved) and application.submission is not None:
                save_approved_items(unit, application.decision, application.submission)

    projections.build_once(unit, tables.projection_builds, PROJECTION, build)
