"""Children's assistance places 救助名额 per area and year, counted when 区残联办 approves.

The numbers are the task numbers of the pack's policies (deploy/jurisdictions/<name>/policies/, read
through kernel/reference). A minimum task number 最低任务数 (Anyang 2021:
应救尽救) never refuses a child: the use above it is reported. Where a policy sets a hard cap, an
approval that would take a place beyond it is refused with a reason; the application keeps waiting for a
decision (待区残联办审批), so it can be approved once the federation raises the number, or be refused item
by item.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kernel.domain.rejections import StateConflict
from services.approval.events import ApplicationApproved
from services.approval.labels import items_text

if TYPE_CHECKING:
    from services.approval.domain import Application
    from services.approval.events import ItemApproval


@dataclass(frozen=True)
class QuotaUse:
    """One area's places of one year, and how many approved applications took one already."""

    area: str
    year: int
    places: int
    streets: frozenset[str]
    items: frozenset[str]
    taken: int
    minimum: bool = False
    """The number is a minimum 最低任务数 (a target), not a cap."""

    @property
    def remaining(self) -> int:
        return max(self.places - self.taken, 0)

    @property
    def above_target(self) -> int:
        """Children approved beyond the number (应救尽救: expected of a minimum, never of a cap)."""
        return max(self.taken - self.places, 0)


def takes_place(application: Application, year: int, streets: frozenset[str], items: frozenset[str]) -> bool:
    """An approved application of the area and year with an approved item that needs a place."""
    form, decision = application.submission, application.decision
    if form is None or form.application_year != year or form.street not in streets:
        return False
    if not isinstance(decision, ApplicationApproved):
        return False
    return not items.isdisjoint(approval.item for approval in decision.approved_items)


def count_taken(
    applications: Iterable[Application], year: int, streets: frozenset[str], items: frozenset[str]
) -> int:
    return sum(1 for application in applications if takes_place(application, year, streets, items))


def check_places(quota: QuotaUse | None, approvals: Sequence[ItemApproval]) -> None:
    """Refuse an approval of a place-taking item when the area's capped places of the year are all taken;
    a minimum task number never refuses (最低任务数, 应救尽救)."""
    if quota is None or quota.minimum or quota.remaining > 0:
        return
    needing = sorted({approval.item for approval in approvals} & quota.items)
    if not needing:
        return
    raise StateConflict(
        f"{quota.area} {quota.year} 年残疾儿童康复救助名额 {quota.places} 名已满"
        f"（已批准 {quota.taken} 名），不能再批准{items_text(needing)}："
        "此申请仍待区残联办审批，待名额调增后再批准，或对该项目不予批准",
        field="approved_items",
        code="approval.approved_items.over_quota",
    )
