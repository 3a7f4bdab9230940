"""序号 taken: the serial numbers each street gave its forms of a year (附件2's heading), one form per
number; the projection a new form's number is looked up in, written with each submission."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING
from uuid import UUID

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError

from kernel.store import projections
from kernel.store.store import UnitOfWork
from services.approval import tables
from services.approval.eligibility import serial_number_taken

if TYPE_CHECKING:
    from services.approval.domain import Application
    from services.approval.events import Submission

PROJECTION = "approval.serial_numbers"


def serial_number_holder(unit: UnitOfWork, form: Submission) -> UUID | None:
    """The application that already has the form's 序号 in its street and year, if one does."""
    column = tables.serial_numbers.c
    holder = unit.session.scalar(
        select(column.application_id).where(
            column.year == form.application_year,
            column.street == form.street,
            column.serial_number == form.serial_number,
        )
    )
    return UUID(holder) if holder is not None else None


def save_serial_number(unit: UnitOfWork, application_id: UUID, form: Submission) -> None:
    """Keep the form's 序号 in the submission's transaction; a concurrent form that took it first (the key)
    refuses this one as the domain would have."""
    try:
        with unit.session.begin_nested():
            unit.session.execute(insert(tables.serial_numbers).values(_row(application_id, form)))
    except IntegrityError as error:
        raise serial_number_taken(form) from error


def ensure_built(unit: UnitOfWork, every_application: Callable[[], Iterable[Application]]) -> None:
    """Build the projection from the events once (a store older than it); later calls read one row. Forms
    recorded before numbers were checked may share one: the first recorded keeps it."""

    def build() -> None:
        unit.session.execute(delete(tables.serial_numbers))
        taken: dict[tuple[int, str, str], dict[str, object]] = {}
        for application in every_application():
            form, application_id = application.submission, application.application_id
            if form is not None and application_id is not None:
                key = (form.application_year, form.street, form.serial_number)
                taken.setdefault(key, _row(application_id, form))
        if taken:
            unit.session.execute(insert(tables.serial_numbers), list(taken.values()))

    projections.build_once(unit, tables.projection_builds, PROJECTION, build)


def _row(application_id: UUID, form: Submission) -> dict[str, object]:
    return {
        "year": form.application_year,
        "street": form.street,
        "serial_number": form.serial_number,
        "application_id": str(application_id),
    }
